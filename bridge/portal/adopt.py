"""The bridge's rooms and the database agree, or the bridge stops before creating any.

Three ways they disagree, each met before a room is created (issue #15):

- the database lists rooms the bot is not in (the database of another homeserver, or a
  homeserver reset): :func:`check_known_rooms`, one ``GET /joined_rooms`` at start;
- the database lost rooms the bridge made (a fresh database): :func:`existing_rooms` finds
  them again by their alias, or spaces without one (guild, category, forum) through found
  rooms' ``m.space.parent``, and adopts those that carry the bridge's own MSC2346 bridge
  info (``m.bridge`` / ``uk.half-shot.bridge`` with the node's state key) and have the bot
  joined;
- an alias the bridge would create is someone else's: :class:`AliasTaken`, one line.

Rooms are recorded as soon as they are created (:func:`record_created_room`), so a sync that
fails midway leaves rows that the next start reuses, not an orphan half-space; a room a
failed ``createRoom`` half made is left, its alias deleted (:func:`leaving_partial_room`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from mautrix.api import Method, Path
from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError, MNotFound
from mautrix.types import EventType, RoomAlias, RoomID

from ..convert.d2m.space_tree import PortalKind, PortalNode
from ..db.rows import GuildRow, PortalRow
from ..db.tables import BridgeTables
from ..matrix.checks import HomeserverCheckFailed

log = logging.getLogger("bridge.portal.adopt")
BRIDGE_INFO = "m.bridge"  # MSC2346; uk.half-shot.bridge carries the same content


class KnownRoomsMissing(HomeserverCheckFailed):
    """The database lists rooms the bot is not in on this homeserver."""


class AliasTaken(HomeserverCheckFailed):
    """An alias the bridge would create points to a room that is not the bridge's."""


@dataclass(frozen=True)
class WantedRoom:
    """A node that has no room yet: its alias (if any) and its bridge-info state key."""

    discord_id: int
    alias: str | None
    info_key: str | None

    @classmethod
    def of(cls, node: PortalNode, desired: Mapping[tuple[str, str], Any]) -> WantedRoom:
        """From the node and its desired state (``{(type, state_key): content}``)."""
        alias = desired.get(("m.room.canonical_alias", ""), {}).get("alias")
        keys = [state_key for event_type, state_key in desired if event_type == BRIDGE_INFO]
        return cls(node.discord_id, alias, keys[0] if keys else None)


async def check_known_rooms(bot: IntentAPI, tables: BridgeTables) -> int:
    """Every room the database lists (guild spaces, portals) has the bot joined.

    One ``GET /_matrix/client/v3/joined_rooms`` as the bot. Raises KnownRoomsMissing with
    the count and the fix when the bot is in none of them (another homeserver's database, or
    a reset homeserver); only some missing (the bot was kicked) is a warning. A database with
    no rooms passes. Returns how many rooms the database lists (``doctor`` shows it).
    """
    known = [row.space_room_id for row in await tables.guilds.find() if row.space_room_id]
    known += [row.room_id for row in await tables.portals.find() if row.room_id]
    if not known:
        return 0
    joined = await joined_room_ids(bot)
    missing = [room_id for room_id in known if room_id not in joined]
    if not missing:
        return len(known)
    if len(missing) == len(known):
        raise KnownRoomsMissing(
            f"The database at appservice.database.url lists {len(missing)} rooms the bot is "
            f"not in on this homeserver (e.g. {missing[0]}): it belongs to another homeserver "
            "or the homeserver was reset. Use a fresh database (the bridge then finds the "
            "rooms it made on this homeserver by their aliases), or point "
            "homeserver.address at the homeserver this database belongs to."
        )
    # A few rooms (someone kicked the bot): the rest of the bridge keeps working.
    log.warning(
        "The bot is not in %d of the %d rooms the database at appservice.database.url lists "
        "(e.g. %s): invite the bot back to them, or unbridge their channels",
        len(missing),
        len(known),
        missing[0],
    )
    return len(known)


