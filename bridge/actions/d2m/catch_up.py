"""Catching up with what was said on Discord while the bridge was not listening.

After a restart, and after every new gateway session (each READY, never a RESUMED: a resumed
session replays what it missed), each channel (and thread) that has bridged messages continues
from its newest message that came *from* Discord (never from the webhook messages that carried
Matrix messages: those can be newer than Discord messages not relayed yet), in order, in the
channel's own queue (a thread's is its parent's), so live messages wait behind what was missed.
A message relayed live meanwhile is not sent twice (``relay_new`` finds its mapping). Then the
recent window (:mod:`.catch_up_window`) brings edits, deletions and reactions made meanwhile.
At a process start, ghost messages sent but never recorded whose Discord message is gone are
redacted once the room's channels have caught up (:mod:`.catch_up_orphans`).

Channels with nothing bridged yet are the history import's business, not this; so is the rest
of an unfinished import when that import is queued in this process (it sends the rest itself,
with its reactions, progress and counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field

import discord

from ...convert.model import THREAD_TYPES
from ...db.rows import PortalRow
from ...discord.message_snapshots import message_snapshot
from ...stats import TO_MATRIX
from .catch_up_fetch import fetch_after, is_transport_error
from .catch_up_orphans import (
    ChannelCatchUp,
    GhostEvent,
    redact_orphans,
    snowflake_ms,
    unrecorded_ghost_events,
)
from .catch_up_window import CatchUpWindow, reconcile_window
from .messages import can_mention_everyone, is_own, relay_new
from .routing import destination
from .services import RelayServices

log = logging.getLogger("bridge.relay.catch_up")

#: A message part's ``kind`` when it is a Matrix message posted to Discord (by a webhook).
FROM_MATRIX = "matrix:%"
#: How often a job waiting for its session's READY looks whether the client closed (s).
CLOSED_POLL_S = 0.5

#: Queue key → bridged room → (the channel of its main timeline, its channels to catch up).
Rooms = dict[Hashable, dict[str, tuple[int, set[int]]]]


@dataclass
class _Session:
    """One gateway session (one READY): its catch-up jobs wait for ``ready``."""

    number: int
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class CatchUp:
    """Queues each channel's catch-up at start and on every new gateway session.

    :meth:`queue_first` runs before the gateway connects; :meth:`on_gateway` is a
    ``BridgeDiscordClient.gateway_listeners`` entry (called synchronously with each gateway
    event: ``connect`` is a new session's READY, before any of its dispatches is handled).
    """

    def __init__(self, services: RelayServices, window: CatchUpWindow) -> None:
        self.services = services
        self.window = window
        self._session = _Session(0)
        self._first_queued = False
        self._connects = 0  # READYs seen
        self._closed = False
        # Queue key (a channel, or a thread's parent) → channels with bridged messages there.
        self._channels: dict[Hashable, set[int]] = {}
        self._sweeps: set[asyncio.Task] = set()
        self.sessions_caught_up = 0  # new sessions after the first that queued a catch-up

    async def queue_first(self) -> None:
        """Before the gateway connects: queue every channel's catch-up for the first READY."""
        rooms: Rooms = {}
        self._channels = await self._load_channels(rooms)
        self._session = _Session(1)
        self._first_queued = True
        self._submit(self._channels, self._session, rooms)

    def on_gateway(self, event: str, closed: bool) -> None:
        """A gateway event (connect, ready, resumed, disconnect), as the client dispatches it."""
        if event == "connect":  # a READY: a new session, whose missed messages are fetched
            self._connects += 1
            previous = self._session
            if self._first_queued and self._connects == 1:
                return  # the first session's jobs are queued already
            self._session = _Session(previous.number + 1)
            previous.ready.set()  # its waiting jobs end: the new session's jobs do their work
            self.sessions_caught_up += 1
            log.info("New Discord session: catching up with what it missed")
            self._submit(self._channels, self._session)
            sweep = asyncio.create_task(self._sweep(self._session), name="catch-up-sweep")
            self._sweeps.add(sweep)
            sweep.add_done_callback(self._sweeps.discard)
        elif event == "ready":
            self._session.ready.set()
        elif event == "disconnect" and closed:
            self._closed = True
            self._session.ready.set()

    def _submit(
        self, channels: dict[Hashable, set[int]], session: _Session, rooms: Rooms | None = None
    ) -> None:
        """Queue each channel's catch-up; with ``rooms`` (at a process start), each room's
        events are read before its channels catch up and its orphans redacted after."""
        for key, channel_ids in channels.items():
            outcomes: dict[int, ChannelCatchUp] | None = None if rooms is None else {}
            found: dict[str, list[GhostEvent]] = {}
            for room_id in (rooms or {}).get(key, {}):

                async def scan(
                    room_id: str = room_id, found: dict[str, list[GhostEvent]] = found
                ) -> None:
                    found[room_id] = await self._scan(room_id)

                self.services.queues.submit(key, scan)
            for channel_id in sorted(channel_ids):

                async def job(
                    channel_id: int = channel_id,
                    key: Hashable = key,
                    outcomes: dict[int, ChannelCatchUp] | None = outcomes,
                ) -> None:
                    if await self._wait_for(session):
                        await self._catch_up(channel_id, key, outcomes)

                self.services.queues.submit(key, job)
            for room_id, (main, _) in (rooms or {}).get(key, {}).items():
                assert outcomes is not None

                async def sweep(
                    room_id: str = room_id,
                    main: int = main,
                    found: dict[str, list[GhostEvent]] = found,
                    outcomes: dict[int, ChannelCatchUp] = outcomes,
                ) -> None:
                    await self._redact_orphans(room_id, main, found.get(room_id, []), outcomes)

                self.services.queues.submit(key, sweep)

    async def _scan(self, room_id: str) -> list[GhostEvent]:
        """A room's unrecorded ghost messages, before its channels catch up (none on error)."""
        try:
            found = await unrecorded_ghost_events(self.services, room_id)
        except Exception as error:
            log.warning("Could not read the newest events of %s: %s", room_id, error)
            return []
        if found:
            log.info("%d unrecorded ghost message(s) at the end of %s", len(found), room_id)
        return found

    async def _redact_orphans(
        self,
        room_id: str,
        main: int,
        found: list[GhostEvent],
        outcomes: dict[int, ChannelCatchUp],
    ) -> None:
        if not found:
            return
        try:
            await redact_orphans(self.services, room_id, main, found, outcomes)
        except Exception as error:
            if not is_transport_error(error):
                raise
            log.warning("Could not look for unrecorded messages in %s: %s", room_id, error)

    async def _sweep(self, session: _Session) -> None:
        """Channels bridged since the last look (e.g. a guild bridged meanwhile): queued too."""
        try:
            channels = await self._load_channels()
        except Exception:
            log.exception("Could not list the channels to catch up with")
            return
        if session is not self._session:
            return  # a newer session sweeps for itself
        new = {
            key: ids - self._channels.get(key, set())
            for key, ids in channels.items()
            if ids - self._channels.get(key, set())
        }
        self._channels = channels
        self._submit(new, session)

    async def _wait_for(self, session: _Session) -> bool:
        """Wait for the session's READY; False if it was replaced first or the client closed."""
        while not session.ready.is_set():
            if self._closed or self.services.discord.is_closed():
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.ready.wait(), CLOSED_POLL_S)
        return session is self._session and not self._closed

    async def _load_channels(self, rooms: Rooms | None = None) -> dict[Hashable, set[int]]:
        """Every channel (and thread) with bridged messages, by the queue its events go to;
        ``rooms`` (if given) gets each queue's rooms."""
        rows = await self.services.tables.db.fetch(
            "SELECT DISTINCT channel_id, room_id FROM message_part ORDER BY channel_id"
        )
        portals: dict[str, PortalRow | None] = {}
        channels: dict[Hashable, set[int]] = {}
        for row in rows:
            room_id = row["room_id"]
            if room_id not in portals:
                portals[room_id] = await self.services.tables.portal_by_room(room_id)
            portal = portals[room_id]
            if portal is None:
                continue  # a room since replaced or retired
            key = queue_key_of(portal)
            channels.setdefault(key, set()).add(row["channel_id"])
            if rooms is not None:
                _main, in_room = rooms.setdefault(key, {}).setdefault(
                    room_id, (portal.discord_id, set())
                )
                in_room.add(row["channel_id"])
        return channels

    async def _catch_up(
        self,
        channel_id: int,
        key: Hashable,
        outcomes: dict[int, ChannelCatchUp] | None = None,
    ) -> None:
        """One channel's catch-up; its outcome goes into ``outcomes`` (at a process start)."""
        services = self.services
        if await _left_to_import(services, channel_id, key):
            log.info(
                "Not catching up with channel %s: its unfinished history import, queued "
                "now, sends the rest",
                channel_id,
            )
            return
        last_id = await last_from_discord(services, channel_id)
        outcome = None
        if outcomes is not None and last_id is not None:
            outcome = outcomes[channel_id] = ChannelCatchUp(after_ms=snowflake_ms(last_id))
        relayed = await catch_up_channel(services, channel_id, last_id, outcome)
        if relayed:
            log.info("Caught up with %d message(s) in channel %s", relayed, channel_id)
        if not self.window.enabled:
            return
        try:
            await reconcile_window(services, channel_id, self.window)
        except Exception as error:
            if not is_transport_error(error) and not isinstance(error, discord.HTTPException):
                raise
            log.warning("Could not compare channel %s's recent messages: %s", channel_id, error)


