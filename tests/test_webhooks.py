"""The bridge's webhooks: one per channel, kept in the portal row, replaced when deleted."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest

from bridge.actions.m2d.webhooks import Webhooks, WebhookUnavailable
from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.store import Store
from tests.fixtures.community import eventually
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow


def webhooks_of(lounge: Lounge) -> Webhooks:
    assert lounge.bridge.database is not None
    return Webhooks(lounge.bridge.database.tables, lounge.bridge.discord)


def hooks_in(store: Store, channel_id: int) -> list[int]:
    return [hook.id for hook in store.webhooks.values() if hook.channel_id == channel_id]


async def test_one_webhook_per_channel_stored_and_reused(lounge: Lounge) -> None:
    webhooks = webhooks_of(lounge)
    first = await webhooks.get(lounge.channel_id)
    again = await webhooks.get(lounge.channel_id)
    assert again.id == first.id
    assert hooks_in(lounge.store, lounge.channel_id) == [first.id]
    assert lounge.store.webhooks[first.id].name == "Matrix"
    row = await lounge.bridge.database.tables.portals.get(lounge.channel_id)
    assert row is not None and (row.webhook_id, row.webhook_token) == (first.id, first.token)

    # After a restart (a new instance) the stored webhook is used, not a new one.
    restarted = await webhooks_of(lounge).get(lounge.channel_id)
    assert restarted.id == first.id
    assert hooks_in(lounge.store, lounge.channel_id) == [first.id]


async def test_a_lost_row_adopts_the_bots_existing_webhook(lounge: Lounge) -> None:
    """The portal row lost its webhook (e.g. a database restore): no second webhook."""
    hook = await webhooks_of(lounge).get(lounge.channel_id)
    tables = lounge.bridge.database.tables
    await tables.db.execute(
        "UPDATE portal SET webhook_id = NULL, webhook_token = NULL WHERE discord_id = $1",
        lounge.channel_id,
    )
    adopted = await webhooks_of(lounge).get(lounge.channel_id)
    assert adopted.id == hook.id
    assert hooks_in(lounge.store, lounge.channel_id) == [hook.id]
    row = await tables.portals.get(lounge.channel_id)
    assert row is not None and row.webhook_id == hook.id


async def test_concurrent_gets_create_one_webhook(lounge: Lounge) -> None:
    webhooks = webhooks_of(lounge)
    hooks = await asyncio.gather(*(webhooks.get(lounge.channel_id) for _ in range(5)))
    assert len({hook.id for hook in hooks}) == 1
    assert len(hooks_in(lounge.store, lounge.channel_id)) == 1


async def test_send_edit_delete(lounge: Lounge) -> None:
    webhooks = webhooks_of(lounge)
    sent = await webhooks.send(
        lounge.channel_id,
        content="hello from Matrix",
        username="Mallory (Matrix)",
        avatar_url="https://example.org/mallory.png",
    )
    stored = lounge.store.messages[sent.id]
    assert stored.content == "hello from Matrix"
    assert stored.webhook_name == "Mallory (Matrix)"
    assert stored.webhook_avatar_url == "https://example.org/mallory.png"
    assert webhooks.is_bridge_webhook(stored.webhook_id or 0)

    edited = await webhooks.edit(lounge.channel_id, sent.id, content="hello, edited")
    assert edited.content == "hello, edited"
    assert lounge.store.messages[sent.id].content == "hello, edited"

    await webhooks.delete(lounge.channel_id, sent.id)
    assert sent.id not in lounge.store.messages


async def test_a_webhook_deleted_on_discord_is_recreated(lounge: Lounge) -> None:
    webhooks = webhooks_of(lounge)
    old = await webhooks.get(lounge.channel_id)
    before = await webhooks.send(lounge.channel_id, content="before", username="Mallory")
    lounge.store.delete_webhook(old.id)

    picture = discord.File(io.BytesIO(b"not really a png"), filename="note.txt")
    sent = await webhooks.send(
        lounge.channel_id,
        content="after",
        username="Mallory",
        avatar_url="https://example.org/m.png",
        file=picture,
    )
    stored = lounge.store.messages[sent.id]
    assert stored.content == "after" and stored.webhook_id not in (None, old.id)
    assert stored.webhook_name == "Mallory"
    assert stored.webhook_avatar_url == "https://example.org/m.png"
    assert [a.data for a in stored.attachments] == [b"not really a png"]
    assert hooks_in(lounge.store, lounge.channel_id) == [stored.webhook_id]
    row = await lounge.bridge.database.tables.portals.get(lounge.channel_id)
    assert row is not None and row.webhook_id == stored.webhook_id
    assert webhooks.is_bridge_webhook(stored.webhook_id or 0)

    # The old webhook's message can no longer be edited through a webhook; the bot deletes it.
    with pytest.raises(discord.NotFound):
        await webhooks.edit(lounge.channel_id, before.id, content="nope")
    await webhooks.delete(lounge.channel_id, before.id)
    assert before.id not in lounge.store.messages


async def test_without_manage_webhooks_the_reason_names_the_channel(lounge: Lounge) -> None:
    store, guild_id = lounge.store, lounge.community.guild_id
    bot = lounge.bridge.discord.user
    assert bot is not None
    guild = store.get_guild(guild_id)
    role = next(r for r in guild.roles.values() if (r.tags or {}).get("bot_id") == str(bot.id))
    store.update_role(guild_id, role.id, permissions=perms.ALL & ~perms.ADMINISTRATOR)
    store.update_channel(
        lounge.channel_id,
        permission_overwrites=[{"id": bot.id, "type": 1, "deny": perms.MANAGE_WEBHOOKS}],
    )
    webhooks = webhooks_of(lounge)
    with pytest.raises(WebhookUnavailable, match="Manage Webhooks.*#lounge"):
        await webhooks.send(lounge.channel_id, content="hi", username="Mallory")
    assert hooks_in(store, lounge.channel_id) == []
    # Other channels still work.
    rules = lounge.community.channels["rules"]
    sent = await webhooks.send(rules, content="hi", username="Mallory")
    assert store.messages[sent.id].channel_id == rules


async def test_is_bridge_webhook_knows_stored_webhooks_after_load(lounge: Lounge) -> None:
    hook = await webhooks_of(lounge).get(lounge.channel_id)
    fresh = webhooks_of(lounge)
    assert not fresh.is_bridge_webhook(hook.id)  # nothing loaded yet
    await fresh.load()
    assert fresh.is_bridge_webhook(hook.id)
    assert not fresh.is_bridge_webhook(hook.id + 1)
    someone_elses = lounge.store.create_webhook(lounge.channel_id, "Other")
    assert not fresh.is_bridge_webhook(someone_elses.id)


async def test_thread_messages_go_through_the_parent_webhook(lounge: Lounge) -> None:
    store = lounge.store
    thread = store.create_thread(lounge.channel_id, "A thread", lounge.user("alice"))
    webhooks = webhooks_of(lounge)
    sent = await webhooks.send(
        lounge.channel_id, thread_id=thread.id, content="in the thread", username="Mallory"
    )
    assert store.messages[sent.id].channel_id == thread.id
    edited = await webhooks.edit(
        lounge.channel_id, sent.id, thread_id=thread.id, content="edited in the thread"
    )
    assert edited.content == "edited in the thread"

    # The thread given as the channel: its parent's webhook is used.
    async def cached() -> object:
        return lounge.bridge.discord.get_channel(thread.id)

    await eventually(cached, "the thread in discord.py's cache")
    other = await webhooks.send(thread.id, content="thread as channel", username="Mallory")
    assert store.messages[other.id].channel_id == thread.id
    assert hooks_in(store, lounge.channel_id) == [store.messages[other.id].webhook_id]
    assert hooks_in(store, thread.id) == []
    # The thread as the channel and as thread_id (a thread's own portal): the same.
    await webhooks.edit(thread.id, other.id, thread_id=thread.id, content="edited again")
    assert store.messages[other.id].content == "edited again"

    await webhooks.delete(lounge.channel_id, sent.id, thread_id=thread.id)
    assert sent.id not in store.messages


async def test_forum_posts_go_through_the_forum_webhook(lounge: Lounge) -> None:
    forum = lounge.community.channels["help"]
    post = lounge.community.posts["How to install?"]
    sent = await webhooks_of(lounge).send(
        forum, thread_id=post, content="try pip", username="Mallory"
    )
    stored = lounge.store.messages[sent.id]
    assert stored.channel_id == post
    assert hooks_in(lounge.store, forum) == [stored.webhook_id]
