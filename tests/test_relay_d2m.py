"""Discord → Matrix relay end to end: what a Discord user does, as a Matrix user sees it."""

from __future__ import annotations

import pytest

from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.store import Attachment
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import eventually, ghost
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow


async def test_text_arrives_from_the_authors_ghost_with_its_time_and_formatting(
    lounge: Lounge,
) -> None:
    message = lounge.store.create_message(
        lounge.channel_id, lounge.user("alice"), "Hello **world**"
    )
    event = await lounge.wait_for(
        lambda e: "world" in e["content"].get("body", ""), "alice's message"
    )
    assert event["sender"] == ghost(lounge.user("alice"))
    assert event["content"]["formatted_body"] == "Hello <strong>world</strong>"
    assert event["origin_server_ts"] == (message.id >> 22) + 1420070400000


async def test_mentions_become_pills_to_ghosts(lounge: Lounge) -> None:
    bob = lounge.user("bob")
    lounge.store.create_message(lounge.channel_id, lounge.user("alice"), f"hi <@{bob}>!")
    event = await lounge.wait_for(lambda e: "hi" in e["content"].get("body", ""), "the mention")
    assert f"https://matrix.to/#/{ghost(bob)}" in event["content"]["formatted_body"]
    assert event["content"]["m.mentions"]["user_ids"] == [ghost(bob)]


async def test_an_image_attachment_is_uploaded(
    lounge: Lounge, matrix_user: MatrixTestClient
) -> None:
    picture = solid_png(0, 0, 255, size=8)
    attachment = Attachment(
        lounge.store.ids.next(), "blue.png", picture, "image/png", width=8, height=8
    )
    lounge.store.create_message(
        lounge.channel_id, lounge.user("carol"), "", attachments=[attachment]
    )
    event = await lounge.wait_for(lambda e: e["content"].get("msgtype") == "m.image", "the image")
    content = event["content"]
    assert content["body"] == "blue.png"
    assert content["info"]["mimetype"] == "image/png"
    assert content["info"]["w"] == 8
    downloaded = await matrix_user.api.download_media(content["url"])
    assert downloaded == picture


async def test_reply_edit_and_delete(lounge: Lounge) -> None:
    alice, bob = lounge.user("alice"), lounge.user("bob")
    original = lounge.store.create_message(lounge.channel_id, alice, "question?")
    original_event = await lounge.event_of(original.id)
    reply = lounge.store.create_message(lounge.channel_id, bob, "answer!", reply_to=original.id)
    reply_event = await lounge.wait_for(
        lambda e: e["content"].get("body") == "answer!", "the reply"
    )
    assert reply_event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == original_event

    lounge.store.edit_message(lounge.channel_id, reply.id, content="better answer!")
    edit = await lounge.wait_for(
        lambda e: e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace", "the edit"
    )
    assert edit["content"]["m.relates_to"]["event_id"] == reply_event["event_id"]
    assert edit["content"]["m.new_content"]["body"] == "better answer!"

    lounge.store.delete_message(lounge.channel_id, original.id)

    async def redacted() -> bool | None:
        event = await lounge.viewer.event(lounge.room, original_event)
        return True if "redacted_because" in event.get("unsigned", {}) else None

    await eventually(redacted, "the deleted message to be redacted")
    assert await lounge.bridge.database.tables.message_parts_of(original.id) == []


async def test_reactions_come_and_go(lounge: Lounge) -> None:
    carol = lounge.user("carol")
    message = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "react to me")
    target = await lounge.event_of(message.id)
    lounge.store.add_reaction(lounge.channel_id, message.id, carol, "👍")
    reaction = await lounge.wait_for(
        lambda e: e["content"].get("m.relates_to", {}).get("event_id") == target,
        "the reaction",
        event_type="m.reaction",
    )
    assert reaction["sender"] == ghost(carol)
    assert reaction["content"]["m.relates_to"]["key"] == "👍"
    lounge.store.remove_reaction(lounge.channel_id, message.id, carol, "👍")

    async def gone() -> bool | None:
        event = await lounge.viewer.event(lounge.room, reaction["event_id"])
        return True if "redacted_because" in event.get("unsigned", {}) else None

    await eventually(gone, "the reaction to be redacted")


async def test_a_thread_from_a_message_is_a_matrix_thread(lounge: Lounge) -> None:
    alice, bob = lounge.user("alice"), lounge.user("bob")
    starter = lounge.store.create_message(lounge.channel_id, alice, "let's discuss")
    root = await lounge.event_of(starter.id)
    thread = lounge.store.create_thread(
        lounge.channel_id, "discussion", alice, message_id=starter.id
    )
    lounge.store.create_message(thread.id, bob, "in the thread")
    event = await lounge.wait_for(
        lambda e: e["content"].get("body") == "in the thread", "the thread message"
    )
    relation = event["content"]["m.relates_to"]
    assert relation["rel_type"] == "m.thread" and relation["event_id"] == root


async def test_pins_and_the_own_bot_are_handled(
    lounge: Lounge, sandbox_guild: SandboxGuild
) -> None:
    message = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "pin me")
    event_id = await lounge.event_of(message.id)
    lounge.store.pin(lounge.channel_id, message.id, lounge.user("bob"))

    async def pinned() -> bool | None:
        pins = await lounge.viewer.state_event(lounge.room, "m.room.pinned_events")
        return True if pins and pins.get("pinned") == [event_id] else None

    await eventually(pinned, "the pin")
    notice = await lounge.wait_for(
        lambda e: e["content"].get("msgtype") == "m.notice" and "pinned" in e["content"]["body"],
        "the pin notice",
    )
    assert notice["sender"] == ghost(lounge.user("bob"))
    # The bridge's own bot posting on Discord is not echoed back.
    own = lounge.store.create_message(lounge.channel_id, sandbox_guild.bot.id, "from the bridge")
    later = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "after")
    await lounge.event_of(later.id)
    assert await lounge.bridge.database.tables.message_parts_of(own.id) == []


async def test_order_is_kept_for_a_burst(lounge: Lounge) -> None:
    ids = [
        lounge.store.create_message(lounge.channel_id, lounge.user(name), f"burst {index}").id
        for index, name in enumerate(["alice", "bob", "carol"] * 4)
    ]
    await lounge.event_of(ids[-1])
    bodies = [
        e["content"]["body"]
        for e in await lounge.events()
        if "burst" in e["content"].get("body", "")
    ]
    assert bodies == [f"burst {index}" for index in range(12)]
