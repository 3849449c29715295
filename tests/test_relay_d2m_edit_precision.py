"""Discord edits reach Matrix one for one, told apart at Discord's full precision (µs): two
edits within the same millisecond are two edits; the same edit seen again is not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.sandbox.discord.snowflake import snowflake_time
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow


def _replaces(event: dict) -> bool:
    return event["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"


async def test_two_edits_in_the_same_millisecond_both_arrive(lounge: Lounge) -> None:
    message = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "draft")
    original = await lounge.event_of(message.id)
    created = snowflake_time(message.id)
    minute = created.replace(second=0, microsecond=0) + timedelta(minutes=1)
    first_at = minute.replace(second=12, microsecond=250100)
    second_at = minute.replace(second=12, microsecond=250900)

    lounge.store.edit_message(
        lounge.channel_id, message.id, content="first edit", edited_at=first_at
    )
    lounge.store.edit_message(
        lounge.channel_id, message.id, content="second edit", edited_at=second_at
    )
    await lounge.wait_for(
        lambda e: _replaces(e) and e["content"]["m.new_content"]["body"] == "second edit",
        "the second edit",
    )
    # The last edit seen again (a replayed update after a reconnection): nothing new is sent.
    lounge.store.resolve_embeds(lounge.channel_id, message.id, [])
    marker = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "marker")
    await lounge.event_of(marker.id)

    edits = [e for e in await lounge.events() if _replaces(e)]
    assert [e["content"]["m.relates_to"]["event_id"] for e in edits] == [original, original]
    assert [e["content"]["m.new_content"]["body"] for e in edits] == ["first edit", "second edit"]
    parts = await lounge.bridge.database.tables.message_parts_of(message.id)
    second_us = int(second_at.replace(microsecond=0).timestamp()) * 1_000_000 + 250_900
    assert [part.edited_us for part in parts] == [second_us]
