"""Transactions of any size a homeserver sends, and bodies that are not transactions (issue 17
§8 and §12): a 1.2 MB transaction (30 events of 40 KB) is accepted and relayed, and so is
what follows it; a JSON list, a JSON string or bytes that are not JSON get 400, never 500."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bridge.sandbox.discord.store import Message
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import eventually
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow

EVENTS = 30
PADDING = 40_000  # bytes of each event (an unknown content key): 30 × 40 KB > 1 MiB


@pytest.fixture
async def human(lounge: Lounge, make_matrix_user: Any) -> MatrixTestClient:
    client = await make_matrix_user(displayname="Marie")
    await client.join(lounge.space)
    await client.join(lounge.room)
    return client


async def put_transaction(
    port: int, token: str, txn_id: str, body: bytes
) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/_matrix/app/v1/transactions/{txn_id}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.put(url, data=body, headers=headers) as r,
    ):
        return r.status, await r.json(content_type=None)


async def discord_texts(lounge: Lounge, prefix: str, count: int) -> list[str]:
    async def check() -> list[Message] | None:
        found = [
            m for m in lounge.store.history(lounge.channel_id, limit=100) if prefix in m.content
        ]
        return found if len(found) >= count else None

    messages = await eventually(check, f"{count} messages {prefix!r} on Discord", timeout=60)
    return [m.content for m in sorted(messages, key=lambda m: m.id)]


async def test_a_transaction_over_one_mib_is_accepted_and_relayed_then_the_next(
    lounge: Lounge, human: MatrixTestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bridge holds a transaction (as a paused bridge would) while the user sends 30
    events of 40 KB: Synapse queues them and pushes them together, in one 1.2 MB transaction."""
    appservice = lounge.bridge.appservice
    assert appservice is not None
    sizes: list[int] = []  # bytes of each transaction pushed
    read = appservice._read_transaction_header

    async def measured(request: Any) -> tuple[str, dict[str, Any]]:
        sizes.append(request.content_length or 0)
        return await read(request)

    monkeypatch.setattr(appservice, "_read_transaction_header", measured)
    appservice.handlers_ready.clear()  # transactions wait, as for a bridge that is paused
    try:
        await human.send(lounge.room, {"msgtype": "m.text", "body": "held"})
        for n in range(EVENTS):
            content = {"msgtype": "m.text", "body": f"big {n:02d}", "pad": "x" * PADDING}
            await human.send(lounge.room, content)
    finally:
        appservice.handlers_ready.set()
    texts = await discord_texts(lounge, "big ", EVENTS)
    assert texts == [f"big {n:02d}" for n in range(EVENTS)]  # all, in order, once
    assert max(sizes) > 1024 * 1024  # they did come in one transaction over 1 MiB

    await human.send(lounge.room, {"msgtype": "m.text", "body": "after the big one"})
    assert await discord_texts(lounge, "after the big one", 1) == ["after the big one"]


NOT_TRANSACTIONS = [
    (b"[]", "M_BAD_JSON"),
    (b'[{"events": []}]', "M_BAD_JSON"),
    (b'"events"', "M_BAD_JSON"),
    (b"null", "M_BAD_JSON"),
    (b'{"events": 5}', "M_BAD_JSON"),
    (b"{not json", "M_NOT_JSON"),
    (b"\xff\xfe\x00", "M_NOT_JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "M_NOT_JSON"),  # deeper than the parser goes
]


async def test_a_body_that_is_not_a_transaction_gets_400(
    lounge: Lounge, appservice_port: int, appservice_registration_data: dict[str, Any]
) -> None:
    token = appservice_registration_data["hs_token"]
    answers = [
        await put_transaction(appservice_port, token, f"odd-{n}", body)
        for n, (body, _) in enumerate(NOT_TRANSACTIONS)
    ]
    assert [(status, answer.get("errcode")) for status, answer in answers] == [
        (400, errcode) for _, errcode in NOT_TRANSACTIONS
    ]
    ping = f"http://127.0.0.1:{appservice_port}/_matrix/app/v1/ping"
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(ping, data=b"[]") as listed:
            assert listed.status == 400
        async with session.post(ping, json={"transaction_id": "t"}) as fine:
            assert fine.status == 200
    # The bridge still relays what comes next.
    marker = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "still here")
    await lounge.event_of(marker.id)
