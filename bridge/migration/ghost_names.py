"""A linked member's ghost shows their Matrix account in its name from the moment of the link,
and drops it at the unlink (:func:`bridge.migration.identity.linked_displayname`).

Runs as a listener of :class:`~bridge.migration.links.AccountLinks`. The ghost's profile is
made again from the Discord user and, in each bridged guild, from the member (their nick is
the ghost's name in that guild's rooms); :class:`~bridge.puppet.puppets.Puppets` applies the
rule, so its usual profile sync keeps the same name. A member who never had a ghost costs
nothing: their ghost gets the right name when it is made.
"""

from __future__ import annotations

import logging

import discord

from ..convert.d2m.puppet import user_ghost_id
from ..discord.user_snapshots import member_snapshot, user_snapshot
from ..portal.guild_sync import GuildBridge
from ..puppet.puppets import Puppets
from .links import AccountLinks, LinkChange
from .members import DiscordMembers

log = logging.getLogger("bridge.migration.ghost_names")


class LinkedGhostNames:
    """Renames a member's ghost when they link or unlink a Matrix account."""

    def __init__(
        self,
        puppets: Puppets,
        guilds: GuildBridge,
        client: discord.Client,
        members: DiscordMembers,
    ) -> None:
        self.puppets, self.guilds, self.client, self.members = puppets, guilds, client, members

    def watch(self, links: AccountLinks) -> None:
        """Follow every link and unlink from now on."""
        links.listeners.append(self.on_change)

    async def on_change(self, change: LinkChange) -> None:
        """Update the ghost's global name and its name in every bridged guild's rooms.

        Raises ``discord.HTTPException`` when Discord does not know the user, and
        ``mautrix.errors.MatrixError`` when the homeserver refuses the new name (the links
        log a listener's failure; the link stands)."""
        ghost_id = user_ghost_id(change.discord_user_id)
        if await self.puppets.tables.puppets.get(ghost_id) is None:
            return  # no ghost yet
        self.puppets.forget(ghost_id)
        user = self.client.get_user(change.discord_user_id)
        if user is None:
            user = await self.client.fetch_user(change.discord_user_id)
        await self.puppets.refresh(user_snapshot(user), None, [])
        for guild in self.client.guilds:
            rooms = await self.guilds.guild_room_ids(guild.id)
            if not rooms:
                continue
            member = await self.members.member(self.client, guild.id, change.discord_user_id)
            if member is not None:
                await self.puppets.refresh(user_snapshot(member), member_snapshot(member), rooms)
        log.info(
            "The ghost of Discord user %s %s %s",
            change.discord_user_id,
            "now shows" if change.linked else "no longer shows",
            change.mxid,
        )
