"""Room creation rules that depend on the room version."""

from __future__ import annotations

from collections.abc import Mapping

# Room versions where the creator's power is implied and must not be listed (MSC4289).
CREATOR_IMPLIED_VERSIONS = frozenset({"12"})


def creation_power_levels(
    creator: str, users: Mapping[str, int], room_version: str = "12"
) -> dict[str, int]:
    """The ``users`` map of a room's initial power levels.

    From room version 12 the creator has unlimited power by construction, and Synapse refuses
    a room whose power levels name the creator (M_UNKNOWN "must not appear in content.users").
    """
    if room_version in CREATOR_IMPLIED_VERSIONS:
        return {user: level for user, level in users.items() if user != creator}
    return {**users, creator: max(100, users.get(creator, 100))}
