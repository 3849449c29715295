"""Room rules that depend on the room version: who has power by creating a room (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Room versions where the creators' power is implied and must not be listed (MSC4289):
# version 12, its unstable name, and any later numbered version (see creators_have_every_power).
CREATOR_IMPLIED_VERSIONS = frozenset({"12", "org.matrix.hydra.11"})


def creators_have_every_power(room_version: Any) -> bool:
    """Whether a room version gives its creators infinite power, kept out of the power
    levels' ``users`` (MSC4289: room version 12 and later numbered versions).

    ``room_version`` is the ``room_version`` of a room's ``m.room.create`` content; missing
    (None or "") means version "1" (spec: m.room.create).
    """
    version = str(room_version or "1")
    return version in CREATOR_IMPLIED_VERSIONS or (version.isdigit() and int(version) >= 12)


def creation_power_levels(
    creator: str, users: Mapping[str, int], room_version: str
) -> dict[str, int]:
    """The ``users`` map of the power levels of a room ``creator`` creates as ``room_version``.

    From room version 12 the creator has unlimited power by construction, and Synapse refuses
    a room whose power levels name the creator (M_UNKNOWN "must not appear in content.users").
    Before, the creator is listed with at least 100, or it could not manage its own room.
    """
    if creators_have_every_power(room_version):
        return {user: level for user, level in users.items() if user != creator}
    return {**users, creator: max(100, users.get(creator, 100))}


def without_implied_creator(
    power_levels: Mapping[str, Any], creator: str, room_version: Any
) -> dict[str, Any]:
    """``power_levels`` content fit for an existing room of ``room_version``.

    The bridge's desired power levels list its bot at 100 when the bridge creates rooms of a
    version before 12; a room of version 12 or later (created earlier, or by someone else)
    must not name its creators, so there the bot's entry is dropped from ``users``. Whatever
    the room has for the bot stays (``merge_power_levels`` keeps non-ghost entries): nothing
    when the bot created it, its level when someone else did.
    """
    users = power_levels.get("users") or {}
    if not creators_have_every_power(room_version) or creator not in users:
        return dict(power_levels)
    return {**power_levels, "users": {u: level for u, level in users.items() if u != creator}}
