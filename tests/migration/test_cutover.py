"""`cutover`: the announcement pinned in every bridged channel, @everyone read-only on Discord
while Matrix messages still arrive there, `--undo` restoring the exact overwrites; refused
before anything changes where the bot lacks a permission, and for non-admins.

One bridge and one guild for the module. The bot is invited as the README says, plus Manage
Roles and Manage Channels (what `--read-only` needs), and is no administrator: overwrites bind
it as they bind a real bot.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from mautrix.api import Method
from mautrix.api import Path as ApiPath

from bridge.app import Bridge
from bridge.config import load_config
from bridge.doctor.discord_checks import INVITE_PERMISSIONS
from bridge.migration.cutover_checks import READ_ONLY_DENY
from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.faults import FaultSettings
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Message, Store
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.commands.conftest import Chat, open_chat
from tests.fixtures.community import SERVER, eventually
from tests.fixtures.discord import validated_responses
from tests.fixtures.inprocess import overrides_to_environ

pytestmark = pytest.mark.slow

BOT_PERMISSIONS = INVITE_PERMISSIONS | perms.MANAGE_ROLES | perms.MANAGE_CHANNELS
# #news's own @everyone overwrite, to be put back bit for bit.
NEWS_ALLOW = perms.SEND_MESSAGES | perms.EMBED_LINKS
NEWS_DENY = perms.MENTION_EVERYONE | perms.ADD_REACTIONS
NOTE = "We meet on Matrix from today: see you there!"


@dataclass
class Place:
    """The module's guild, its bridge, and a chat with the bot for an admin and a user."""

    store: Store
    store_faults: FaultSettings
    bridge: Bridge
    guild_id: int
    bot_id: int
    users: dict[str, int]
    channels: dict[str, int]
    admin: MatrixTestClient
    admin_chat: Chat
    user_chat: Chat

    @property
    def tables(self) -> Any:
        assert self.bridge.database is not None
        return self.bridge.database.tables

    def everyone(self, channel: str) -> dict[str, Any] | None:
        """@everyone's overwrite of a channel in the emulator, as Discord stores it."""
        overwrites = self.store.get_channel(self.channels[channel]).permission_overwrites
        return next((o for o in overwrites if int(o["id"]) == self.guild_id), None)

    def from_bot(self, channel: str) -> list[Message]:
        history = self.store.history(self.channels[channel], limit=50)
        return [m for m in history if m.author_id == self.bot_id and m.type == 0]


@dataclass
class Built:
    guild_id: int
    bot_id: int
    application_id: int
    token: str
    users: dict[str, int]
    channels: dict[str, int]


