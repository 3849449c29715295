"""Matrix → Discord through webhooks, when Discord (or the bridge) misbehaves (issue 17, items
4, 7 and 11): a kill -9 while a message is on Discord but not yet recorded, 429 storms (with
and without ``Via``) and 5xx bursts, and a webhook execute answered 204 without a body.
Every message arrives once, in order, and no "Not delivered" notice is sent for any of them.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bridge.actions.m2d.retry import RetryPolicy, backoff, retrying
from bridge.sandbox.discord.server import RecordedResponse
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.bridge import BridgeProcess, StartBridge
from tests.fixtures.community import Community, eventually
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.lounge import Lounge
from tests.reliability.shared import EXECUTE
from tests.reliability.shared import query as _query

EXECUTE_ROUTE = "POST /webhooks/{webhook_id}/{webhook_token}"
NOT_DELIVERED = "Not delivered"


def on_discord(lounge_store: Any, channel_id: int, prefix: str) -> list[str]:
    """The contents starting with ``prefix`` in the channel, oldest first."""
    history = lounge_store.history(channel_id, limit=100)
    return [m.content for m in reversed(history) if m.content.startswith(prefix)]


async def notices(viewer: MatrixTestClient, room: str) -> list[str]:
    events = await viewer.timeline(room, types=["m.room.message"])
    return [
        e["content"].get("body", "")
        for e in events
        if NOT_DELIVERED in e["content"].get("body", "")
    ]


async def _started_with_a_human(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    community: Community,
    start_bridge: StartBridge,
    make_matrix_user,  # noqa: ANN001
    database: Path,
    displayname: str,
) -> tuple[dict[str, object], int, BridgeProcess, str, MatrixTestClient]:
    """The bridge (a process) started on ``database``, and a Matrix user in the lounge's room:
    the overrides, the lounge's channel, the bridge, the room and the user."""
    overrides = {
        **sandbox_guild.bridge_overrides(),
        "homeserver.address": synapse.url,
        "bridge.guilds": f"[{community.guild_id}]",
        "appservice.database.url": f"sqlite:{database}",
    }
    channel = community.channels["lounge"]
    first = start_bridge(overrides)
    await first.wait_for_output("Bridge started as")
    room = _query(database, "SELECT room_id FROM portal WHERE discord_id = ?", channel)[0][0]
    space = _query(
        database, "SELECT space_room_id FROM guild WHERE discord_id = ?", community.guild_id
    )[0][0]
    human = await make_matrix_user(displayname=displayname)
    await human.join(space)
    await human.join(room)
    return overrides, channel, first, room, human


@pytest.fixture
async def human(lounge: Lounge, make_matrix_user) -> MatrixTestClient:  # noqa: ANN001
    user = await make_matrix_user(displayname="Marie")
    await user.join(lounge.space)
    await user.join(lounge.room)
    return user


@pytest.mark.slow
async def test_429_storms_and_a_5xx_burst_lose_and_double_nothing(
    lounge: Lounge, human: MatrixTestClient, sandbox_guild: SandboxGuild
) -> None:
    """20 messages through 2 × 503, 4 × 429 with Via and 6 × 429 without: all arrive in
    order, once, no notice; the webhook calls are the messages plus the faults, no more."""
    emulator = sandbox_guild.emulator
    executes: list[RecordedResponse] = []

    def record(answer: RecordedResponse) -> None:
        if answer.method == "POST" and answer.route == "/webhooks/{webhook_id}/{webhook_token}":
            executes.append(answer)

    # The webhook exists before the faults, so they hit only the messages.
    await human.send_text(lounge.room, "storm warm-up")
    await eventually(
        lambda: _some(on_discord(lounge.store, lounge.channel_id, "storm warm-up")), "warm-up"
    )
    emulator.recorders.append(record)
    faults = emulator.faults
    # Met in this order: discord.py itself waits 1 s then 3 s after the 503s, 0.2 s after
    # each 429 with Via, and gives up at once on one without (the bridge waits then).
    faults.fail_next(2, 503, EXECUTE)
    faults.fail_next(4, 429, EXECUTE, retry_after=0.2, via=True)
    faults.fail_next(6, 429, EXECUTE, retry_after=0.2)
    try:
        texts = [f"storm {n:02d}" for n in range(20)]
        for text in texts:
            await human.send_text(lounge.room, text)

        async def all_arrived() -> list[str] | None:
            found = on_discord(lounge.store, lounge.channel_id, "storm 0") + on_discord(
                lounge.store, lounge.channel_id, "storm 1"
            )
            return found if len(found) >= len(texts) else None

        await eventually(all_arrived, "the 20 messages on Discord", timeout=90)
    finally:
        emulator.recorders.remove(record)
        faults.clear()
    arrived = [c for c in on_discord(lounge.store, lounge.channel_id, "storm ") if c in texts]
    assert arrived == texts  # in order, none lost, none doubled
    assert not faults.rules  # every fault was met
    statuses = [answer.status for answer in executes]
    assert statuses.count(429) >= 10 and statuses.count(503) == 2
    # Each request is a message or a fault (a real rate limit at most adds a few): no loop.
    assert len(executes) <= len(texts) + 12 + 5, statuses
    assert not await notices(lounge.viewer, lounge.room)
    metrics = lounge.bridge.metrics
    assert metrics.delivery_retries.labels("rate_limited")._value.get() >= 6