async def joined_room_ids(bot: IntentAPI) -> set[str]:
    """The rooms the bot is in (``GET /_matrix/client/v3/joined_rooms``)."""
    return {str(room_id) for room_id in await bot.get_joined_rooms()}


async def existing_rooms(
    bot: IntentAPI, wanted: Iterable[WantedRoom], joined: set[str]
) -> dict[int, str]:
    """The rooms the bridge made before for nodes without a room: Discord ID → room ID.

    A node's alias is resolved (``GET /directory/room/{alias}``); the room is adopted when
    the bot is joined (``joined``: :func:`joined_room_ids`) and the room has the node's
    bridge info. Spaces without an alias are found as the ``m.space.parent`` of adopted rooms
    carrying their bridge info. Raises AliasTaken when an alias exists and its room is not
    the bridge's.
    """
    wanted = list(wanted)
    if not any(room.alias for room in wanted):
        return {}
    found: dict[int, str] = {}
    for room in wanted:
        if not room.alias:
            continue
        try:
            answer = await bot.resolve_room_alias(RoomAlias(room.alias))
        except MNotFound:
            continue
        room_id = str(answer.room_id)
        if room_id not in joined or not await _has_bridge_info(bot, room_id, room.info_key):
            raise AliasTaken(
                f"The room alias {room.alias} that the bridge would create for Discord "
                f"{room.discord_id} already points to {room_id}, which is not one of the "
                "bridge's rooms (the bot is not in it, or it has no bridge info for that "
                "channel): delete the alias, or change bridge.alias_template and regenerate "
                "the registration with -g."
            )
        log.info("Adopting %s (%s) for Discord %s", room_id, room.alias, room.discord_id)
        found[room.discord_id] = room_id
    await _adopt_parent_spaces(bot, wanted, found, joined)
    return found


async def _adopt_parent_spaces(
    bot: IntentAPI, wanted: list[WantedRoom], found: dict[int, str], joined: set[str]
) -> None:
    """Spaces without an alias (guild, category, forum): walk up from adopted rooms.

    Each adopted room's ``m.space.parent`` rooms that the bot is in are read; one carrying
    the bridge info of a wanted space node is adopted, and its own parents are walked too.
    Adds to ``found`` in place.
    """
    spaces = {
        room.info_key: room
        for room in wanted
        if not room.alias and room.info_key and room.discord_id not in found
    }
    queue, seen = list(found.values()), set(found.values())
    while spaces and queue:
        for parent in await _space_parents(bot, queue.pop()):
            if parent in seen or parent not in joined:
                continue
            seen.add(parent)
            for key in await _bridge_info_keys(bot, parent):
                space = spaces.pop(key, None)
                if space is not None:
                    log.info("Adopting the space %s for Discord %s", parent, space.discord_id)
                    found[space.discord_id] = parent
                    queue.append(parent)


async def _space_parents(bot: IntentAPI, room_id: str) -> list[str]:
    """The rooms ``room_id`` names in non-empty ``m.space.parent`` state."""
    return [
        str(event.state_key)
        for event in await _state(bot, room_id)
        if str(event.type) == "m.space.parent" and event.content.serialize()
    ]


async def _bridge_info_keys(bot: IntentAPI, room_id: str) -> list[str]:
    """The state keys of the room's non-empty ``m.bridge`` events."""
    return [
        str(event.state_key)
        for event in await _state(bot, room_id)
        if str(event.type) == BRIDGE_INFO and event.content.serialize()
    ]


async def _state(bot: IntentAPI, room_id: str) -> list[Any]:
    try:
        return list(await bot.get_state(RoomID(room_id)))
    except MatrixRequestError as error:
        log.warning("Could not read the state of %s: %s", room_id, error)
        return []


async def _has_bridge_info(bot: IntentAPI, room_id: str, info_key: str | None) -> bool:
    """Whether the room has non-empty ``m.bridge`` state under ``info_key``."""
    if info_key is None:
        return False
    try:
        content = await bot.get_state_event(RoomID(room_id), EventType.find(BRIDGE_INFO), info_key)
    except MatrixRequestError:
        return False
    return bool(content and content.serialize())


