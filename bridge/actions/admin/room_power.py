"""Whether the bridge bot has the power in an existing Matrix room to bridge it (pure).

Bridging a room sends the bridge's state there (bridge info, space parent, name, join rules,
power levels of Discord users' ghosts) and invites ghosts. The bot needs power level 100 for
ghosts at 100 (Discord admins), and at least the level of every state event it sends, of
inviting, and of each power-level setting it writes. Under room version 12 the room's
creators (the sender of ``m.room.create`` and its ``additional_creators``) have every power.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...matrix.rooms import creators_have_every_power, room_creators

# State the bridge sends into a channel's room (see ``convert/d2m/room_state.py``).
BRIDGE_STATE_TYPES = (
    "m.room.name",
    "m.room.topic",
    "m.room.avatar",
    "m.room.join_rules",
    "m.room.history_visibility",
    "m.room.power_levels",
    "m.room.canonical_alias",
    "m.space.parent",
    "m.bridge",
    "uk.half-shot.bridge",
)
# Power-level settings the bridge writes; changing one needs at least its current value.
LEVEL_SETTINGS = ("ban", "kick", "redact", "invite", "state_default", "events_default")
# Ghosts of Discord admins get 100: the bot cannot give more than it has.
HIGHEST_GHOST_LEVEL = 100

__all__ = [
    "BotPower",
    "bot_power",
    "creators_have_every_power",
    "is_creator",
    "room_creators",
    "too_little_power_text",
]


@dataclass(frozen=True)
class BotPower:
    """The bot's level in a room and the level bridging the room needs (``None``: a creator)."""

    level: int | None
    needed: int

    @property
    def enough(self) -> bool:
        return self.level is None or self.level >= self.needed


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def is_creator(bot_mxid: str, create: dict[str, Any], create_sender: str | None) -> bool:
    """Whether the bot is one of the room's creators, with every power (room version 12)."""
    return bot_mxid in room_creators(create, create_sender)


def bot_power(
    bot_mxid: str,
    power_levels: dict[str, Any] | None,
    create: dict[str, Any],
    create_sender: str | None,
) -> BotPower:
    """The bot's level (``m.room.power_levels``, ``m.room.create`` contents) and the level it
    needs to bridge the room."""
    levels = power_levels or {}
    events = levels.get("events") or {}
    state_default = _int(levels.get("state_default"), 50 if power_levels else 0)
    needed = HIGHEST_GHOST_LEVEL
    for event_type in BRIDGE_STATE_TYPES:
        needed = max(needed, _int(events.get(event_type), state_default))
    for setting in LEVEL_SETTINGS:
        needed = max(needed, _int(levels.get(setting), 0))
    if is_creator(bot_mxid, create, create_sender):
        return BotPower(None, needed)
    users = levels.get("users") or {}
    default = _int(levels.get("users_default"), 0)
    if not power_levels:  # no power levels event: the creator has 100, everyone else 0
        return BotPower(100 if bot_mxid == create_sender else 0, needed)
    return BotPower(_int(users.get(bot_mxid), default), needed)


def too_little_power_text(bot_mxid: str, power: BotPower, retry: str) -> str:
    """What to do when the bot's power is too low; ``retry`` is the command to send again."""
    return (
        f"The bridge bot {bot_mxid} has power level {power.level} in this room, and bridging "
        f"it needs {power.needed} (to set the room's state, give Discord admins' ghosts their "
        "levels and invite them). Give it that level: in Element, Room settings → Roles & "
        f"Permissions → add {bot_mxid} with a custom level of {power.needed} (or send "
        f"`/op {bot_mxid} {power.needed}`), then send `{retry}` again."
    )
