"""Ghost messages sent to Matrix but never recorded, whose Discord message is gone.

A Discord message reaches its room (sent by the author's ghost, transaction ``dc_{id}_{part}``)
and the bridge is killed before it records the ``message_part`` row. If the message still
exists at the restart, catch-up sends it again (same transaction id, same event) and records
it. If it was deleted on Discord meanwhile, nothing would ever point at its event: catch-up
fetches after the newest recorded message and the window only compares recorded rows.

So at the first catch-up after a process start (an unrecorded send only happens when the
process dies), each bridged room's newest events are read once, before its channels catch up
(one page of :data:`PAGE` events, back to the newest ghost event the database records for
the room: a Matrix user's message recorded after it does not end the look): message events (``m.room.message`` / ``m.sticker``, no ``m.replace``) sent by ghosts
and recorded nowhere are remembered. After every channel of the room has caught up, those
still unrecorded, in a channel that caught up completely, newer than where its catch-up
started and matching no message Discord still has (by the ms of the snowflake, which is the
event's ``origin_server_ts``), are redacted as the bot.

Reactions: a ghost's reaction sent but not recorded and then removed on Discord stays (the
window only fetches the users of emoji whose count differs, and a reaction's target may be
outside the window, so a still-present reaction could not be told from a removed one here).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from mautrix.api import Method, Path
from mautrix.errors import MatrixRequestError
from mautrix.types import EventID, RoomID

from .services import RelayServices

log = logging.getLogger("bridge.relay.catch_up")

#: Events read from the end of a room, in one request.
PAGE = 50
#: Discord's epoch, in ms since the Unix epoch (a snowflake's time is relative to it).
DISCORD_EPOCH_MS = 1420070400000
MESSAGE_TYPES = ("m.room.message", "m.sticker")
_FILTER = json.dumps({"types": [*MESSAGE_TYPES, "m.reaction"], "lazy_load_members": True})


def snowflake_ms(snowflake: int) -> int:
    """The creation time of a Discord snowflake, in ms since the Unix epoch."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


@dataclass(frozen=True)
class GhostEvent:
    """An unrecorded message event of a ghost: its id, sender, ``origin_server_ts`` (ms) and
    the root of the Matrix thread it is in (a Discord thread's starter), if any."""

    event_id: str
    sender: str
    ts: int
    thread_root: str | None = None


@dataclass
class ChannelCatchUp:
    """How one channel's catch-up went at this start: ``complete`` if it read Discord to the
    end; ``after_ms``: the time (ms) of the message it fetched after; ``seen_ms``: the times
    (ms) of every message Discord still has after it."""

    complete: bool = False
    after_ms: int | None = None
    seen_ms: set[int] = field(default_factory=set)


async def unrecorded_ghost_events(services: RelayServices, room_id: str) -> list[GhostEvent]:
    """Ghost message events newer than the room's newest recorded ghost event and recorded
    nowhere, oldest first. One request; none found when the page holds no recorded ghost
    event (no bound: nothing is taken for an orphan)."""
    page: dict[str, Any] = await services.bot.api.request(
        Method.GET,
        Path.v3.rooms[room_id].messages,
        query_params={"dir": "b", "limit": str(PAGE), "filter": _FILTER},
    )
    events = [e for e in page.get("chunk", []) if isinstance(e, dict) and "event_id" in e]
    recorded = await _recorded(services, room_id, [e["event_id"] for e in events])
    found: list[GhostEvent] = []
    for event in events:  # newest first
        if event["event_id"] in recorded and services.puppets.is_ghost(event.get("sender", "")):
            found.reverse()  # the newest event the bridge recorded as sent by a ghost
            return found
        candidate = _ghost_message(services, event)
        if candidate is not None:
            found.append(candidate)
    return []  # no recorded event in the page: where the bridge's own events end is unknown


def _ghost_message(services: RelayServices, event: dict[str, Any]) -> GhostEvent | None:
    sender = event.get("sender", "")
    content = event.get("content")
    if (
        event.get("type") not in MESSAGE_TYPES
        or sender == services.bot.mxid
        or not services.puppets.is_ghost(sender)
        or not isinstance(content, dict)
        or not content  # redacted already
        or "redacted_because" in event.get("unsigned", {})
    ):
        return None
    relation = content.get("m.relates_to")
    relation = relation if isinstance(relation, dict) else {}
    if relation.get("rel_type") == "m.replace":
        return None
    root = relation.get("event_id") if relation.get("rel_type") == "m.thread" else None
    ts = event.get("origin_server_ts")
    if not isinstance(ts, int):
        return None
    return GhostEvent(event["event_id"], sender, ts, root if isinstance(root, str) else None)


async def _recorded(services: RelayServices, room_id: str, event_ids: list[str]) -> set[str]:
    """Those of ``event_ids`` a message part or a reaction of the room records."""
    if not event_ids:
        return set()
    marks = ", ".join(f"${n}" for n in range(2, len(event_ids) + 2))
    found: set[str] = set()
    for table in ("message_part", "reaction"):
        rows = await services.tables.db.fetch(
            f"SELECT event_id FROM {table} WHERE room_id = $1 AND event_id IN ({marks})",
            room_id,
            *event_ids,
        )
        found.update(row["event_id"] for row in rows)
    return found


async def redact_orphans(
    services: RelayServices,
    room_id: str,
    main_channel: int,
    candidates: list[GhostEvent],
    outcomes: dict[int, ChannelCatchUp],
) -> int:
    """Redact the candidates still unrecorded whose Discord message is known to be gone;
    returns how many. ``main_channel``: the channel of the room's main timeline."""
    if not candidates:
        return 0
    still = await _recorded(services, room_id, [c.event_id for c in candidates])
    redacted = 0
    for candidate in candidates:
        if candidate.event_id in still:
            continue  # sent again by catch-up (same transaction id), recorded now
        channel_id = await _channel_of(services, room_id, main_channel, candidate)
        outcome = outcomes.get(channel_id) if channel_id is not None else None
        if (
            outcome is None
            or not outcome.complete
            or outcome.after_ms is None
            or candidate.ts < outcome.after_ms
            or candidate.ts in outcome.seen_ms
        ):
            log.debug(
                "Left %s in %s as it is: not known to be gone from Discord (%s)",
                candidate.event_id,
                room_id,
                outcome,
            )
            continue
        try:
            await services.bot.redact(
                RoomID(room_id), EventID(candidate.event_id), reason="Deleted on Discord"
            )
        except MatrixRequestError as error:
            log.warning("Could not redact %s in %s: %s", candidate.event_id, room_id, error)
            continue
        redacted += 1
        log.info(
            "Redacted %s in %s: sent by %s but not recorded before the bridge stopped, and "
            "deleted on Discord since",
            candidate.event_id,
            room_id,
            candidate.sender,
        )
    return redacted


async def _channel_of(
    services: RelayServices, room_id: str, main_channel: int, candidate: GhostEvent
) -> int | None:
    """The Discord channel an event was in: the room's, or the thread of its thread root (the
    thread's first message, or the message it started from, whose id is the thread's)."""
    if candidate.thread_root is None:
        return main_channel
    root = await services.tables.message_part_by_event(room_id, candidate.thread_root)
    if root is None:
        return None
    return root.thread_id if root.thread_id is not None else root.discord_message_id
