"""Matrix → Discord under a burst: every message arrives, in order, and the bot's read receipt
ends on the last one (moved once per backlog, not once per message)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from mautrix.api import Path as MatrixPath

from bridge.actions.m2d.read_markers import ReadMarkers, room_queue
from bridge.actions.ordering import ChannelQueues
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import eventually
from tests.fixtures.lounge import Lounge


class RecordingBot:
    """Stands in for the bot's intent: remembers the read markers it was asked to set."""

    def __init__(self) -> None:
        self.marked: list[tuple[str, str]] = []

    async def mark_read(self, room_id: str, event_id: str) -> None:
        await asyncio.sleep(0)
        self.marked.append((str(room_id), str(event_id)))


async def test_a_backlog_moves_the_read_marker_once_to_its_newest_message() -> None:
    queues = ChannelQueues()
    bot = RecordingBot()
    markers = ReadMarkers(bot, queues)  # type: ignore[arg-type]
    relayed: list[str] = []

    def job(room_id: str, event_id: str) -> Any:
        async def relay() -> None:
            relayed.append(event_id)
            markers.relayed(room_id, event_id)

        return relay

    for number in range(5):  # a burst: all queued before the first is relayed
        queues.submit(room_queue("!room:x"), job("!room:x", f"$e{number}"))
    await queues.idle()
    assert relayed == [f"$e{n}" for n in range(5)]
    assert bot.marked == [("!room:x", "$e4")]
    # A message relayed on its own moves the marker at once; other rooms keep their own.
    queues.submit(room_queue("!room:x"), job("!room:x", "$e5"))
    queues.submit(room_queue("!other:x"), job("!other:x", "$o1"))
    await queues.idle()
    assert sorted(bot.marked[1:]) == [("!other:x", "$o1"), ("!room:x", "$e5")]


async def bot_receipt(client: MatrixTestClient, room: str, bot: str) -> str | None:
    """The event the bot's m.read receipt is on, as the user's sync shows it."""
    room_filter = {"rooms": [room], "timeline": {"limit": 1}}
    query = {"timeout": "0", "filter": json.dumps({"room": room_filter})}
    answer = await client._get(MatrixPath.v3.sync, query)
    ephemeral = answer.get("rooms", {}).get("join", {}).get(room, {}).get("ephemeral", {})
    for event in ephemeral.get("events", []):
        if event.get("type") != "m.receipt":
            continue
        for event_id, receipts in event["content"].items():
            if bot in (receipts.get("m.read") or {}):
                return str(event_id)
    return None


@pytest.mark.slow
async def test_a_burst_arrives_in_order_and_the_receipt_ends_on_the_last(
    lounge: Lounge, make_matrix_user
) -> None:  # noqa: ANN001
    human = await make_matrix_user(displayname="Burst")
    await human.join(lounge.space)
    await human.join(lounge.room)
    texts = [f"burst {n}" for n in range(12)]
    event_ids = await asyncio.gather(*(human.send_text(lounge.room, t) for t in texts))

    async def all_arrived() -> list[str] | None:
        history = lounge.store.history(lounge.channel_id, limit=100)
        found = [m.content for m in reversed(history) if m.content.startswith("burst ")]
        return found if len(found) == len(texts) else None

    arrived = await eventually(all_arrived, "the burst on Discord")
    # The homeserver orders concurrent sends; Discord shows them in that order, each once.
    timeline = [
        e["content"].get("body") for e in await lounge.events() if e["content"].get("body") in texts
    ]
    assert arrived == timeline
    bot = str(lounge.bridge.appservice.bot_mxid)  # type: ignore[union-attr]
    last = next(
        e["event_id"] for e in reversed(await lounge.events()) if e["content"].get("body") in texts
    )
    assert last in event_ids

    async def receipt_on_last() -> bool | None:
        return True if await bot_receipt(human, lounge.room, bot) == last else None

    await eventually(receipt_on_last, "the bot's read receipt on the last message")
