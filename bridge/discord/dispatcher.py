"""Routing Discord gateway events to the bridge's actions.

Handlers only decide what changed and hand it on; they never let an error escape into
discord.py (a failed action is logged, the gateway connection carries on).
"""

from __future__ import annotations

import logging

import discord

from ..convert.d2m.puppet import user_ghost_id
from ..convert.model import ChannelType
from ..portal.guild_sync import GuildBridge
from ..puppet.puppets import Puppets
from .user_snapshots import member_snapshot, user_snapshot

log = logging.getLogger("bridge.discord.dispatch")
FORUM_TYPES = {ChannelType.FORUM, ChannelType.MEDIA}


class DiscordDispatcher:
    """Registers itself on the discord.py client: one ``on_…`` method per event."""

    def __init__(self, client: discord.Client, guilds: GuildBridge, puppets: Puppets) -> None:
        self.client = client
        self.guilds = guilds
        self.puppets = puppets
        for name in dir(self):
            if name.startswith("on_"):
                client.event(getattr(self, name))

    # Channels, threads and the guild itself: resync the guild's space tree.

    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        self.guilds.schedule_sync(channel.guild.id)

    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        self.guilds.schedule_sync(after.guild.id)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        self.guilds.schedule_sync(channel.guild.id)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self._forum_post_changed(thread)

    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        self._forum_post_changed(after)

    async def on_thread_delete(self, thread: discord.Thread) -> None:
        self._forum_post_changed(thread)

    def _forum_post_changed(self, thread: discord.Thread) -> None:
        """Forum posts are rooms; threads of text channels are not (they are Matrix threads)."""
        parent = thread.parent
        if parent is not None and parent.type.value in FORUM_TYPES:
            self.guilds.schedule_sync(thread.guild.id)

    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        self.guilds.schedule_sync(after.id)

    async def on_guild_emojis_update(
        self, guild: discord.Guild, before: object, after: object
    ) -> None:
        self.guilds.schedule_sync(guild.id)  # the rooms' image pack

    async def on_guild_stickers_update(
        self, guild: discord.Guild, before: object, after: object
    ) -> None:
        self.guilds.schedule_sync(guild.id)

    # Roles and members: power levels, and ghosts leaving.

    async def on_guild_role_create(self, role: discord.Role) -> None:
        self.guilds.schedule_sync(role.guild.id)

    async def on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        self.guilds.schedule_sync(after.guild.id)

    async def on_guild_role_delete(self, role: discord.Role) -> None:
        self.guilds.schedule_sync(role.guild.id)

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if before.roles != after.roles:
            self.guilds.schedule_sync(after.guild.id)
        if before.nick != after.nick or before.guild_avatar != after.guild_avatar:
            rooms = await self.guilds.guild_room_ids(after.guild.id)
            await self._refresh(after, rooms)

    async def on_member_join(self, member: discord.Member) -> None:
        """A Discord user who linked a Matrix account joins: the sync invites the account."""
        if self.puppets.links.mxid_for(member.id) is not None:
            self.guilds.schedule_sync(member.guild.id)

    async def on_user_update(self, before: discord.User, after: discord.User) -> None:
        """A global name or avatar changed: the ghost's profile follows (if it exists)."""
        await self._refresh(after, [])

    async def _refresh(self, user: discord.User | discord.Member, rooms: list[str]) -> None:
        member = member_snapshot(user) if isinstance(user, discord.Member) else None
        try:
            await self.puppets.refresh(user_snapshot(user), member, rooms)
        except Exception:
            log.exception("Could not update the ghost of %s", user.id)

    async def on_member_remove(self, member: discord.Member) -> None:
        await self._remove_ghost(member.guild.id, member.id, ban=False)

    async def on_member_ban(
        self, guild: discord.Guild, user: discord.User | discord.Member
    ) -> None:
        await self._remove_ghost(guild.id, user.id, ban=True)

    async def _remove_ghost(self, guild_id: int, user_id: int, *, ban: bool) -> None:
        rooms = await self.guilds.guild_room_ids(guild_id)
        if not rooms:
            return
        ghost_id = user_ghost_id(user_id)
        reason = "Banned on Discord" if ban else "Left the Discord server"
        try:
            if ban:
                await self.puppets.ban(ghost_id, rooms, reason)
            else:
                await self.puppets.leave(ghost_id, rooms, reason)
        except Exception:
            log.exception("Could not remove the ghost of %s from guild %s", user_id, guild_id)
        self.guilds.schedule_sync(guild_id)