def build_guild(store: Store) -> Built:
    """The guild: #general (no overwrite), the Community category holding #news (its own
    @everyone overwrite) and the forum #help; alice (an administrator) and carol."""
    owner = store.create_user("owner", global_name="Guild Owner")
    bot, application, token = store.create_bot("Matrix Bridge")
    guild = store.create_guild("Cutover Guild", owner.id)
    store.add_member(guild.id, bot.id, bot_permissions=BOT_PERMISSIONS)
    admin_role = store.create_role(guild.id, "Admin", permissions=perms.ADMINISTRATOR).id
    users = {}
    for name, roles in (("alice", [admin_role]), ("carol", [])):
        users[name] = store.create_user(name, global_name=name.title()).id
        store.add_member(guild.id, users[name], roles=roles)
    category = store.create_channel(guild.id, "Community", 4, position=0).id
    channels = {"general": guild.channel_ids[0], "Community": category}
    channels["news"] = store.create_channel(
        guild.id,
        "news",
        parent_id=category,
        position=0,
        permission_overwrites=[{"id": guild.id, "type": 0, "allow": NEWS_ALLOW, "deny": NEWS_DENY}],
    ).id
    channels["help"] = store.create_channel(guild.id, "help", 15, parent_id=category).id
    return Built(guild.id, bot.id, application.id, token, users, channels)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def place(
    discord_emulator: DiscordEmulator,
    synapse: LocalSynapse,
    bridge_config_path: Path,
    appservice_registration: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Place]:
    store = discord_emulator.store
    tag = secrets.token_hex(3)
    admin_id, user_id = (f"@{name}_{tag}:{SERVER}" for name in ("boss", "member"))
    clients = []
    with validated_responses(discord_emulator):
        built = build_guild(store)
        values = {
            "homeserver.address": synapse.url,
            "appservice.database.url": f"sqlite:{tmp_path_factory.mktemp('cutover') / 'b.db'}",
            "discord.api_url": discord_emulator.api_url,
            "discord.gateway_url": discord_emulator.gateway_url,
            "discord.cdn_url": discord_emulator.cdn_url,
            "discord.bot_token": built.token,
            "discord.application_id": built.application_id,
            "bridge.permissions": json.dumps({admin_id: "admin", user_id: "user"}),
        }
        config = load_config(
            bridge_config_path, require=("tokens", "discord"), environ=overrides_to_environ(values)
        )
        bridge = Bridge(config)
        try:
            await bridge.start()
            assert bridge.guilds is not None
            await bridge.guilds.bridge_guild(built.guild_id)
            for mxid in (admin_id, user_id):
                localpart = mxid[1:].split(":", 1)[0]
                password = secrets.token_urlsafe(12)
                _, access = await synapse.register_user(localpart, password)
                clients.append(MatrixTestClient(synapse.url, access, mxid))
            chats = [await open_chat(client) for client in clients]
            yield Place(
                store,
                discord_emulator.faults,
                bridge,
                built.guild_id,
                built.bot_id,
                built.users,
                built.channels,
                clients[0],
                *chats,
            )
        finally:
            for client in clients:
                await client.close()
            await bridge.stop()


async def cached_overwrite_of_bot(place: Place, denies_manage_roles: bool) -> None:
    """Wait until the bridge's discord.py cache shows the bot's own overwrite in #news."""

    async def seen() -> bool | None:
        assert place.bridge.discord is not None
        channel = place.bridge.discord.get_channel(place.channels["news"])
        guild = place.bridge.discord.get_guild(place.guild_id)
        assert channel is not None and guild is not None and guild.me is not None
        denied = channel.overwrites_for(guild.me).manage_roles is False  # type: ignore[union-attr]
        return True if denied == denies_manage_roles else None

    await eventually(seen, "the bot's overwrite in #news, as the bridge sees it")


def nothing_changed(place: Place) -> None:
    assert place.everyone("general") is None
    assert place.everyone("news") == {
        "id": str(place.guild_id),
        "type": 0,
        "allow": str(NEWS_ALLOW),
        "deny": str(NEWS_DENY),
    }
    assert place.everyone("help") is None
    assert place.from_bot("general") == place.from_bot("news") == []


async def test_a_non_admin_is_refused(place: Place) -> None:
    reply = await place.user_chat.command(f"cutover {place.guild_id} --read-only")
    assert reply["body"].startswith("You may not use `cutover`: it needs the `admin` level")
    nothing_changed(place)
    assert await place.tables.cutovers.get(place.guild_id) is None


async def test_refused_where_the_bot_lacks_manage_roles(place: Place) -> None:
    news = place.store.get_channel(place.channels["news"])
    before = [dict(o) for o in news.permission_overwrites]
    bot_denied = {"id": place.bot_id, "type": 1, "allow": 0, "deny": perms.MANAGE_ROLES}
    place.store.update_channel(news.id, permission_overwrites=[*before, bot_denied])
    await cached_overwrite_of_bot(place, denies_manage_roles=True)
    try:
        reply = await place.admin_chat.command(
            f'cutover {place.guild_id} --read-only --message "{NOTE}"'
        )
        body = reply["body"]
        assert body.startswith(
            f"⚠️ Cut-over of **Cutover Guild** ({place.guild_id}) refused; nothing was changed. "
            "The Discord bot lacks permissions it needs in 1 channel:"
        ), body
        assert f"- **#news** ({news.id}): Manage Permissions (Manage Roles)\n" in body
        assert f"send `cutover {place.guild_id} --read-only` again" in body
        place.store.update_channel(news.id, permission_overwrites=before)
        nothing_changed(place)
        assert await place.tables.cutovers.get(place.guild_id) is None
        assert await place.tables.cutover_overwrites.find() == []
    finally:
        place.store.update_channel(news.id, permission_overwrites=before)
    await cached_overwrite_of_bot(place, denies_manage_roles=False)