# One createRoom at a time per event loop, so that a room half made by a failed one is told
# apart from the rooms other syncs create meanwhile.
_CREATING: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()
# The rooms created through leaving_partial_room in this event loop (every createRoom of
# the bridge goes through it).
_MADE: WeakKeyDictionary[asyncio.AbstractEventLoop, set[str]] = WeakKeyDictionary()


@asynccontextmanager
async def leaving_partial_room(
    bot: IntentAPI, desired: Mapping[tuple[str, str], Any], joined: set[str] | None = None
) -> AsyncIterator[Callable[[str], None]]:
    """Around ``POST /createRoom``: when it fails, leave the room it may have made anyway.

    Synapse creates the room and joins its creator before it sends the initial state; a
    refused state event (e.g. 413 M_TOO_LARGE for a topic over 64 KiB) then fails the
    request with the room made, the bot in it and its ID untold. The bot's joined rooms
    before are compared with those after; a new one the bot created (``m.room.create``
    sender) is left, and the alias of ``desired`` (the room's desired state), which Synapse
    makes before the state, is deleted when it points there. Re-raises the
    MatrixRequestError.

    ``joined``: the bot's joined rooms listed earlier (at the start of a sync), so that no
    ``GET /joined_rooms`` is needed before each creation; the rooms created since in this
    event loop count as joined before too. The caller calls the yielded function with the
    new room's ID once created.
    """
    alias = desired.get(("m.room.canonical_alias", ""), {}).get("alias")
    loop = asyncio.get_running_loop()
    lock = _CREATING.setdefault(loop, asyncio.Lock())
    made = _MADE.setdefault(loop, set())
    async with lock:
        before = (joined | made) if joined is not None else await joined_room_ids(bot)
        try:
            yield made.add
        except MatrixRequestError:
            for room_id in await joined_room_ids(bot) - before:
                if await _creator(bot, room_id) != bot.mxid:
                    continue  # joined meanwhile (an invite), not made by the bot
                log.warning("Leaving %s, half made by a failed createRoom", room_id)
                await _forget_room(bot, room_id, alias)
            raise


async def _forget_room(bot: IntentAPI, room_id: str, alias: str | None) -> None:
    """Delete ``alias`` if it points to ``room_id``, then leave the room; errors are logged."""
    if alias:
        try:
            if str((await bot.resolve_room_alias(RoomAlias(alias))).room_id) == room_id:
                await bot.api.request(Method.DELETE, Path.v3.directory.room[alias])
        except MatrixRequestError as error:
            log.debug("Alias %s of the half-made room %s: %s", alias, room_id, error)
    try:
        await bot.leave_room(RoomID(room_id))
    except MatrixRequestError as error:
        log.warning("Could not leave %s: %s", room_id, error)


async def _creator(bot: IntentAPI, room_id: str) -> str | None:
    """The sender of the room's ``m.room.create`` event."""
    for event in await _state(bot, room_id):
        if str(event.type) == "m.room.create":
            return str(event.sender)
    return None


async def record_created_room(
    tables: BridgeTables,
    guild_row: GuildRow,
    node: PortalNode,
    room_id: str,
    live_since: int | None = None,
) -> None:
    """Save a room as soon as it is created, so a failed sync leaves no unknown room and
    messages for it are routed at once (waiting for the sync meanwhile: ``sync_watch``).

    The guild space goes into ``guild_row`` (saved); any other node gets a minimal portal
    row that the end of the sync completes (``GuildBridge._save_rows``). ``live_since``
    (ms since the epoch; default now): from when the room's Matrix events are relayed, for a
    new room a time before its ``createRoom``.
    """
    if node.kind is PortalKind.GUILD_SPACE:
        guild_row.space_room_id = room_id
        await tables.guilds.upsert(guild_row)
        return
    row = await tables.portals.get(node.discord_id) or PortalRow(
        node.discord_id, guild_id=guild_row.discord_id
    )
    row.room_id = room_id
    row.name = node.name
    row.parent_id = node.parent_id if node.parent_id != guild_row.discord_id else None
    if row.live_since is None:
        row.live_since = int(time.time() * 1000) if live_since is None else live_since
    await tables.portals.upsert(row)
