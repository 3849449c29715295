"""Guild bans and kicks: REST through an unmodified discord.py, the gateway events a connected
client gets (and doesn't, without GUILD_MODERATION or BAN_MEMBERS), and the control API."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest

from bridge.sandbox.discord import errors
from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.control_client import Control, ControlError
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild, Role, Store, User
from bridge.sandbox.discord.store.base import utcnow

from .conftest import Bot
from .gateway_client import RecordingClient, connected_client
from .openapi import validate_component

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]


def member(store: Store, guild: Guild, name: str) -> User:
    """A new user who joined ``guild`` (without a join message)."""
    user = store.create_user(name)
    store.add_member(guild.id, user.id, join_message=False)
    return user


def bot_role(store: Store, guild: Guild, bot: Bot) -> Role:
    (role_id,) = store.guilds[guild.id].members[bot.user.id].roles
    return store.guilds[guild.id].roles[role_id]


def general(guild: Guild) -> int:
    assert guild.system_channel_id is not None
    return guild.system_channel_id


async def test_ban_fetch_list_unban(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild, owner: User
) -> None:
    store, channel_id = emulator.store, general(guild)
    mallory, bystander = member(store, guild, "mallory"), member(store, guild, "bystander")
    thread = store.create_thread(channel_id, "spam thread", mallory.id, content="spam")
    recent = [store.create_message(channel_id, mallory.id, f"spam {i}").id for i in range(3)]
    (old,) = store.seed_history(
        channel_id, [{"author_id": mallory.id, "timestamp": utcnow() - timedelta(days=2)}]
    )
    kept = store.create_message(channel_id, bystander.id, "not spam").id

    g = await client.fetch_guild(guild.id)
    await g.ban(discord.Object(mallory.id), reason="spam & scams", delete_message_seconds=3600)
    assert mallory.id not in store.guilds[guild.id].members
    assert all(m not in store.messages for m in recent) and {old, kept} <= set(store.messages)
    assert store.channel_messages[thread.id] == []  # the thread starter message went too

    entry = await g.fetch_ban(discord.Object(mallory.id))
    assert entry.user.id == mallory.id and entry.reason == "spam & scams"
    outsider = store.create_user("outsider")  # not a member: can be banned all the same
    await g.ban(outsider, delete_message_seconds=0)
    listed = [e async for e in g.bans()]
    assert sorted(e.user.id for e in listed) == sorted([mallory.id, outsider.id])
    first, second = sorted([mallory.id, outsider.id])
    assert [e.user.id async for e in g.bans(limit=1)] == [first]
    assert [e.user.id async for e in g.bans(after=discord.Object(first))] == [second]
    assert [e.user.id async for e in g.bans(before=discord.Object(second))] == [first]

    with pytest.raises(errors.DiscordError) as refused:  # banned: cannot join again
        store.add_member(guild.id, mallory.id)
    assert (refused.value.status, refused.value.code) == (403, 40007)

    await g.unban(discord.Object(mallory.id), reason="appeal")
    with pytest.raises(discord.NotFound) as info:
        await g.fetch_ban(discord.Object(mallory.id))
    assert info.value.code == 10026
    with pytest.raises(discord.NotFound) as info:
        await g.unban(discord.Object(mallory.id))
    assert info.value.code == 10026
    store.add_member(guild.id, mallory.id)  # welcome back
    assert mallory.id in store.guilds[guild.id].members


async def test_kick_bulk_ban_and_permissions(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild, owner: User, bot: Bot
) -> None:
    store = emulator.store
    a, b, c = (member(store, guild, n) for n in ("a", "b", "c"))
    g = await client.fetch_guild(guild.id)
    await g.kick(discord.Object(a.id), reason="bye")
    assert a.id not in store.guilds[guild.id].members and a.id not in store.guilds[guild.id].bans
    with pytest.raises(discord.NotFound) as gone:
        await g.kick(discord.Object(a.id))
    assert gone.value.code == 10007

    result = await g.bulk_ban([discord.Object(b.id), discord.Object(c.id), owner])
    assert sorted(u.id for u in result.banned) == sorted([b.id, c.id])
    assert [u.id for u in result.failed] == [owner.id]
    with pytest.raises(discord.Forbidden) as info:
        await g.bulk_ban([owner])
    assert info.value.code == 500000

    with pytest.raises(discord.Forbidden) as info:  # nobody bans the owner
        await g.ban(owner)
    assert info.value.code == 50013
    higher = member(store, guild, "moderator")
    top = store.create_role(guild.id, "Mods", permissions=perms.BAN_MEMBERS)
    store.update_member(guild.id, higher.id, roles=[top.id])
    with pytest.raises(discord.Forbidden):  # above the bot's role
        await g.ban(higher)
    with pytest.raises(discord.Forbidden):
        await g.kick(higher)

    store.update_role(guild.id, bot_role(store, guild, bot).id, permissions=0)
    for call in (
        lambda: g.ban(discord.Object(a.id)),
        lambda: g.unban(discord.Object(b.id)),
        lambda: g.fetch_ban(discord.Object(b.id)),
        lambda: g.kick(discord.Object(higher.id)),
    ):
        with pytest.raises(discord.Forbidden) as info:
            await call()
        assert info.value.code == 50013
    with pytest.raises(discord.Forbidden):
        [e async for e in g.bans()]
    assert a.id not in store.guilds[guild.id].bans


async def test_gateway_ban_events(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild, bot: Bot
) -> None:
    store, channel_id = emulator.store, general(guild)
    eve = member(store, guild, "eve")
    spam = [store.create_message(channel_id, eve.id, f"spam {i}").id for i in range(2)]
    async with connected_client(emulator, bot.token) as gw:
        g = await client.fetch_guild(guild.id)
        await g.ban(discord.Object(eve.id), delete_message_seconds=60)
        _, banned = await gw.next_event("member_ban", lambda gd, u: u.id == eve.id)
        assert isinstance(banned, discord.User)  # the member was removed first
        (removed,) = await gw.next_event("member_remove", lambda m: m.id == eve.id)
        assert removed.guild.id == guild.id
        (bulk,) = await gw.next_event("raw_bulk_message_delete")
        assert bulk.message_ids == set(spam) and bulk.channel_id == channel_id
        names = [p["t"] for p in gw.payloads if p.get("op") == 0]
        order = [n for n in names if n in ("GUILD_MEMBER_REMOVE", "GUILD_BAN_ADD")]
        assert order == ["GUILD_MEMBER_REMOVE", "GUILD_BAN_ADD"]
        assert names.index("GUILD_BAN_ADD") < names.index("MESSAGE_DELETE_BULK")
        (data,) = gw.dispatches("GUILD_BAN_ADD")
        assert data["guild_id"] == str(guild.id) and data["user"]["id"] == str(eve.id)
        validate_component("UserResponse", data["user"])

        await g.unban(discord.Object(eve.id))
        guild_seen, user = await gw.next_event("member_unban")
        assert (guild_seen.id, user.id) == (guild.id, eve.id)


async def _sentinel(store: Store, gw: RecordingClient, guild: Guild) -> None:
    """Wait for a message posted after what came before it: everything earlier has arrived."""
    probe = store.create_message(general(guild), guild.owner_id, "probe")
    await gw.next_event("message", lambda m: m.id == probe.id)


async def test_ban_events_need_moderation_intent_and_permission(
    emulator: DiscordEmulator, guild: Guild, bot: Bot
) -> None:
    store = emulator.store
    intents = discord.Intents.all()
    intents.moderation = False
    first, second = member(store, guild, "first"), member(store, guild, "second")
    async with connected_client(emulator, bot.token, intents=intents) as gw:
        store.ban_member(guild.id, first.id)
        await gw.next_event("member_remove", lambda m: m.id == first.id)
        store.unban_member(guild.id, first.id)
        await _sentinel(store, gw, guild)
        assert not gw.dispatches("GUILD_BAN_ADD") and not gw.dispatches("GUILD_BAN_REMOVE")
        assert not gw.received("member_ban") and not gw.received("member_unban")

    store.update_role(guild.id, bot_role(store, guild, bot).id, permissions=0)
    async with connected_client(emulator, bot.token) as gw:
        store.ban_member(guild.id, second.id)
        await gw.next_event("member_remove", lambda m: m.id == second.id)
        await _sentinel(store, gw, guild)
        assert not gw.dispatches("GUILD_BAN_ADD")
        store.update_role(guild.id, bot_role(store, guild, bot).id, permissions=perms.BAN_MEMBERS)
        store.unban_member(guild.id, second.id)
        await gw.next_event("member_unban", lambda gd, u: u.id == second.id)


async def test_control_api_ban(emulator: DiscordEmulator, guild: Guild, bot: Bot) -> None:
    store = emulator.store
    troll = member(store, guild, "troll")
    store.create_message(general(guild), troll.id, "only one")
    async with (
        Control(f"{emulator.base_url}/_control") as control,
        connected_client(emulator, bot.token) as gw,
    ):
        ban = await control.ban(guild.id, troll.id, reason="trolling", delete_message_seconds=600)
        assert ban == {"user": ban["user"], "reason": "trolling"}
        assert ban["user"]["id"] == str(troll.id)
        await gw.next_event("member_ban", lambda gd, u: u.id == troll.id)
        await gw.next_event("raw_message_delete")  # a single message: MESSAGE_DELETE
        listed = await control.request("GET", f"/guilds/{guild.id}/bans")
        assert [b["user"]["id"] for b in listed] == [str(troll.id)]
        with pytest.raises(ControlError) as refused:
            await control.add_member(guild.id, troll.id)
        assert (refused.value.status, refused.value.body["code"]) == (403, 40007)
        await control.unban(guild.id, troll.id)
        await gw.next_event("member_unban", lambda gd, u: u.id == troll.id)
        with pytest.raises(ControlError) as missing:
            await control.unban(guild.id, troll.id)
        assert missing.value.status == 404 and missing.value.body["code"] == 10026
        await control.add_member(guild.id, troll.id)
        await gw.next_event("member_join", lambda m: m.id == troll.id)