async def test_read_only_cutover_then_undo(place: Place) -> None:
    # The community gave its space an address of its own: the announcement names that one
    # (the bridge's #discord_<id> goes at unbridge).
    alias = f"#cutover-guild:{SERVER}"
    guild_row = await place.tables.guilds.get(place.guild_id)
    await place.admin.join(guild_row.space_room_id)  # Synapse: only members make aliases
    await place.admin.api.api.request(
        Method.PUT, ApiPath.v3.directory.room[alias], {"room_id": guild_row.space_room_id}
    )
    reply = await place.admin_chat.command(
        f'cutover {place.guild_id} --read-only --message "{NOTE}"'
    )
    body = reply["body"]
    assert body.startswith(
        f"Cut over **Cutover Guild** ({place.guild_id}) to Matrix: announcement posted in 2 "
        "channels, pinned in 2; 3 channels made read-only for @everyone"
    ), body
    assert f"`cutover {place.guild_id} --undo`" in body

    # Each text channel: the announcement, from the bot, pinned, with the address and the note.
    for name in ("general", "news"):
        [announcement] = place.from_bot(name)
        assert announcement.pinned and announcement.webhook_id is None
        assert announcement.content.startswith("📢 **Cutover Guild is moving to Matrix.**")
        assert NOTE in announcement.content
        assert f"`{alias}`" in announcement.content
        assert f"<https://matrix.to/#/{alias}>" in announcement.content
        assert announcement.content.count("matrix.to") == 1
        assert "now **read-only** on Discord" in announcement.content
        assert len(announcement.content) <= 2000
        pinned = place.store.pinned_messages(place.channels[name])
        assert [m.id for m in pinned] == [announcement.id]
    assert place.store.history(place.channels["help"], limit=5) == []  # forums: none

    # @everyone may no longer write; the other bits of #news's overwrite are kept.
    assert place.everyone("general") == {
        "id": str(place.guild_id),
        "type": 0,
        "allow": "0",
        "deny": str(READ_ONLY_DENY),
    }
    news = place.everyone("news")
    assert news is not None
    assert int(news["allow"]) == perms.EMBED_LINKS
    assert int(news["deny"]) == NEWS_DENY | READ_ONLY_DENY
    assert int(place.everyone("help")["deny"]) == READ_ONLY_DENY  # type: ignore[index]
    for name in ("general", "news"):
        carol = perms.channel_permissions(place.store, place.channels[name], place.users["carol"])
        assert not carol & perms.SEND_MESSAGES
        assert not carol & perms.SEND_MESSAGES_IN_THREADS
    remembered = {
        row.channel_id: (row.existed, row.allow, row.deny)
        for row in await place.tables.cutover_overwrites.find("guild_id = $1", place.guild_id)
    }
    assert remembered == {
        place.channels["general"]: (False, 0, 0),
        place.channels["news"]: (True, NEWS_ALLOW, NEWS_DENY),
        place.channels["help"]: (False, 0, 0),
    }
    cut = await place.tables.cutovers.get(place.guild_id)
    assert (cut.read_only, cut.message, cut.undone_at) == (True, NOTE, None)

    # Matrix users keep writing: the room stays writable, and their messages reach Discord.
    room = (await place.tables.portals.get(place.channels["general"])).room_id
    space = (await place.tables.guilds.get(place.guild_id)).space_room_id
    await place.admin.join(space)
    await place.admin.join(room)
    levels = await place.admin.state_event(room, "m.room.power_levels")
    assert levels.get("events_default", 0) == 0
    await place.admin.send_text(room, "still here, from Matrix")

    async def relayed() -> Message | None:
        history = place.store.history(place.channels["general"], limit=20)
        return next((m for m in history if m.content == "still here, from Matrix"), None)

    message = await eventually(relayed, "the Matrix message on Discord")
    assert message.webhook_id is not None
    # An administrator still writes on Discord, and reaches Matrix; the bot's announcement
    # does not (the relay skips the bot's own messages).
    place.store.create_message(place.channels["general"], place.users["alice"], "admins still can")
    await place.admin.wait_for_message(room, "admins still can", timeout=15)
    bodies = [e["content"].get("body", "") for e in await place.admin.timeline(room)]
    assert not any("moving to Matrix" in body for body in bodies)

    # Again: nothing posted twice, the remembered originals stay the first ones.
    reply = await place.admin_chat.command(f"cutover {place.guild_id} --read-only")
    assert (
        "announcement posted in 0 channels, pinned in 0; 2 channels announced already; 0 "
        "channels made read-only for @everyone" in reply["body"]
    ), reply["body"]
    assert "; 3 channels read-only already." in reply["body"], reply["body"]
    assert len(place.from_bot("general")) == 1
    again = await place.tables.cutover_overwrites.get(place.channels["news"])
    assert (again.existed, again.allow, again.deny) == (True, NEWS_ALLOW, NEWS_DENY)

    # Undo, with Discord refusing #news's overwrite once: the rest is restored, #news stays
    # remembered, and a second --undo finishes.
    news_id = place.channels["news"]
    rule = place.store_faults.fail_next(1, 403, rf"^PUT /channels/{news_id}/permissions/")
    try:
        reply = await place.admin_chat.command(f"cutover {place.guild_id} --undo")
    finally:
        if rule in place.store_faults.rules:
            place.store_faults.rules.remove(rule)
    body = reply["body"]
    assert body.startswith(
        f"Undoing the cut-over of **Cutover Guild** ({place.guild_id}) is not finished: "
        "@everyone's permissions restored in 2 channels (0 overwrites put back as before, 2 "
        "removed where there was none); 2 announcements unpinned"
    ), body
    assert "- **#news**: @everyone's overwrite: Discord answered 403 Forbidden" in body
    assert f"send `cutover {place.guild_id} --undo` again to finish" in body
    assert [row.channel_id for row in await place.tables.cutover_overwrites.find()] == [news_id]
    assert (await place.tables.cutovers.get(place.guild_id)).undone_at is None
    reply = await place.admin_chat.command(f"cutover {place.guild_id} --undo")
    assert reply["body"] == (
        f"Undid the cut-over of **Cutover Guild** ({place.guild_id}): @everyone's permissions "
        "restored in 1 channel (1 overwrite put back as before, 0 removed where there was "
        "none); 0 announcements unpinned (the messages stay in their channels)."
    ), reply["body"]
    nothing_changed_but_the_announcements = place.from_bot("general") + place.from_bot("news")
    assert len(nothing_changed_but_the_announcements) == 2
    assert not any(m.pinned for m in nothing_changed_but_the_announcements)
    for name in ("general", "news"):
        assert place.store.pinned_messages(place.channels[name]) == []
    assert place.everyone("general") is None and place.everyone("help") is None
    assert place.everyone("news") == {
        "id": str(place.guild_id),
        "type": 0,
        "allow": str(NEWS_ALLOW),
        "deny": str(NEWS_DENY),
    }
    assert await place.tables.cutover_overwrites.find() == []
    assert await place.tables.cutover_announcements.find() == []
    assert (await place.tables.cutovers.get(place.guild_id)).undone_at is not None

    reply = await place.admin_chat.command(f"cutover {place.guild_id} --undo")
    assert reply["body"].startswith(
        f"⚠️ The cut-over of **Cutover Guild** ({place.guild_id}) was undone already, on "
    ), reply["body"]
