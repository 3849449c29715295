"""The guild space's alias (``#discord_<guild id>:domain``) for spaces made before it had one.

A space created now gets its alias from ``createRoom`` (``room_alias_name``). A space created
by an older version has none: before the sync sets its ``m.room.canonical_alias``, the alias is
added to the room directory, since a homeserver refuses a canonical alias that does not point
to the room (spec: m.room.canonical_alias; Synapse answers 400 M_BAD_ALIAS). Idempotent: a
space whose canonical alias is already that one costs no request.
"""

from __future__ import annotations

import logging

from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError
from mautrix.types import RoomAlias, RoomID

from ..convert.d2m.room_state import DesiredState, alias_localpart
from .state_cache import RoomStateCache

log = logging.getLogger("bridge.portal.space")
CANONICAL_ALIAS = ("m.room.canonical_alias", "")


async def with_space_alias(
    bot: IntentAPI, state: RoomStateCache, space_room_id: str, desired: DesiredState
) -> DesiredState:
    """``desired`` (the space's desired state) once its alias points at the space; without
    the canonical alias when the alias cannot be had (taken by another room: logged with
    what to do), so the rest of the sync goes on."""
    alias = desired.get(CANONICAL_ALIAS, {}).get("alias")
    if alias is None:
        return desired
    current = await state.get(space_room_id)
    if current.get(CANONICAL_ALIAS, {}).get("alias") == alias:
        return desired
    problem = await _point_alias(bot, space_room_id, alias)
    if problem is None:
        log.info("The space %s now has the alias %s", space_room_id, alias)
        return desired
    log.warning("The space %s gets no alias %s: %s", space_room_id, alias, problem)
    return {key: content for key, content in desired.items() if key != CANONICAL_ALIAS}


async def _point_alias(bot: IntentAPI, room_id: str, alias: str) -> str | None:
    """Add ``alias`` to the directory for ``room_id`` unless it points there already; None when
    done, else why not."""
    try:
        await bot.add_room_alias(RoomID(room_id), alias_localpart(alias))
        return None
    except MatrixRequestError as error:
        added_error = error
    try:
        found = await bot.resolve_room_alias(RoomAlias(alias))
    except MatrixRequestError:
        return f"the homeserver refused to add it ({added_error})"
    if found.room_id == room_id:
        return None
    return (
        f"it points to another room, {found.room_id}; remove that alias (or that room) "
        "and restart the bridge to give the space its alias"
    )


async def space_address(state: RoomStateCache, space_room_id: str) -> str:
    """How an admin finds the space, for the log: ``"!id (#alias:domain)"``, or the room ID
    alone when the space has no canonical alias (state read once, then cached)."""
    alias = (await state.get(space_room_id)).get(CANONICAL_ALIAS, {}).get("alias")
    return f"{space_room_id} ({alias})" if alias else space_room_id