@pytest.mark.slow
async def test_an_answer_without_body_is_delivered_and_later_edits_follow(
    lounge: Lounge, human: MatrixTestClient, sandbox_guild: SandboxGuild
) -> None:
    """A webhook execute answered 204 (``wait`` ignored): no notice; its id is found, so an
    edit and a redaction reach Discord."""
    await human.send_text(lounge.room, "before the empty answer")
    await eventually(
        lambda: _some(on_discord(lounge.store, lounge.channel_id, "before the empty")), "first"
    )
    sandbox_guild.emulator.faults.fail_next(1, 204, EXECUTE)
    event_id = await human.send_text(lounge.room, "answered with nothing")
    tables = lounge.bridge.database.tables  # type: ignore[union-attr]

    async def recorded() -> int | None:
        part = await tables.message_part_by_event(lounge.room, event_id)
        return part.discord_message_id if part is not None else None

    message_id = await eventually(recorded, "the message's id found and recorded")
    assert lounge.store.messages[message_id].content == "answered with nothing"
    await human.send(
        lounge.room,
        {
            "msgtype": "m.text",
            "body": "* answered, then edited",
            "m.new_content": {"msgtype": "m.text", "body": "answered, then edited"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        },
    )

    async def edited() -> bool | None:
        message = lounge.store.messages.get(message_id)
        return True if message is not None and message.content == "answered, then edited" else None

    await eventually(edited, "the edit on Discord")
    await human.api.redact(lounge.room, event_id)

    async def deleted() -> bool | None:
        return True if message_id not in lounge.store.messages else None

    await eventually(deleted, "the redaction on Discord")
    assert on_discord(lounge.store, lounge.channel_id, "answered") == []
    assert not await notices(lounge.viewer, lounge.room)


async def _some(values: list[Any]) -> bool | None:
    return True if values else None


@pytest.mark.slow
async def test_a_kill_while_discord_holds_an_unrecorded_message_doubles_nothing(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    community: Community,
    start_bridge: StartBridge,
    make_matrix_user,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    """5 messages within 0.25 s; the first is on Discord but discord.py waits out the webhook
    bucket before returning it; kill -9 then. After the restart each is on Discord once."""
    emulator, store = sandbox_guild.emulator, sandbox_guild.emulator.store
    database = tmp_path / "bridge.db"
    overrides, channel, first, room, human = await _started_with_a_human(
        synapse, sandbox_guild, community, start_bridge, make_matrix_user, database, "Killed"
    )
    await human.send_text(room, "warm-up before the kill")  # the webhook exists before the window
    await eventually(
        lambda: _some(on_discord(store, channel, "warm-up before the kill")), "warm-up"
    )
    routes = emulator.rate_limits.routes
    normal = routes[EXECUTE_ROUTE]
    # One webhook call per 30 s: discord.py holds the first answer for the bucket's reset.
    routes[EXECUTE_ROUTE] = (1, 30.0)
    emulator.ratelimiter.reset()
    try:
        texts = [f"kill {n}" for n in range(5)]
        event_ids = []
        for text in texts:
            event_ids.append(await human.send_text(room, text))
        await eventually(
            lambda: _some(on_discord(store, channel, "kill 0")), "the first on Discord"
        )

        async def kept_only() -> bool | None:
            kept = _query(database, "SELECT event_id FROM matrix_inbox")
            parts = _query(database, "SELECT 1 FROM message_part WHERE event_id = ?", event_ids[0])
            return True if (event_ids[0],) in kept and not parts else None

        # On Discord, still in the inbox, not recorded: the restart relays it again (a replay).
        await eventually(kept_only, "the event kept in the inbox, its message not recorded")
        first.kill()  # SIGKILL
    finally:
        routes[EXECUTE_ROUTE] = normal
        emulator.ratelimiter.reset()
    assert on_discord(store, channel, "kill ") == ["kill 0"]
    second = start_bridge(overrides)
    await second.wait_for_output("Bridge started as")

    async def all_arrived() -> list[str] | None:
        found = on_discord(store, channel, "kill ")
        return found if len(found) >= len(texts) else None

    await eventually(all_arrived, "the 5 messages after the restart", timeout=60)

    async def all_recorded() -> bool | None:
        rows = _query(
            database, "SELECT DISTINCT event_id FROM message_part WHERE room_id = ?", room
        )
        return True if set(event_ids) <= {row[0] for row in rows} else None

    await eventually(all_recorded, "every message recorded")
    await asyncio.sleep(0)  # nothing more is sent: the inbox is empty
    assert on_discord(store, channel, "kill ") == texts  # each once, in order
    assert _query(database, "SELECT event_id FROM matrix_inbox") == []
    assert "Not sending" in second.output
    assert NOT_DELIVERED not in second.output


@pytest.mark.slow
async def test_a_stop_while_a_message_waits_out_a_429_keeps_it_for_the_next_start(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    community: Community,
    start_bridge: StartBridge,
    make_matrix_user,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    """SIGTERM while a message waits out a 429: the stop is quick, no notice, the event stays
    in the inbox; after the restart it is on Discord once."""
    store, faults = sandbox_guild.emulator.store, sandbox_guild.emulator.faults
    database = tmp_path / "bridge.db"
    overrides, channel, first, room, human = await _started_with_a_human(
        synapse, sandbox_guild, community, start_bridge, make_matrix_user, database, "Stopped"
    )
    faults.fail_next(None, 429, EXECUTE, retry_after=5)
    try:
        event_id = await human.send_text(room, "waits out a 429")
        await first.wait_for_output("Discord answered 429")
        started = time.monotonic()
        await first.stop()
        assert time.monotonic() - started < 3, first.output[-3000:]
    finally:
        faults.clear()
    assert NOT_DELIVERED not in first.output and "Relaying" in first.output
    assert "failed" not in first.output.split("Stopping the bridge")[-1]
    assert _query(database, "SELECT event_id FROM matrix_inbox") == [(event_id,)]
    second = start_bridge(overrides)
    await second.wait_for_output("Bridge started as")
    await eventually(lambda: _some(on_discord(store, channel, "waits out")), "the message")
    await asyncio.sleep(1)  # nothing more is sent
    assert on_discord(store, channel, "waits out") == ["waits out a 429"]
    assert not await notices(human, room)
    await second.stop()


def _answer(status: int, headers: dict[str, str] | None = None) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason="test", headers=headers or {})
    return discord.HTTPException(response, {"message": "test", "code": 0})  # type: ignore[arg-type]


async def test_retrying_waits_out_429_and_5xx_and_raises_a_refusal() -> None:
    """429 (its retry_after honoured) and 5xx are tried again; a 400 is raised at once."""
    answers: list[BaseException | str] = [
        _answer(429, {"Retry-After": "0.01"}),
        _answer(503),
        _answer(502),
        "posted",
    ]
    waits: list[tuple[str, float]] = []

    async def request() -> str:
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    policy = RetryPolicy(base=0.01, cap=0.05)
    assert await retrying(request, "a test", policy, lambda *wait: waits.append(wait)) == "posted"
    assert [cause for cause, _ in waits] == ["rate_limited", "server_error", "server_error"]
    answers[:] = [_answer(400), "never"]
    with pytest.raises(discord.HTTPException):
        await retrying(request, "a test", policy)
    assert answers == ["never"]


def test_backoff_is_capped_and_honours_retry_after() -> None:
    policy = RetryPolicy(base=0.5, cap=30.0, jitter=0.5)
    assert all(15.0 <= backoff(policy, attempt, None) <= 30.0 for attempt in (6, 60, 5000))
    assert 0.25 <= backoff(policy, 0, None) <= 0.5
    assert 2.0 <= backoff(policy, 0, 2.0) <= 2.1  # retry_after, plus a little jitter
    assert backoff(policy, 0, 3600.0) <= 30.0 * 1.05  # never beyond the cap
