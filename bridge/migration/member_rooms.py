"""A linked Matrix account in its guild's rooms: invited where its Discord roles see, with the
power level they give, following role changes, and stripped of that power on unlink.

Power levels are part of every guild sync (the linked accounts go into the desired power
levels beside their ghosts, see :func:`bridge.convert.d2m.room_state.power_levels`); this
module adds the invites, after each sync of a guild (``GuildBridge.after_sync``), and reacts to
links being made or ended (an ``AccountLinks`` listener):

- a link syncs every bridged guild the Discord user is a member of (their roles from
  discord.py's member cache, over REST when the guild is not chunked), before the link is
  confirmed; that sync gives the power and invites the account to every room it sees, even
  one it left before;
- a role change (``GUILD_MEMBER_UPDATE``), a role's or channel's permission change, or a new
  channel already schedules a sync: the account is invited to the rooms that became visible;
- an unlink removes the account's entry from the power levels of every bridged room (back to
  ``users_default``); it is not kicked.

Which rooms get an invite, and when a leaver is invited again, is decided in
:mod:`bridge.migration.linked_access`.
"""

from __future__ import annotations

import logging

import discord
from mautrix.errors import MatrixRequestError
from mautrix.types import RoomID, UserID

from ..convert.d2m.space_tree import PortalKind, space_tree
from ..convert.model import GuildSnapshot
from ..discord.user_snapshots import member_snapshot
from ..portal.apply_state import send_state
from ..portal.guild_sync import GuildBridge
from .linked_access import invite_targets, needs_invite, newly_visible, without_user
from .links import AccountLinks, LinkChange
from .members import DiscordMembers

log = logging.getLogger("bridge.migration.member_rooms")
POWER_LEVELS = "m.room.power_levels"


class LinkedMemberRooms:
    """Invites linked accounts to their rooms and takes their power back on unlink.

    Remembers, per (guild id, Discord user id), the rooms the account was to be invited to at
    the last sync (in memory: after a restart the first sync only records them).
    """

    def __init__(
        self,
        guilds: GuildBridge,
        links: AccountLinks,
        discord_client: discord.Client,
        members: DiscordMembers,
    ) -> None:
        self.guilds = guilds
        self.links = links
        self.discord = discord_client
        self.members = members  # the member cache Matrix → Discord uses too
        self._targets: dict[tuple[int, int], set[str]] = {}
        self._just_linked: set[tuple[int, int]] = set()

    def install(self) -> LinkedMemberRooms:
        """Listen to links and to guild syncs."""
        self.links.listeners.append(self.on_link_change)
        self.guilds.after_sync.append(self.after_sync)
        return self

    async def on_link_change(self, change: LinkChange) -> None:
        """An ``AccountLinks`` listener: a link syncs the member's guilds, an unlink takes the
        account's power back."""
        if change.linked:
            await self._linked(change)
        else:
            await self._unlinked(change)

    async def _linked(self, change: LinkChange) -> None:
        for guild_id in await self.guilds.bridged_guild_ids():
            guild = self.discord.get_guild(guild_id)
            if (
                guild is None
                or await self.members.member(self.discord, guild.id, change.discord_user_id) is None
            ):
                continue
            self._just_linked.add((guild_id, change.discord_user_id))
            # Awaited: the invites are out before the link is confirmed, and before the
            # listeners after this one (double puppeting joins the rooms) run.
            await self.guilds.sync(guild)

    async def _unlinked(self, change: LinkChange) -> None:
        for key in [key for key in self._targets if key[1] == change.discord_user_id]:
            del self._targets[key]
        self._just_linked = {k for k in self._just_linked if k[1] != change.discord_user_id}
        if change.mxid in self.guilds.context.room_owners:
            return  # an owner's power comes from bridge.room_owners, not from the link
        for guild_id in await self.guilds.bridged_guild_ids():
            async with self.guilds.locked(guild_id):  # not in the middle of a sync
                for room_id in await self.guilds.guild_room_ids(guild_id):
                    await self._drop_power(room_id, change.mxid)

    async def _drop_power(self, room_id: str, mxid: str) -> None:
        state = await self.guilds.state.get(room_id)
        content = without_user(state.get((POWER_LEVELS, "")), mxid)
        if content is None:
            return
        try:
            await send_state(self.guilds.bot, room_id, POWER_LEVELS, "", content)
        except MatrixRequestError as error:
            log.warning("Could not take the power of %s in %s back: %s", mxid, room_id, error)
            return
        self.guilds.state.record(room_id, POWER_LEVELS, "", content)

    async def after_sync(self, guild: discord.Guild, snapshot: GuildSnapshot) -> None:
        """Invite each linked member of the guild to the rooms they see (a
        ``GuildBridge.after_sync`` follow-up, run under the guild's lock)."""
        links = self.links.current()
        if not links:
            return
        rooms = await self._room_ids(guild.id)
        nodes = space_tree(snapshot, self.guilds.context)
        for row in links:
            key = (guild.id, row.discord_user_id)
            member = await self.members.member(self.discord, guild.id, row.discord_user_id)
            if member is None:
                self._targets.pop(key, None)
                self._just_linked.discard(key)
                continue
            targets = [
                room_id
                for node in invite_targets(snapshot, nodes, member_snapshot(member))
                if (room_id := rooms.get((node.kind is PortalKind.GUILD_SPACE, node.discord_id)))
            ]
            new = newly_visible(
                targets, self._targets.get(key), just_linked=key in self._just_linked
            )
            self._targets[key] = set(targets)
            self._just_linked.discard(key)
            for room_id in targets:
                await self._invite(room_id, row.mxid, new_to_them=room_id in new)

    async def _room_ids(self, guild_id: int) -> dict[tuple[bool, int], str]:
        """(is the guild space, Discord id) → room id: a guild's default channel made before
        2017 has the guild's id, like the space."""
        tables = self.guilds.tables
        rooms = {
            (False, row.discord_id): row.room_id
            for row in await tables.portals.find("guild_id = $1", guild_id)
            if row.room_id
        }
        guild_row = await tables.guilds.get(guild_id)
        if guild_row and guild_row.space_room_id:
            rooms[(True, guild_id)] = guild_row.space_room_id
        return rooms

    async def _invite(self, room_id: str, mxid: str, *, new_to_them: bool) -> None:
        state = await self.guilds.state.get(room_id)
        membership = state.get(("m.room.member", mxid), {}).get("membership")
        if not needs_invite(membership, new_to_them=new_to_them):
            return
        try:
            await self.guilds.bot.invite_user(RoomID(room_id), UserID(mxid))
        except MatrixRequestError as error:
            log.warning("Could not invite linked account %s to %s: %s", mxid, room_id, error)
            return
        self.guilds.state.record(room_id, "m.room.member", mxid, {"membership": "invite"})
        log.info("Invited linked account %s to %s", mxid, room_id)
