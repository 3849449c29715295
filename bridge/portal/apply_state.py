"""Carrying out a state diff: send only what differs, and remember it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError
from mautrix.types import EventType, RoomID

from ..convert.d2m.room_state import DesiredState, merge_power_levels, state_diff
from ..matrix.rooms import without_implied_creator
from .state_cache import RoomStateCache

log = logging.getLogger("bridge.portal.state")
POWER_LEVELS = "m.room.power_levels"


async def apply_state(
    bot: IntentAPI,
    cache: RoomStateCache,
    room_id: str,
    desired: DesiredState,
    is_ghost: Callable[[str], bool],
    owners: Sequence[str] = (),
) -> int:
    """Make the room's state match ``desired``; returns how many events were sent.

    Power levels keep the entries Matrix users have there (only ghosts' levels come from
    Discord), and never name the bot in a room of version 12 or later (MSC4289), nor its
    other creators; ``owners`` (``bridge.room_owners``) who are not creators of the room get
    100 there. A failure on one event is logged and the others still go out.
    """
    actual = await cache.get(room_id)
    wanted = dict(desired)
    if (POWER_LEVELS, "") in wanted:
        # The room's own version decides (rooms keep the version they were created with).
        create = actual.get(("m.room.create", ""), {})
        fitted = without_implied_creator(
            wanted[(POWER_LEVELS, "")],
            bot.mxid,
            create.get("room_version"),
            additional_creators=create.get("additional_creators") or (),
            owners=owners,
        )
        wanted[(POWER_LEVELS, "")] = merge_power_levels(
            fitted, actual.get((POWER_LEVELS, "")), is_ghost
        )
    sent = 0
    for event_type, state_key, content in state_diff(wanted, actual):
        try:
            await send_state(bot, room_id, event_type, state_key, content)
        except MatrixRequestError as error:
            log.warning("Could not set %s/%s in %s: %s", event_type, state_key, room_id, error)
            continue
        cache.record(room_id, event_type, state_key, content)
        sent += 1
    return sent


async def send_state(
    bot: IntentAPI, room_id: str, event_type: str, state_key: str, content: dict[str, Any]
) -> None:
    await bot.send_state_event(
        RoomID(room_id),
        EventType.find(event_type, EventType.Class.STATE),
        content,
        state_key=state_key,
    )
