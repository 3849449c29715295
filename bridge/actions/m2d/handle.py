"""Which Matrix events go to Discord, and to which action.

Only events of real Matrix users allowed to relay (``bridge.permissions``), in bridged rooms,
sent after the room was bridged. The bridge's own bot and ghosts are never relayed (no echo).
Events of one room are queued in arrival order before any await.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mautrix.types import (
    Event,
    EventType,
    GenericEvent,
    MessageEvent,
    ReactionEvent,
    RedactionEvent,
    StateEvent,
)

from ...convert.m2d import notices
from ...convert.m2d.polls import END_TYPES as POLL_END_TYPES
from ...convert.m2d.polls import START_TYPES as POLL_START_TYPES
from ...db.rows import PortalRow
from ...permissions import Level, permission_level
from ...portal.sync_watch import portal_by_room
from ...stats import TO_DISCORD
from . import edits, pins, polls, reactions, send
from .failures import reason_for, report_failure
from .notices import notify_once
from .read_markers import room_queue
from .retry import DiscordStopped
from .services import M2DServices

log = logging.getLogger("bridge.m2d")
RELAYED_TYPES = {
    EventType.ROOM_MESSAGE,
    EventType.STICKER,
    EventType.REACTION,
    EventType.ROOM_REDACTION,
}


RELAYED_TYPE_NAMES = (
    frozenset(str(kind) for kind in RELAYED_TYPES) | POLL_START_TYPES | POLL_END_TYPES
)
# Room state relayed too (state_key ""). Kept in the inbox and queued with the room's messages
# like them: a pin then follows the message it pins, and survives a restart.
RELAYED_STATE_NAMES = frozenset({str(EventType.ROOM_PINNED_EVENTS)})


def may_relay(raw_event: dict[str, Any]) -> bool:
    """Whether a pushed event (as JSON) is of a kind this module relays: those are kept in the
    inbox until relayed (the bridge's own events never reach here)."""
    if "state_key" in raw_event:
        return raw_event.get("state_key") == "" and raw_event.get("type") in RELAYED_STATE_NAMES
    return raw_event.get("type") in RELAYED_TYPE_NAMES


def _relayed(event: Event) -> bool:
    if isinstance(event, StateEvent):
        return event.state_key == "" and str(event.type) in RELAYED_STATE_NAMES
    return str(event.type) in RELAYED_TYPE_NAMES and getattr(event, "state_key", None) is None


def submit(services: M2DServices, event: Event, replay_since_ms: int | None = None) -> None:
    """Queue a pushed event in its room's queue (synchronously: keeps the room's order).

    ``replay_since_ms``: for an event relayed again from the inbox at start-up, its arrival
    (ms since the epoch): a message it became may be on Discord already, unrecorded. None for
    a live event (no lookup, no extra database work)."""
    if not _relayed(event):
        return
    if isinstance(event, GenericEvent) and event.timestamp is None:
        # mautrix's GenericEvent (polls) leaves origin_server_ts among its unrecognised keys.
        event.timestamp = (event.unrecognized_ or {}).get("origin_server_ts")
    sender = str(event.sender)
    if sender == services.bot.mxid or services.puppets.is_ghost(sender):
        return
    services.queues.submit(
        room_queue(str(event.room_id)), lambda: _handle_once(services, event, replay_since_ms)
    )


async def _handle_once(services: M2DServices, event: Any, replay_since_ms: int | None) -> None:
    """Relay the event unless it already was, then let it leave the inbox.

    An event can come twice: kept in the inbox before a crash and relayed after the restart,
    then pushed again by the homeserver, which never saw its transaction acknowledged.
    Cancelled mid-relay, or given up because the bridge is stopping (:class:`DiscordStopped`),
    it stays in the inbox: relayed again, as a replay, at the next start.
    """
    stopped = False
    try:
        if not await _already_relayed(services, event):
            await _handle(services, event, replay_since_ms)
    except asyncio.CancelledError:
        stopped = True  # a request may be on Discord, unanswered: the replay looks for it
        raise
    except DiscordStopped as error:
        stopped = True  # kept in the inbox; the replay looks on Discord first (no double)
        log.info("Relaying %s to Discord stopped with the bridge (%s); kept for the next start",
                 event.event_id, error)  # fmt: skip
    finally:
        if not stopped:
            await services.tables.matrix_inbox.delete(str(event.event_id))


async def _already_relayed(services: M2DServices, event: Any) -> bool:
    room_id, event_id = str(event.room_id), str(event.event_id)
    if await services.tables.message_part_by_event(room_id, event_id) is not None:
        return True
    if event.type != EventType.REACTION:  # only reactions are remembered there
        return False
    return await services.tables.matrix_reactions.get(room_id, event_id) is not None


async def _handle(services: M2DServices, event: Any, replay_since_ms: int | None) -> None:
    # Waits for syncs in progress: the room may be one just created, not yet recorded.
    portal = await portal_by_room(services.tables, str(event.room_id))
    if portal is None or not _after_bridging(portal, event):
        return
    if permission_level(str(event.sender), services.options.permissions) < Level.RELAY:
        log.debug("%s may not relay to Discord; ignoring %s", event.sender, event.event_id)
        admins = notices.admins_of(dict(services.options.permissions))
        await notify_once(services, event, notices.no_level_notice(admins))
        return
    if not portal.relay_enabled:  # unset-relay
        await notify_once(services, event, notices.relay_off_notice())
        return
    try:
        kind = await _relay(services, portal, event, replay_since_ms)
    except Exception as error:
        if isinstance(error, DiscordStopped) or services.webhooks.stopping.is_set():
            # The shutdown itself, not a failure: no notice; the event stays in the inbox.
            if isinstance(error, DiscordStopped):
                raise
            raise DiscordStopped(f"{type(error).__name__} while the bridge stopped") from error
        log.exception("Relaying %s to Discord failed", event.event_id)
        services.stats.failed(
            portal.guild_id,
            f"{event.event_id} to Discord: {reason_for(error)}",
            direction=TO_DISCORD,
            error=error,
        )
        await report_failure(services, str(event.room_id), str(event.event_id), error)
        return
    if kind is not None:
        services.stats.relayed(portal.guild_id, TO_DISCORD, kind, event.timestamp)


async def _relay(
    services: M2DServices, portal: PortalRow, event: Any, replay_since_ms: int | None = None
) -> str | None:
    """Hand the event to its action; returns its kind for the metrics (bridge.metrics.KINDS),
    None if no action takes it. ``replay_since_ms``: see :func:`submit`."""
    if isinstance(event, StateEvent):  # m.room.pinned_events
        await pins.pins_changed(services, portal, event)
        return "pin"
    if str(event.type) in POLL_START_TYPES:
        await polls.start(services, portal, event)
        return "poll"
    if str(event.type) in POLL_END_TYPES:
        await polls.end(services, portal, event)
        return "poll_end"
    if isinstance(event, ReactionEvent):
        await reactions.react(services, portal, event)
        return "reaction"
    if isinstance(event, RedactionEvent):
        await edits.redact(services, portal, event)
        return "delete"
    if isinstance(event, MessageEvent) and edits.is_edit(event):
        await edits.edit(services, portal, event)
        return "edit"
    if isinstance(event, MessageEvent):
        await send.send(services, portal, event, replay_since_ms)
        return "message"
    return None


def _after_bridging(portal: PortalRow, event: Any) -> bool:
    """Events older than the room's bridging are history, not messages to relay."""
    return portal.live_since is None or event.timestamp >= portal.live_since
