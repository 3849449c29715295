"""Room rules that depend on the room version: who has power by creating a room (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def room_creators(create: Mapping[str, Any], create_sender: str | None) -> set[str]:
    """Who created a room of version 12 or later (MSC4289): the ``m.room.create`` sender and
    its ``content.additional_creators``; an empty set before version 12 (pure)."""
    if not creators_have_every_power(create.get("room_version")):
        return set()
    extra = create.get("additional_creators") or []
    return {str(user) for user in [create_sender, *extra] if user}


def creation_power_levels(
    creator: str, users: Mapping[str, int], room_version: str, owners: Sequence[str] = ()
) -> dict[str, int]:
    """The ``users`` map of the power levels of a room ``creator`` creates as ``room_version``,
    with ``owners`` (``bridge.room_owners``) as ``additional_creators`` from version 12.

    From room version 12 the creators have unlimited power by construction, and Synapse refuses
    a room whose power levels name one (M_UNKNOWN "must not appear in content.users"): the
    creator and the owners are left out. Before, the creator and the owners are listed with at
    least 100, or they could not manage the room.
    """
    if creators_have_every_power(room_version):
        implied = {creator, *owners}
        return {user: level for user, level in users.items() if user not in implied}
    levels = {**users, creator: max(100, users.get(creator, 100))}
    for owner in owners:
        levels[owner] = max(100, users.get(owner, 100))
    return levels


def without_implied_creator(
    power_levels: Mapping[str, Any],
    creator: str,
    room_version: Any,
    *,
    additional_creators: Sequence[str] = (),
    owners: Sequence[str] = (),
) -> dict[str, Any]:
    """``power_levels`` content fit for an existing room of ``room_version``.

    The bridge's desired power levels list its bot at 100 when the bridge creates rooms of a
    version before 12; a room of version 12 or later (created earlier, or by someone else)
    must not name its creators, so there the bot's entry is dropped from ``users``, and so are
    the room's ``additional_creators`` (its ``m.room.create`` content). Whatever the room has
    for the bot stays (``merge_power_levels`` keeps non-ghost entries): nothing when the bot
    created it, its level when someone else did. ``owners`` (``bridge.room_owners``) who are
    not creators of the room get at least 100 (rooms before version 12, and version-12 rooms
    made before they were configured, until ``handover`` makes them creators).
    """
    users = dict(power_levels.get("users") or {})
    implied: set[str] = set()
    if creators_have_every_power(room_version):
        implied = {creator, *additional_creators}
        users = {user: level for user, level in users.items() if user not in implied}
    for owner in owners:
        if owner not in implied:
            users[owner] = max(100, users.get(owner, 100))
    if users == (power_levels.get("users") or {}):
        return dict(power_levels)
    return {**power_levels, "users": users}
