"""Catching up (issue 17 §2, §3, §10): what Discord said while the bridge was not listening
arrives once, in order, after a restart or a new gateway session.

- §2: catch-up starts from the newest message that came *from* Discord, never from a newer
  webhook message that carried a Matrix message;
- §3: a non-resumable INVALID_SESSION, or an expired session, during a burst: what was sent
  until the new READY is fetched, live messages wait behind it, nothing doubled;
- §10: an odd fetched message (``"thread": null``, no author) never stops a channel's catch-up.

The recent window and orphaned messages are in ``test_catch_up_window.py``.
Each case counts sent → lost / doubled, all zeros.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bridge.app import Bridge
from tests.fixtures.community import eventually
from tests.reliability.shared import Restarts, from_matrix_on_discord, human_in

pytestmark = pytest.mark.slow


async def test_catch_up_starts_after_the_newest_discord_message_not_a_matrix_one(
    restarts: Restarts, make_matrix_user: Callable[..., Awaitable[Any]]
) -> None:
    """§2: gateway delayed, 5 Discord messages, then a Matrix message (newer, on Discord
    through the webhook), the bridge stopped: after the restart 5/5 arrive, in order, once."""
    await restarts.start()
    restarts.post("alice", "before")
    await restarts.all_arrive(["before"])
    marie = await human_in(restarts, make_matrix_user)
    restarts.hub.set_dispatch_delay(60)  # nothing reaches the bridge over the gateway
    missed = [f"missed {n}" for n in range(5)]
    for body in missed:
        restarts.post("bob", body)
    await marie.send(restarts.room, {"msgtype": "m.text", "body": "from matrix"})
    await from_matrix_on_discord(restarts, "from matrix")
    assert (await restarts.bodies())["missed 0"] == 0  # not relayed before the stop
    await restarts.stop()
    restarts.hub.set_dispatch_delay(0)

    await restarts.start()
    seen = await restarts.all_arrive(missed)
    assert [seen[body] for body in missed] == [1] * 5, f"doubled: {seen}"
    assert await restarts.order(missed) == missed
    assert seen["from matrix"] == 1  # Marie's own, never echoed by a ghost


@pytest.mark.parametrize("fault", ["invalid-session", "expired-session"])
async def test_a_new_session_during_a_burst_loses_nothing(restarts: Restarts, fault: str) -> None:
    """§3: a burst of 40 messages; after the 10th the session ends for good (a non-resumable
    INVALID_SESSION, or the connection dropped and the session expired, so the RESUME is
    refused); 20 are sent before the new READY (discord.py waits 5 s before identifying
    again), 10 right after it, live. All 40 arrive once, in order."""
    bridge = await restarts.start()
    restarts.post("alice", "warm up")
    await restarts.all_arrive(["warm up"])
    identified = restarts.hub.identify_count
    burst = [f"burst {n:02d}" for n in range(40)]
    authors = ("alice", "bob", "carol")

    async def send(bodies: range) -> None:
        for n in bodies:
            restarts.post(authors[n % 3], burst[n])
            await asyncio.sleep(0.05)

    await send(range(10))
    if fault == "invalid-session":
        assert restarts.hub.invalidate_sessions(resumable=False) == 1
    else:
        assert await restarts.hub.drop_connections(expire=True) == 1
    await send(range(10, 30))

    async def identified_again() -> bool | None:
        return True if restarts.hub.identify_count > identified else None

    await eventually(identified_again, "a new session (IDENTIFY)", timeout=30)
    await send(range(30, 40))
    seen = await restarts.all_arrive(burst, timeout=45)
    doubled = [body for body in burst if seen[body] > 1]
    assert not doubled, f"sent {len(burst)} → doubled {len(doubled)}: {doubled}"
    assert await restarts.order(burst) == burst
    assert bridge.catch_up is not None and bridge.catch_up.sessions_caught_up == 1


async def test_an_odd_fetched_message_never_stops_the_catch_up(
    restarts: Restarts, caplog: pytest.LogCaptureFixture
) -> None:
    """§10: among the messages fetched at a restart, one with ``"thread": null`` (discord.py
    cannot parse it) and one without an author (no repair can help): the first arrives
    repaired, the second is logged and skipped, the others all arrive."""
    await restarts.start()
    restarts.post("alice", "first")
    await restarts.all_arrive(["first"])
    await restarts.stop()
    bodies = ["one", "thread null", "no author", "two", "three"]
    ids = {body: restarts.post("carol", body) for body in bodies}

    def odd_pages(bridge: Bridge) -> None:
        """Discord's answers to the bridge, with the two odd messages."""
        http = bridge.discord.http
        original = http.logs_from

        async def logs_from(*args: Any, **kwargs: Any) -> Any:
            page = await original(*args, **kwargs)
            for raw in page:
                if int(raw["id"]) == ids["thread null"]:
                    raw["thread"] = None
                if int(raw["id"]) == ids["no author"]:
                    raw["author"] = None
            return page

        http.logs_from = logs_from  # type: ignore[method-assign]

    caplog.set_level(logging.WARNING, logger="bridge.relay.catch_up")
    await restarts.start(prepare=odd_pages)
    wanted = ["one", "thread null", "two", "three"]
    seen = await restarts.all_arrive(wanted)
    assert [seen[body] for body in wanted] == [1] * 4
    assert await restarts.order(wanted) == wanted
    assert seen["no author"] == 0
    assert any(
        "skipped unreadable message" in r.getMessage() and str(ids["no author"]) in r.getMessage()
        for r in caplog.records
    )
