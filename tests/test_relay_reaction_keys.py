"""Reactions with emoji variation selectors, both ways (issue: `👍\\uFE0F` from Element)."""

from __future__ import annotations

import pytest

from tests.fixtures.community import eventually, ghost
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow


def _reaction(target: str, key: str) -> dict:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}


async def test_element_thumbs_up_is_one_reaction_both_ways(
    lounge: Lounge, make_matrix_user
) -> None:  # noqa: ANN001
    human = await make_matrix_user(displayname="Marie")
    other = await make_matrix_user(displayname="Otto")
    for client in (human, other):
        await client.join(lounge.space)
        await client.join(lounge.room)
    store, channel = lounge.store, lounge.channel_id
    message = store.create_message(channel, lounge.user("alice"), "vote here")
    target = await lounge.event_of(message.id)
    bot_id = lounge.bridge.discord.user.id

    # What Element's quick reaction sends, and a heart without its selector.
    thumbs = await human.send(lounge.room, _reaction(target, "👍\ufe0f"), "m.reaction")
    await human.send(lounge.room, _reaction(target, "❤"), "m.reaction")

    async def bot_reacted() -> bool | None:
        names = [r.name for r in store.messages[message.id].reactions]
        return True if names == ["👍", "❤\ufe0f"] else None

    await eventually(bot_reacted, "the bot's 👍 and ❤️ on Discord")
    # A Discord user's 👍 joins the Matrix user's key.
    carol = lounge.user("carol")
    store.add_reaction(channel, message.id, carol, "👍")
    ghost_reaction = await lounge.wait_for(
        lambda e: (
            e["sender"] == ghost(carol) and e["content"]["m.relates_to"]["event_id"] == target
        ),
        "carol's reaction on Matrix",
        event_type="m.reaction",
    )
    assert ghost_reaction["content"]["m.relates_to"]["key"] == "👍\ufe0f"
    # Another Matrix user's plain 👍 is the same emoji.
    plain = await other.send(lounge.room, _reaction(target, "👍"), "m.reaction")

    keys = {
        e["content"]["m.relates_to"]["key"]
        for e in await lounge.events("m.reaction")
        if e["content"].get("m.relates_to", {}).get("event_id") == target
    }
    assert keys == {"👍\ufe0f", "👍", "❤"}  # the Matrix users' own keys, and no other

    # The bot's reaction stays while a Matrix user still reacts, in either spelling.
    await human.api.redact(lounge.room, thumbs)
    await human.send(lounge.room, {"msgtype": "m.text", "body": "marker"})

    async def marker_relayed() -> bool | None:
        history = store.history(channel, limit=10)
        return True if any(m.content == "marker" for m in history) else None

    await eventually(marker_relayed, "the marker on Discord (after the redaction)")
    assert store.reaction_users(channel, message.id, "👍") == sorted([bot_id, carol])
    await other.api.redact(lounge.room, plain)

    async def bot_gone() -> bool | None:
        return True if store.reaction_users(channel, message.id, "👍") == [carol] else None

    await eventually(bot_gone, "the bot's 👍 to go")
