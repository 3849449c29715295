"""Matrix → Discord relay end to end: what a Matrix user does, as Discord shows it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.store import Message
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import eventually, ghost
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow


@pytest.fixture
async def human(lounge: Lounge, make_matrix_user) -> MatrixTestClient:  # noqa: ANN001
    """A Matrix user called Marie, in the lounge."""
    client = await make_matrix_user(displayname="Marie")
    await client.join(lounge.space)
    await client.join(lounge.room)
    return client


async def discord_message(
    lounge: Lounge, predicate: Callable[[Message], bool], what: str, channel_id: int | None = None
) -> Message:
    async def check() -> Message | None:
        history = lounge.store.history(channel_id or lounge.channel_id, limit=50)
        return next((m for m in history if predicate(m)), None)

    return await eventually(check, what)


async def send_html(client: MatrixTestClient, room: str, body: str, html: str, **extra: Any) -> str:
    content = {
        "msgtype": "m.text",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        **extra,
    }
    return await client.send(room, content)


async def test_text_goes_out_through_the_webhook_as_the_user(
    lounge: Lounge, human: MatrixTestClient
) -> None:
    await send_html(human, lounge.room, "hello **there**", "hello <strong>there</strong>")
    message = await discord_message(lounge, lambda m: "there" in m.content, "marie's message")
    assert message.content == "hello **there**"
    assert message.webhook_id is not None
    assert message.webhook_name == "Marie"
    # Not echoed back into Matrix by a ghost.
    marker = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "marker")
    await lounge.event_of(marker.id)
    senders = [
        e["sender"] for e in await lounge.events() if "there" in e["content"].get("body", "")
    ]
    assert senders == [human.user_id]


async def test_pills_and_room_mentions(lounge: Lounge, human: MatrixTestClient) -> None:
    bob = lounge.user("bob")
    await send_html(
        human,
        lounge.room,
        "Bob: look @room",
        f'<a href="https://matrix.to/#/{ghost(bob)}">Bob</a>: look @room',
        **{"m.mentions": {"user_ids": [ghost(bob)], "room": True}},
    )
    message = await discord_message(lounge, lambda m: "look" in m.content, "the mention")
    assert message.content.startswith(f"<@{bob}>")
    assert message.mentions == [bob]
    # Marie has no power to notify the room: no @everyone on Discord.
    assert "@everyone" not in message.content and not message.mention_everyone


async def test_reply_edit_and_redaction(lounge: Lounge, human: MatrixTestClient) -> None:
    original = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "a question")
    target = await lounge.event_of(original.id)
    event_id = await human.send(
        lounge.room,
        {
            "msgtype": "m.text",
            "body": "an answer",
            "m.relates_to": {"m.in_reply_to": {"event_id": target}},
        },
    )
    reply = await discord_message(lounge, lambda m: "an answer" in m.content, "the reply")
    first_line = reply.content.splitlines()[0]
    assert "a question" in first_line and "Alice" in first_line
    assert f"/{lounge.channel_id}/{original.id}" in first_line

    await human.send(
        lounge.room,
        {
            "msgtype": "m.text",
            "body": "* a better answer",
            "m.new_content": {"msgtype": "m.text", "body": "a better answer"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        },
    )
    await discord_message(
        lounge, lambda m: m.id == reply.id and m.content == "a better answer", "the edit"
    )
    await human.api.redact(lounge.room, event_id)

    async def deleted() -> bool | None:
        return (
            True
            if all(m.id != reply.id for m in lounge.store.history(lounge.channel_id, limit=50))
            else None
        )

    await eventually(deleted, "the redacted message to be deleted on Discord")


async def test_an_edit_that_drops_a_chunk_keeps_the_matrix_message(
    lounge: Lounge, human: MatrixTestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = await human.send_text(lounge.room, " ".join(["word"] * 500))  # two chunks
    tables = lounge.bridge.database.tables

    async def two_chunks() -> list | None:
        rows = await tables.message_parts_by_event(lounge.room, event_id)
        return rows if len(rows) == 2 else None

    first, second = await eventually(two_chunks, "the two Discord messages of the long text")
    # Discord may announce the deletion on the gateway before it answers the request.
    assert lounge.bridge.m2d is not None
    webhooks = lounge.bridge.m2d.webhooks
    delete = webhooks.delete

    async def slow_delete(*args: Any, **kwargs: Any) -> None:
        await delete(*args, **kwargs)
        await asyncio.sleep(1)

    monkeypatch.setattr(webhooks, "delete", slow_delete)
    await human.send(
        lounge.room,
        {
            "msgtype": "m.text",
            "body": "* short",
            "m.new_content": {"msgtype": "m.text", "body": "short"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        },
    )
    await discord_message(
        lounge, lambda m: m.id == first.discord_message_id and m.content == "short", "the edit"
    )

    async def chunk_gone() -> bool | None:
        history = lounge.store.history(lounge.channel_id, limit=50)
        return True if all(m.id != second.discord_message_id for m in history) else None

    await eventually(chunk_gone, "the second chunk to be deleted on Discord")
    # Discord's MESSAGE_DELETE is handled before the marker (one queue per channel).
    marker = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "marker")
    await lounge.event_of(marker.id)
    original = await lounge.viewer.event(lounge.room, event_id)
    assert original["content"].get("body"), "the edited Matrix message was redacted"


async def test_reactions_are_the_bots_until_the_last_goes(
    lounge: Lounge, human: MatrixTestClient, make_matrix_user
) -> None:  # noqa: ANN001
    other = await make_matrix_user(displayname="Otto")
    await other.join(lounge.space)
    await other.join(lounge.room)
    message = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "react")
    target = await lounge.event_of(message.id)
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": "🎉"}}
    first = await human.send(lounge.room, reaction, "m.reaction")
    second = await other.send(lounge.room, reaction, "m.reaction")
    bot_id = lounge.bridge.discord.user.id

    def reactors() -> list[int]:
        return lounge.store.reaction_users(lounge.channel_id, message.id, "🎉")

    await eventually(lambda: _true_if(reactors() == [bot_id]), "the bot's reaction")
    await human.api.redact(lounge.room, first)
    marker = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "marker")
    await lounge.event_of(marker.id)
    assert reactors() == [bot_id]  # Otto still reacts
    await other.api.redact(lounge.room, second)
    await eventually(lambda: _true_if(reactors() == []), "the bot's reaction to go")


async def _true_if(condition: bool) -> bool | None:
    return True if condition else None


async def test_an_image_is_uploaded_to_discord(lounge: Lounge, human: MatrixTestClient) -> None:
    picture = solid_png(9, 9, 9, size=4)
    mxc = await human.api.upload_media(picture, mime_type="image/png", filename="dot.png")
    await human.send(
        lounge.room,
        {
            "msgtype": "m.image",
            "body": "dot.png",
            "url": mxc,
            "info": {"mimetype": "image/png", "size": len(picture)},
        },
    )
    message = await discord_message(lounge, lambda m: bool(m.attachments), "the image")
    assert message.attachments[0].filename == "dot.png"
    assert message.attachments[0].data == picture


async def test_a_matrix_thread_becomes_a_discord_thread(
    lounge: Lounge, human: MatrixTestClient
) -> None:
    root = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "thread root")
    root_event = await lounge.event_of(root.id)
    await human.send(
        lounge.room,
        {
            "msgtype": "m.text",
            "body": "in a thread",
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": root_event,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": root_event},
            },
        },
    )

    async def threaded() -> Message | None:
        thread_id = lounge.store.get_message(lounge.channel_id, root.id).thread_id
        if thread_id is None:
            return None
        return next(
            (m for m in lounge.store.history(thread_id, limit=10) if m.content == "in a thread"),
            None,
        )

    message = await eventually(threaded, "the message in a Discord thread")
    assert message.webhook_name == "Marie"


async def test_emote_and_a_failure_notice(lounge: Lounge, human: MatrixTestClient) -> None:
    await human.send(lounge.room, {"msgtype": "m.emote", "body": "waves"})
    await discord_message(lounge, lambda m: m.content == "*Marie* waves", "the emote")
    # Someone deletes the webhook and takes Manage Webhooks from the bridge's bot: the next
    # message cannot be delivered, and Marie is told why.
    store, guild_id = lounge.store, lounge.community.guild_id
    portal = await lounge.bridge.database.tables.portals.get(lounge.channel_id)
    assert portal is not None and portal.webhook_id is not None
    store.delete_webhook(portal.webhook_id)
    bot = lounge.bridge.discord.user.id
    for role_id in store.get_member(guild_id, bot).roles:
        store.update_role(guild_id, role_id, permissions=perms.VIEW_CHANNEL | perms.SEND_MESSAGES)
    failed = await human.send_text(lounge.room, "will not arrive")
    notice = await lounge.wait_for(
        lambda e: (
            e["content"].get("msgtype") == "m.notice" and "Not delivered" in e["content"]["body"]
        ),
        "the failure notice",
    )
    assert notice["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == failed
    assert "Manage Webhooks" in notice["content"]["body"]


async def test_a_long_message_is_redacted_only_when_its_last_piece_is_deleted(
    lounge: Lounge, human: MatrixTestClient
) -> None:
    long_text = "\n\n".join(f"paragraph {i} " + "word " * 60 for i in range(12))
    event_id = await human.send(lounge.room, {"msgtype": "m.text", "body": long_text})

    async def pieces() -> list[Message] | None:
        found = [
            m for m in lounge.store.history(lounge.channel_id, limit=50) if "paragraph" in m.content
        ]
        return found if len(found) >= 2 else None

    first, *rest = sorted(await eventually(pieces, "the pieces on Discord"), key=lambda m: m.id)
    lounge.store.delete_message(lounge.channel_id, first.id)
    marker = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "marker")
    await lounge.event_of(marker.id)
    event = await lounge.viewer.event(lounge.room, event_id)
    assert "redacted_because" not in event.get("unsigned", {})
    for piece in rest:
        lounge.store.delete_message(lounge.channel_id, piece.id)

    async def redacted() -> bool | None:
        event = await lounge.viewer.event(lounge.room, event_id)
        return True if "redacted_because" in event.get("unsigned", {}) else None

    await eventually(redacted, "the Matrix message to go with its last piece")
