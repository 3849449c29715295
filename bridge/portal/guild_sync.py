"""Bridging a guild: its space tree in Matrix, created once and kept in step with Discord.

A sync is the same whatever triggered it (bridging, start-up, a channel or role change): take a
snapshot, compute every node's desired state, create the rooms that are missing, and send
only the state that differs. Syncs of one guild never overlap, and bursts of Discord events
(a reorder sends one CHANNEL_UPDATE per channel) are folded into one sync.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace

import discord
from mautrix.api import Method, Path
from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError
from mautrix.types import MessageType, RoomID, TextMessageEventContent

from ..convert.d2m.image_pack import PackImage, image_pack
from ..convert.d2m.room_state import (
    BridgeContext,
    PortalKind,
    PortalNode,
    creation_request,
    space_tree,
)
from ..convert.model import ChannelType, GuildSnapshot
from ..db.rows import GuildRow, PortalRow
from ..db.tables import BridgeTables
from ..discord.snapshots import guild_snapshot
from ..discord.user_snapshots import user_snapshot
from ..locks import KeyedLocks
from ..matrix.media import MediaError, MediaRepo
from ..migration.linked_access import bridge_owned, linked_mxids
from ..puppet.puppets import Puppets
from .adopt import (
    WantedRoom,
    existing_rooms,
    joined_room_ids,
    leaving_partial_room,
    record_created_room,
)
from .apply_state import apply_state, send_state
from .desired import SyncDesiredStates
from .excluded import without_excluded
from .pack_images import pack_images
from .space_alias import with_space_alias
from .space_members import asker_of, invite_to_space
from .state_cache import RoomStateCache
from .sync_watch import sync_watch

log = logging.getLogger("bridge.portal.guild")
DELETED_NOTICE = "This channel was deleted on Discord. The room stays here as an archive."
# How long to wait for more events of a burst before syncing.
DEBOUNCE_SECONDS = 0.3
# A room the bridge creates is live from before its creation by this much (ms), so that no
# event in it counts as history when the homeserver's clock is behind the bridge's.
CLOCK_SKEW_MS = 60_000


class GuildNotFound(Exception):
    """The bot is not in that guild (or it does not exist)."""


@dataclass
class SyncResult:
    space_room_id: str
    rooms_created: int
    state_events_sent: int
    invited: tuple[str, ...] = ()  # Matrix users invited to the space now (space_members)


class GuildBridge:
    """Creates and syncs the Matrix side of every bridged guild."""

    def __init__(
        self,
        context: BridgeContext,
        bot: IntentAPI,
        tables: BridgeTables,
        media: MediaRepo,
        puppets: Puppets,
        discord_client: discord.Client,
        admins: Iterable[str] = (),
    ) -> None:
        self.context = context
        self.admins = tuple(admins)  # invited to each space once (space_members)
        self.bot = bot
        self.tables = tables
        self.media = media
        self.puppets = puppets
        self.discord = discord_client
        self.state = RoomStateCache(bot)
        self._locks = KeyedLocks()
        # Guilds with a sync scheduled or running: events for rooms being made wait for them.
        self.syncs = sync_watch(tables)
        # The sync scheduled per guild, until it starts (later events fold into it until then).
        self._pending: dict[int, asyncio.Task] = {}
        # Every scheduled sync until it ends, started or not (shutdown waits for them).
        self._running: set[asyncio.Task] = set()
        self._archived_posts: dict[int, list[discord.Thread]] = {}
        # Channel id → the room a new room replaces (its m.room.create names it).
        self.predecessors: dict[int, str] = {}
        # Run after each sync of a guild the bot is in, under its lock (linked accounts'
        # invites, bridge/migration/member_rooms.py); a failure is logged, the sync stands.
        self.after_sync: list[Callable[[discord.Guild, GuildSnapshot], Awaitable[None]]] = []

    async def bridge_guild(self, guild_id: int, bridged_by: str | None = None) -> SyncResult:
        """Bridge a guild the bot is in (again is harmless): space, sub-spaces and rooms.

        ``bridged_by`` is recorded for a guild bridged for the first time (see ``GuildRow``);
        the admins, and the Matrix user it names, are invited to the space (``invited``).
        Raises :class:`GuildNotFound` when the bot is not in the guild.
        """
        guild = self.discord.get_guild(guild_id)
        if guild is None:
            raise GuildNotFound(f"The Discord bot is not in a guild with ID {guild_id}")
        with self.syncs.syncing(guild_id):  # its rooms appear during this: events wait
            return await self._bridge_guild(guild, bridged_by)

    async def _bridge_guild(self, guild: discord.Guild, bridged_by: str | None) -> SyncResult:
        if not guild.chunked:
            await guild.chunk()  # members with roles decide power levels
        self._archived_posts[guild.id] = await self._fetch_archived_posts(guild)
        if await self.tables.guilds.get(guild.id) is None:
            await self.tables.guilds.upsert(
                GuildRow(
                    guild.id,
                    name=guild.name,
                    bridged_at=int(time.time() * 1000),
                    bridged_by=bridged_by,
                )
            )
        result = await self.sync(guild)
        asker = asker_of(bridged_by)
        result.invited = await invite_to_space(
            self.bot, self.state, result.space_room_id, self.admins, asker
        )
        return result

    async def bridged_guild_ids(self) -> list[int]:
        return [row.discord_id for row in await self.tables.guilds.find(order="discord_id")]

    def schedule_sync(self, guild_id: int) -> None:
        """Sync soon, once for a whole burst of events; only guilds already bridged."""
        if guild_id in self._pending and not self._pending[guild_id].done():
            return
        task = asyncio.create_task(self._sync_later(guild_id), name=f"guild-sync-{guild_id}")
        self._pending[guild_id] = task
        self._running.add(task)
        self.syncs.begin(guild_id)  # e.g. a new channel: its messages wait for its room
        task.add_done_callback(self._running.discard)
        task.add_done_callback(lambda _: self.syncs.end(guild_id))

    async def _sync_later(self, guild_id: int) -> None:
        await asyncio.sleep(DEBOUNCE_SECONDS)
        self._pending.pop(guild_id, None)
        guild = self.discord.get_guild(guild_id)
        if guild is None or await self.tables.guilds.get(guild_id) is None:
            return
        try:
            await self.sync(guild)
        except Exception:
            log.exception("Syncing guild %s failed", guild_id)

    def locked(self, guild_id: int) -> AbstractAsyncContextManager[None]:
        """The lock a guild's syncs hold (``async with``): unbridging holds it too."""
        return self._locks(guild_id)

    async def wait_idle(self) -> None:
        """Wait for scheduled syncs, those already running too (tests and shutdown)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def sync(self, guild: discord.Guild) -> SyncResult:
        with self.syncs.syncing(guild.id):
            return await self._sync_locked(guild)

    async def _sync_locked(self, guild: discord.Guild) -> SyncResult:
        async with self._locks(guild.id):
            snapshot = guild_snapshot(guild, self._archived_posts.get(guild.id, ()))
            snapshot = await without_excluded(self.tables, snapshot)  # unbridged channels
            await self._ensure_powerful_ghosts(guild, snapshot)
            images = await pack_images(guild, self.media, self.bot)
            result = await self._sync_snapshot(snapshot, images)
            for follow_up in self.after_sync:
                try:
                    await follow_up(guild, snapshot)
                except Exception:
                    log.exception("After syncing guild %s, a follow-up failed", guild.id)
            return result

    async def _ensure_powerful_ghosts(self, guild: discord.Guild, snapshot: GuildSnapshot) -> None:
        """Members who get power in Matrix have a ghost, so rooms' settings show their names.

        Everyone else's ghost waits until they speak, react or are mentioned.
        """
        for candidate in snapshot.members:
            member = guild.get_member(candidate.user_id)
            if member is None or member == guild.me:
                continue
            try:
                await self.puppets.ensure(user_snapshot(member))
            except MatrixRequestError as error:
                log.warning("Could not create the ghost of %s: %s", member.id, error)

    async def sync_export_snapshot(self, guild: GuildSnapshot) -> SyncResult:
        """Rooms for a guild known only from exports (the bot is not in it).

        Channels that a later export adds get rooms too; none is ever retired, since an
        export lists only the channels it covers.
        """
        async with self._locks(guild.id):
            if await self.tables.guilds.get(guild.id) is None:
                await self.tables.guilds.upsert(
                    GuildRow(guild.id, name=guild.name, bridged_at=int(time.time() * 1000))
                )
            result = await self._sync_snapshot(guild, [], retire=False)
            result.invited = await invite_to_space(
                self.bot, self.state, result.space_room_id, self.admins
            )
            return result

    async def _sync_snapshot(
        self, guild: GuildSnapshot, images: list[PackImage], *, retire: bool = True
    ) -> SyncResult:
        nodes = space_tree(guild, self.context)
        guild_row = await self.tables.guilds.get(guild.id) or GuildRow(guild.id)
        portal_rows = {
            row.discord_id: row for row in await self.tables.portals.find("guild_id = $1", guild.id)
        }
        avatar = await self._guild_avatar(guild, guild_row)
        # After the icon's upload: the first sync's pack shows it already (issue #15).
        pack = image_pack(guild.name, avatar, images) if images else None
        room_ids: dict[int, str] = {}
        if guild_row.space_room_id:
            room_ids[guild.id] = guild_row.space_room_id
        for node in nodes:
            row = portal_rows.get(node.discord_id)
            if node.kind is not PortalKind.GUILD_SPACE and row and row.room_id:
                room_ids[node.discord_id] = row.room_id
        # Rooms the bridge made before that the database lost are adopted, not made again.
        missing = [node for node in nodes if node.discord_id not in room_ids]
        joined = await joined_room_ids(self.bot) if missing else set()
        links = self.puppets.links
        desired_states = SyncDesiredStates(
            guild, nodes, self.context, avatar, pack, linked_mxids(links.current())
        )
        owned = bridge_owned(self.puppets.is_ghost, links.discord_for)
        desired = [desired_states.of(node, room_ids) for node in missing]
        wanted = map(WantedRoom.of, missing, desired)
        room_ids.update(await existing_rooms(self.bot, wanted, joined))
        guild_row.space_room_id = room_ids.get(guild.id)
        created = 0
        for node in nodes:  # parents come first, so a new room links to its parent at once
            if node.discord_id in room_ids:
                continue
            state = desired_states.of(node, room_ids)
            # Before the request: every event of the new room is live, none is history.
            live_since = int(time.time() * 1000) - CLOCK_SKEW_MS
            async with leaving_partial_room(self.bot, state, joined) as created_room:
                room_ids[node.discord_id] = await self._create_room(node, state)
                created_room(room_ids[node.discord_id])
            created += 1
            await record_created_room(
                self.tables, guild_row, node, room_ids[node.discord_id], live_since
            )
        sent = 0
        for node in nodes:
            state = desired_states.of(node, room_ids)
            if node.kind is PortalKind.GUILD_SPACE:  # a space made before it had an alias
                state = await with_space_alias(self.bot, self.state, room_ids[guild.id], state)
            sent += await apply_state(
                self.bot,
                self.state,
                room_ids[node.discord_id],
                state,
                owned,
                self.context.room_owners,
            )
        await self._save_rows(guild, guild_row, nodes, room_ids, portal_rows)
        if retire:
            await self._retire_vanished(guild, nodes, portal_rows)
        log.info("Synced guild %s: %d rooms created, %d state events sent", guild.id, created, sent)
        return SyncResult(room_ids[guild.id], created, sent)

    async def _create_room(self, node: PortalNode, state: dict) -> str:
        body = creation_request(node, state, self.context)
        predecessor = self.predecessors.pop(node.discord_id, None)
        if predecessor:
            body.setdefault("creation_content", {})["predecessor"] = {"room_id": predecessor}
        response = await self.bot.api.request(Method.POST, Path.v3.createRoom, content=body)
        room_id = response["room_id"]
        log.info("Created %s %s for Discord %s", node.kind.value, room_id, node.discord_id)
        return room_id

    async def _guild_avatar(self, guild: GuildSnapshot, row: GuildRow) -> str | None:
        if not guild.icon_url:
            return None
        if row.icon_hash == guild.icon_hash and row.avatar_mxc:
            return row.avatar_mxc
        try:
            media = await self.media.upload_from_url(guild.icon_url, self.bot)
        except MediaError as error:
            log.warning("Could not bridge the icon of guild %s: %s", guild.id, error)
            return row.avatar_mxc
        row.icon_hash, row.avatar_mxc = guild.icon_hash, media.mxc
        return media.mxc

    async def _save_rows(
        self,
        guild: GuildSnapshot,
        guild_row: GuildRow,
        nodes: list[PortalNode],
        room_ids: dict[int, str],
        existing: dict[int, PortalRow],
    ) -> None:
        guild_row.name = guild.name
        await self.tables.guilds.upsert(guild_row)
        for node in nodes:
            if node.kind is PortalKind.GUILD_SPACE:
                continue
            channel = guild.channel(node.discord_id)
            before = existing.get(node.discord_id)
            # A copy: compared with ``before`` below, so that only changed rows are written.
            row = replace(before) if before else PortalRow(node.discord_id, guild_id=guild.id)
            row.parent_id = node.parent_id if node.parent_id != guild.id else None
            row.channel_type = channel.type if channel else ChannelType.TEXT
            row.room_id = room_ids[node.discord_id]
            row.name = node.name
            row.topic = (channel.topic if channel else None) or ""
            if row != before or row.live_since is None:
                # The webhook may have been stored since this sync read the row: keep it, and
                # the live_since of a room recorded when it was created (record_created_room).
                current = await self.tables.portals.get(node.discord_id)
                if current is not None:
                    row.webhook_id, row.webhook_token = current.webhook_id, current.webhook_token
                    row.relay_enabled = current.relay_enabled
                    if row.live_since is None and current.room_id == row.room_id:
                        row.live_since = current.live_since
                if row.live_since is None:  # from now on, messages are relayed both ways
                    row.live_since = int(time.time() * 1000)
                await self.tables.portals.upsert(row)

    async def _retire_vanished(
        self, guild: GuildSnapshot, nodes: list[PortalNode], rows: dict[int, PortalRow]
    ) -> None:
        """A channel gone from Discord: its room says so and leaves the space; it stays."""
        wanted = {node.discord_id for node in nodes}
        for discord_id, row in rows.items():
            if discord_id in wanted or not row.room_id:
                continue
            room_state = await self.state.get(row.room_id)
            try:
                for event_type, state_key in list(room_state):
                    if event_type == "m.space.parent" and room_state[(event_type, state_key)]:
                        await send_state(self.bot, row.room_id, event_type, state_key, {})
                        self.state.record(row.room_id, event_type, state_key, {})
                if guild.channel(discord_id) is None:
                    notice = TextMessageEventContent(
                        msgtype=MessageType.NOTICE, body=DELETED_NOTICE
                    )
                    await self.bot.send_message(RoomID(row.room_id), notice)
            except MatrixRequestError as error:
                log.warning("Could not retire room %s: %s", row.room_id, error)
            await self.tables.portals.delete(discord_id)

    async def _fetch_archived_posts(self, guild: discord.Guild) -> list[discord.Thread]:
        """Archived forum posts are not in discord.py's cache; ask for them once per bridging."""
        posts: list[discord.Thread] = []
        for forum in guild.forums:
            try:
                posts += [post async for post in forum.archived_threads(limit=None)]
            except discord.HTTPException as error:
                log.warning("Could not list archived posts of forum %s: %s", forum.id, error)
        return posts

    async def guild_room_ids(self, guild_id: int) -> list[str]:
        """Every room and space of a bridged guild."""
        rows = await self.tables.portals.find("guild_id = $1", guild_id)
        guild_row = await self.tables.guilds.get(guild_id)
        rooms = [row.room_id for row in rows if row.room_id]
        if guild_row and guild_row.space_room_id:
            rooms.insert(0, guild_row.space_room_id)
        return rooms
