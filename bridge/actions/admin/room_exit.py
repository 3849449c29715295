"""Taking the bridge out of one Matrix room: kept as an archive, or emptied.

Archive: the bridge-info state is sent again empty, a notice says why, the room's ghosts
leave, the bridge's alias is removed, and the bot leaves last; Matrix users and the history
stay. Emptied: every member is removed, every local alias too, and the bot leaves last.
Each step is best effort: a failure is logged and the next step still runs, so that one
stubborn room never leaves the others half done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mautrix.api import Method, Path
from mautrix.errors import MatrixError
from mautrix.types import MessageType, RoomID, TextMessageEventContent, UserID

from ...convert.d2m.room_state import alias_localpart
from ...portal.apply_state import send_state
from .room_power import room_creators
from .services import ActionError, AdminServices

log = logging.getLogger("bridge.admin.unbridge")

BRIDGE_STATE_TYPES = ("m.bridge", "uk.half-shot.bridge")
PRESENT = ("join", "invite", "knock")
RoomState = dict[tuple[str, str], dict[str, Any]]
# A pseudo entry of RoomState: {"sender": the m.room.create event's sender}.
CREATE_SENDER = ("bridge.create_sender", "")


@dataclass(frozen=True)
class RoomExit:
    """One room (or space) the bridge leaves.

    ``alias`` is the bridge's ``#discord_<id>:domain`` of the room; ``detach`` makes the room
    leave its parent space, which stays bridged (a channel unbridged on its own).
    """

    room_id: str
    alias: str
    detach: bool = False


async def archive_room(
    services: AdminServices,
    room: RoomExit,
    notice: str,
    keepers: list[str] = (),  # type: ignore[assignment]
) -> bool:
    """Leave ``room`` as an archive: bridge state emptied, ``notice`` sent, ghosts gone,
    the bridge's alias removed, ``keepers`` (Matrix IDs) given power level 100, the bot gone;
    Matrix members and history stay. Returns whether the bot left.

    The bot created the room, and in room version 12 nobody else can be made a creator: the
    keepers' power level is what lets the community manage its archive after the bot left.
    The bot stays in a room no one else has joined (say, a room ``handover`` made whose
    invites are not accepted yet), and invites the keepers there: once the last member
    leaves, a room cannot be joined any more, not even with an invite (no server in it to
    join through), and would be lost.
    """
    state = await _state(services, room.room_id)
    if room.detach:
        await _detach(services, room.room_id, state)
    for (event_type, state_key), content in state.items():
        if event_type in BRIDGE_STATE_TYPES and content:
            await send_state_quietly(services, room.room_id, event_type, state_key, {})
    await _notice(services, room.room_id, notice)
    await _ghosts_leave(services, room.room_id, state, "The room is no longer bridged")
    # Without this, bridging the channel again fails: its new room cannot take the alias,
    # which would still point here ("Room alias already taken").
    await _remove_aliases(services, room.room_id, state, [room.alias])
    await hand_over_power(services, room.room_id, state, keepers)
    if not _someone_else_joined(services, state):
        log.warning(
            "The bot stays in %s: no one else has joined it, and a room nobody is in cannot be "
            "joined any more, not even by the invited; the keepers are invited",
            room.room_id,
        )
        await invite_missing(services, room.room_id, state, keepers)
        return False
    await _bot_leaves(services, room.room_id, "No longer bridged to Discord")
    return True


async def invite_missing(
    services: AdminServices, room_id: str, state: RoomState, users: Sequence[str]
) -> None:
    """Invite each of ``users`` not in the room yet (joined, invited or knocking, per
    ``state``); a refusal is logged (best effort)."""
    present = set(present_members(state))
    for user in dict.fromkeys(users):
        if user in present:
            continue
        try:
            await services.bot.invite_user(RoomID(room_id), UserID(user))
        except MatrixError as error:
            log.warning("Could not invite %s to %s: %s", user, room_id, error)


def is_person(services: AdminServices, user: str) -> bool:
    """A Matrix user who is neither the bridge bot nor one of its ghosts."""
    return user != str(services.bot.mxid) and not services.puppets.is_ghost(user)


def _someone_else_joined(services: AdminServices, state: RoomState) -> bool:
    """Whether anyone but the bot and the ghosts (gone by now) is joined, per ``state``."""
    return any(
        event_type == "m.room.member"
        and content.get("membership") == "join"
        and is_person(services, user)
        for (event_type, user), content in state.items()
    )


async def hand_over_power(
    services: AdminServices,
    room_id: str,
    state: RoomState,
    keepers: Sequence[str],
    *,
    drop_ghosts: bool = True,
) -> None:
    """``keepers`` get power level 100 in the room (creators of room version 12+ are never
    listed) and, with ``drop_ghosts``, the ghosts (gone by now) lose theirs, in one event
    (none if nothing changes; see :func:`handed_over_users`)."""
    levels = state.get(("m.room.power_levels", ""))
    if levels is None:
        return
    create = state.get(("m.room.create", ""), {})
    creators = room_creators(create, state.get(CREATE_SENDER, {}).get("sender"))
    is_ghost = services.puppets.is_ghost if drop_ghosts else (lambda user: False)
    users = handed_over_users(levels, creators, services.bot.mxid, keepers, is_ghost)
    if users != (levels.get("users") or {}):
        content = {**levels, "users": users}
        await send_state_quietly(services, room_id, "m.room.power_levels", "", content)


def handed_over_users(
    levels: dict[str, Any],
    creators: set[str],
    bot_mxid: str,
    keepers: Sequence[str],
    is_ghost: Callable[[str], bool],
) -> dict[str, int]:
    """The power levels' ``users`` once the bridge hands the room over (pure): ``keepers`` at
    100 at least, ghosts left out where the bot may lower them (below its own level, or any
    when the bot is a creator). Creators with every power (room version 12 and later) are
    never listed: the homeserver refuses power levels naming them."""
    users = dict(levels.get("users") or {})
    default = levels.get("users_default", 0)
    bot_level = None if bot_mxid in creators else users.get(bot_mxid, default)
    for user, level in list(users.items()):
        if is_ghost(user) and (bot_level is None or level < bot_level):
            del users[user]
    for user in keepers:
        if user not in creators and users.get(user, default) < 100:
            users[user] = 100
    return users


async def empty_room(services: AdminServices, room: RoomExit, reason: str) -> list[str]:
    """Empty ``room``: invite-only, every member kicked with ``reason`` (ghosts leave),
    every local alias removed, the bot gone last. Returns the members that could not be
    removed (a room's creator, in room version 12, cannot be kicked by anyone)."""
    state = await _state(services, room.room_id)
    if room.detach:
        await _detach(services, room.room_id, state)
    join_rule = state.get(("m.room.join_rules", ""), {}).get("join_rule")
    if join_rule not in (None, "invite"):  # nobody comes back in once it is empty
        await send_state_quietly(
            services, room.room_id, "m.room.join_rules", "", {"join_rule": "invite"}
        )
    await _ghosts_leave(services, room.room_id, state, reason)
    bot = services.bot
    stayed = []
    for user in present_members(state):
        if user == bot.mxid or services.puppets.is_ghost(user):
            continue
        try:
            await bot.kick_user(RoomID(room.room_id), UserID(user), reason=reason)
        except MatrixError as error:
            log.warning("Could not kick %s from %s: %s", user, room.room_id, error)
            stayed.append(user)
    aliases = [room.alias, *await _local_aliases(services, room.room_id)]
    await _remove_aliases(services, room.room_id, state, list(dict.fromkeys(aliases)))
    await _bot_leaves(services, room.room_id, reason)
    return stayed


async def _state(services: AdminServices, room_id: str) -> RoomState:
    """The room's current state as the bot sees it (empty if it cannot, e.g. not in it)."""
    try:
        return await read_state(services, room_id)
    except ActionError as error:
        log.warning("%s", error)
        return {}


async def read_state(services: AdminServices, room_id: str) -> RoomState:
    """The room's current state as the bot sees it, with the ``m.room.create`` sender under
    :data:`CREATE_SENDER`. Raises :class:`ActionError` when the bot cannot read it (e.g. it
    is not in the room any more)."""
    try:
        events = await services.bot.api.request(Method.GET, Path.v3.rooms[room_id].state)
    except MatrixError as error:
        raise ActionError(f"Could not read the state of {room_id} on Matrix: {error}") from error
    state = {(e["type"], e.get("state_key", "")): e.get("content", {}) for e in events}
    for event in events:  # the creator is the create event's sender (not in its content)
        if event["type"] == "m.room.create":
            state[CREATE_SENDER] = {"sender": event.get("sender")}
    return state


def present_members(state: RoomState) -> list[str]:
    """The users joined, invited or knocking in a room's state (as read by the room exits)."""
    return [
        key
        for (event_type, key), content in state.items()
        if event_type == "m.room.member" and content.get("membership") in PRESENT
    ]


async def send_state_quietly(
    services: AdminServices, room_id: str, event_type: str, state_key: str, content: dict
) -> None:
    """Send a state event as the bot and note it in the portal state cache; a refusal is
    logged (a best-effort step: the next one still runs)."""
    try:
        await send_state(services.bot, room_id, event_type, state_key, content)
        services.guilds.state.record(room_id, event_type, state_key, content)
    except MatrixError as error:
        log.warning("Could not send %s to %s: %s", event_type, room_id, error)


async def _detach(services: AdminServices, room_id: str, state: RoomState) -> None:
    """The room leaves its parent spaces: their ``m.space.child`` and its ``m.space.parent``."""
    for (event_type, parent), content in state.items():
        if event_type == "m.space.parent" and content:
            await send_state_quietly(services, parent, "m.space.child", room_id, {})
            await send_state_quietly(services, room_id, "m.space.parent", parent, {})


async def _notice(services: AdminServices, room_id: str, text: str) -> None:
    try:
        content = TextMessageEventContent(msgtype=MessageType.NOTICE, body=text)
        await services.bot.send_message(RoomID(room_id), content)
    except MatrixError as error:
        log.warning("Could not post the unbridging notice in %s: %s", room_id, error)


async def _ghosts_leave(
    services: AdminServices, room_id: str, state: RoomState, reason: str
) -> None:
    """Every ghost in the room leaves; the puppets forget their profile there."""
    room = RoomID(room_id)
    for user in present_members(state):
        ghost_id = services.puppets.ghost_id_of(user)
        if ghost_id is None:
            continue
        intent = services.puppets.intent(ghost_id)
        known = await intent.state_store.get_membership(room, intent.mxid)
        # Puppets.leave also drops its per-room memory, but skips rooms its store misses.
        await services.puppets.leave(ghost_id, [room_id], reason)
        if known in ("join", "invite"):
            continue
        try:
            await intent.leave_room(room, reason=reason)
        except MatrixError as error:
            log.warning("%s could not leave %s: %s", user, room_id, error)


async def _local_aliases(services: AdminServices, room_id: str) -> list[str]:
    try:
        answer = await services.bot.api.request(Method.GET, Path.v3.rooms[room_id].aliases)
    except MatrixError as error:
        log.warning("Could not list the aliases of %s: %s", room_id, error)
        return []
    return [str(alias) for alias in answer.get("aliases", [])]


async def _remove_aliases(
    services: AdminServices, room_id: str, state: RoomState, aliases: list[str]
) -> None:
    """Take the aliases out of the room's canonical alias event first (one event; Synapse
    would otherwise send it itself for each deleted alias), then out of the directory."""
    canonical = state.get(("m.room.canonical_alias", ""), {})
    main, alternatives = canonical.get("alias"), canonical.get("alt_aliases") or []
    kept = [alias for alias in alternatives if alias not in aliases]
    if main in aliases or kept != alternatives:
        content: dict[str, Any] = {"alt_aliases": kept} if kept else {}
        if main and main not in aliases:
            content["alias"] = main
        await send_state_quietly(services, room_id, "m.room.canonical_alias", "", content)
    domain = services.config["homeserver.domain"]
    for alias in aliases:
        if not alias.endswith(f":{domain}"):
            continue  # another server's alias: not ours to remove
        try:
            await services.bot.remove_room_alias(alias_localpart(alias))
        except MatrixError as error:
            log.warning("Could not remove the alias %s of %s: %s", alias, room_id, error)


async def _bot_leaves(services: AdminServices, room_id: str, reason: str) -> None:
    try:
        await services.bot.leave_room(RoomID(room_id), reason=reason)
    except MatrixError as error:
        log.warning("The bot could not leave %s: %s", room_id, error)
    services.guilds.state.forget(room_id)