def queue_key_of(portal: PortalRow) -> int:
    """The queue a portal's live events go to (see ``message_dispatcher.queue_key``): its
    channel's, or for a forum post (a thread with its own room) the forum's."""
    if portal.channel_type in THREAD_TYPES and portal.parent_id is not None:
        return portal.parent_id
    return portal.discord_id


async def last_from_discord(services: RelayServices, channel_id: int) -> int | None:
    """The newest message that came from Discord and was bridged in a channel, or (when only
    Matrix messages were) the oldest Matrix message posted there: Discord messages after it
    were said while the channel was bridged. None when nothing was bridged."""
    newest = await services.tables.db.fetchval(
        "SELECT MAX(discord_message_id) FROM message_part"
        " WHERE channel_id = $1 AND kind NOT LIKE $2",
        channel_id,
        FROM_MATRIX,
    )
    if newest is not None:
        return int(newest)
    oldest = await services.tables.db.fetchval(
        "SELECT MIN(discord_message_id) FROM message_part WHERE channel_id = $1", channel_id
    )
    return None if oldest is None else int(oldest)


async def _left_to_import(services: RelayServices, channel_id: int, portal_id: Hashable) -> bool:
    """True if an import queued in this process resumes this room's unfinished import (the
    room's checkpoint is keyed by its portal: a channel, or a forum's post)."""
    channel = services.discord.get_channel(channel_id)
    parent_id = getattr(channel, "parent_id", None)
    if not {channel_id, portal_id, parent_id} & services.importing:
        return False
    for candidate in (channel_id, portal_id):
        checkpoint = await services.tables.import_checkpoints.get(candidate)
        if checkpoint is not None and not checkpoint.finished:
            return True
    return False


