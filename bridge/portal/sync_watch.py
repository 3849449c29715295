"""Which guilds are being synced, so that a message for a room being made waits, not drops.

A sync creates a guild's rooms one by one: a room exists at the homeserver (its alias
resolves, users can join) a moment before the bridge has its ID and records its portal row,
and a channel created on Discord has no room until the sync it started has run. A Discord
message for a channel without a portal, or a Matrix event in a room without one, may be in
that window: while the guild (for Matrix: any guild) has a sync scheduled or running, it waits
for that sync to end and is looked up again (issue 17 §1). Outside a sync, no portal means
the channel or room is not bridged, and the event is dropped at once as before.

One :class:`SyncWatch` per :class:`~bridge.db.tables.BridgeTables` (:func:`sync_watch`), so
that the Discord routing and the Matrix room lookup, which both hold the tables, find the
watch that :class:`~bridge.portal.guild_sync.GuildBridge` keeps, without more wiring.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from weakref import WeakKeyDictionary

from ..db.rows import PortalRow
from ..db.tables import BridgeTables

log = logging.getLogger("bridge.portal.sync_watch")


class SyncWatch:
    """Guild id → how many syncs of it are scheduled or running, and an event set when none.

    Counts nest: bridging a guild (chunking, then its sync), a debounced sync waiting to run
    and a direct ``sync`` may overlap; the guild is settled when every one has ended.
    """

    def __init__(self) -> None:
        self._busy: dict[int, int] = {}
        self._settled: dict[int, asyncio.Event] = {}

    def begin(self, guild_id: int) -> None:
        """A sync of the guild is scheduled or starts; pair with :meth:`end`."""
        self._busy[guild_id] = self._busy.get(guild_id, 0) + 1
        self._settled.setdefault(guild_id, asyncio.Event())

    def end(self, guild_id: int) -> None:
        """A sync of the guild ended (done, failed or cancelled)."""
        count = self._busy.get(guild_id, 0) - 1
        if count > 0:
            self._busy[guild_id] = count
            return
        self._busy.pop(guild_id, None)
        event = self._settled.pop(guild_id, None)
        if event is not None:
            event.set()

    @contextmanager
    def syncing(self, guild_id: int) -> Iterator[None]:
        """``with watch.syncing(guild_id):`` around a sync."""
        self.begin(guild_id)
        try:
            yield
        finally:
            self.end(guild_id)

    def busy(self, guild_id: int) -> bool:
        """Whether a sync of the guild is scheduled or running now."""
        return guild_id in self._busy

    def busy_guilds(self) -> list[int]:
        """The guilds with a sync scheduled or running now."""
        return list(self._busy)

    async def settled(self, guild_ids: list[int]) -> None:
        """Wait until the syncs of these guilds, scheduled or running now, have ended (those
        scheduled later are not waited for)."""
        events = [self._settled[g] for g in guild_ids if g in self._settled]
        for event in events:
            await event.wait()


_WATCHES: WeakKeyDictionary[BridgeTables, SyncWatch] = WeakKeyDictionary()


def sync_watch(tables: BridgeTables) -> SyncWatch:
    """The watch of the bridge that owns ``tables`` (made on first use)."""
    watch = _WATCHES.get(tables)
    if watch is None:
        watch = _WATCHES[tables] = SyncWatch()
    return watch


async def portal_by_room(tables: BridgeTables, room_id: str) -> PortalRow | None:
    """The portal of a room, for a Matrix event in it; None when the room is not bridged.

    A room without a portal while guilds are being synced may be one that a sync has just
    created and not recorded yet: the lookup waits for those syncs, then looks again.
    """
    portal = await tables.portal_by_room(room_id)
    if portal is not None:
        return portal
    watch = sync_watch(tables)
    busy = watch.busy_guilds()
    if not busy:
        return None
    log.debug("Room %s has no portal yet: waiting for the syncs of guilds %s", room_id, busy)
    await watch.settled(busy)
    return await tables.portal_by_room(room_id)