async def catch_up_channel(
    services: RelayServices,
    channel_id: int,
    last_id: int | None,
    outcome: ChannelCatchUp | None = None,
) -> int:
    """Relay, oldest first, every message after ``last_id`` not relayed yet; returns how many
    were sent. A message that cannot be read or converted is logged, counted and skipped; the
    channel's catch-up stops only when Discord or the homeserver cannot be reached (what is
    left is fetched at the next start or session: nothing after it was relayed).

    ``outcome`` (if given) gets the time of each message fetched and whether all were."""
    if last_id is None:
        return 0
    where = await destination(services.tables, services.discord, channel_id)
    channel = services.discord.get_channel(channel_id)
    if where is None or not isinstance(channel, discord.abc.Messageable):
        return 0
    relayed = 0
    try:
        async for message in fetch_after(services, channel, last_id):
            if outcome is not None:
                outcome.seen_ms.add(snowflake_ms(message.id))
            try:
                if await is_own(services, message):
                    continue
                async with services.room_locks(where.room_id):
                    sent = await relay_new(
                        services, message_snapshot(message), where, can_mention_everyone(message)
                    )
            except Exception as error:
                if is_transport_error(error):
                    raise
                log.warning(
                    "Catching up in channel %s: skipped message %s: %s",
                    channel_id,
                    message.id,
                    error,
                )
                services.stats.failed(
                    where.guild_id,
                    f"catch-up message {message.id} to Matrix: {error}",
                    direction=TO_MATRIX,
                    error=error,
                )
                continue
            if sent:
                relayed += 1
                services.stats.relayed(where.guild_id, TO_MATRIX, "message", sent[0].timestamp)
        if outcome is not None:
            outcome.complete = True
    except Exception as error:
        if not is_transport_error(error):
            raise
        log.warning("Could not catch up with channel %s: %s", channel_id, error)
    return relayed
