"""Giving a bridged guild's rooms to the community's own admins (``bridge.room_owners``).

From room version 12 (MSC4289) a room's creators (the ``m.room.create`` sender and its
``additional_creators``) have every power, for good: a room the bridge bot created stays the
bot's unless its owners become creators too, which only a room upgrade can do. So, per room
of the guild (its space, category spaces, channel and post rooms):

- version 12 or later, owners not all creators: ``POST /rooms/{id}/upgrade`` to the same
  version with the owners as ``additional_creators``. The homeserver tombstones the old room,
  names it as the new one's predecessor, copies name, topic, avatar, join rules, power levels
  (creators left out) and a space's children, and moves every local alias and the canonical
  alias (Synapse ``RoomCreationHandler.upgrade_room``). The bridge then points the portal (or
  the guild's space) at the new room, invites the old room's Matrix members and the owners,
  takes the old room out of its space, and a guild sync puts the rest there: bridge info,
  space parent and children, restricted join rules naming the new space, the image pack.
  Ghosts join the new room when they next speak, as in any room.
- before version 12: the owners get power level 100 (no upgrade can make them more), and
  are invited. So in a room someone else created and linked (``bridge-room``): it is theirs,
  not the bridge's, and an upgrade by the bot would make the bot one of its creators.

Each room handed over is recorded (``room_handover``), so a second run does nothing more
while every owner has what it gives (an owner added later gets it by the next run), and a run
stopped half way finds what is done: a recorded room, or an old room whose tombstone names the
new one (the upgrade happened, the bridge had not recorded it yet).

Messages from before the upgrade stay in the old room, with their mappings: their deletions
are still redacted there, their edits and reactions are skipped (``actions/d2m/messages`` and
``reactions``), and a Discord reply to one becomes a plain message in the new room (Matrix
replies stay in one room), see ``bridge/actions/d2m/lookups.reply_target``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from mautrix.api import Method, Path
from mautrix.errors import MatrixError

from ..actions.admin.room_exit import (
    CREATE_SENDER,
    RoomState,
    hand_over_power,
    invite_missing,
    is_person,
    present_members,
    read_state,
    send_state_quietly,
)
from ..actions.admin.services import ActionError, Actor, AdminServices
from ..db.rows import RoomHandoverRow
from ..matrix.rooms import creators_have_every_power, room_creators

log = logging.getLogger("bridge.migration.handover")


@dataclass(frozen=True)
class RoomTarget:
    """One room of the guild: ``discord_id`` its channel (the guild's id for its space)."""

    discord_id: int
    room_id: str
    name: str
    is_guild_space: bool = False


@dataclass(frozen=True)
class HandedRoom:
    """What ``handover`` did with one room.

    ``method``: "upgrade" (``new_room_id`` replaces it), "power" (owners at 100), "creators"
    (the owners were its creators already), "done" (handed over by an earlier run), or
    "failed" (``error`` says why; the next run tries again).
    """

    name: str
    room_id: str
    version: str
    method: str
    new_room_id: str | None = None
    error: str | None = None
    earlier: str | None = None  # for "done": how the earlier run did it ("upgrade", "power")


@dataclass(frozen=True)
class HandoverOutcome:
    guild_id: int
    guild_name: str
    owners: tuple[str, ...]
    rooms: tuple[HandedRoom, ...]


def owners_of(services: AdminServices) -> tuple[str, ...]:
    """``bridge.room_owners``; :class:`ActionError` when it is empty."""
    owners = tuple(str(owner) for owner in services.config["bridge.room_owners"] or ())
    if not owners:
        raise ActionError(
            "No room owners are configured: set `bridge.room_owners` in the bridge's config to "
            'the Matrix IDs of the community\'s admins (e.g. `["@alice:example.com"]`), '
            "restart the bridge, then send `handover <guild>` again."
        )
    return owners


async def handover(services: AdminServices, guild_id: int, actor: Actor) -> HandoverOutcome:
    """Give every room and space of a bridged guild to ``bridge.room_owners``.

    Raises :class:`ActionError`: no owners configured (400), the guild is not bridged (404),
    the Discord bot is not in it (409: the sync that relinks the new rooms needs the guild).
    """
    owners = owners_of(services)
    guild_row = await services.tables.guilds.get(guild_id)
    if guild_row is None:
        raise ActionError(f"Guild {guild_id} is not bridged; see `guilds`.", 404)
    guild = services.discord.get_guild(guild_id)
    if guild is None:
        raise ActionError(
            f"The Discord bot is not in guild {guild_id} ({guild_row.name}): handing its rooms "
            "over needs a sync of the guild afterwards. Add the bot to the guild first.",
            409,
        )
    log.info("Handing over the rooms of guild %s to %s (%s)", guild_id, owners, actor.describe())
    done: list[HandedRoom] = []
    async with services.guilds.locked(guild_id):  # no sync reads the rows while they move
        for target in await _targets(services, guild_id):
            try:
                done.append(await _hand_over_room(services, guild_id, target, owners))
            except ActionError as error:  # this room's state cannot be read: the others go on
                done.append(
                    HandedRoom(target.name, target.room_id, "?", "failed", None, str(error))
                )
    if any(room.method == "upgrade" for room in done):
        await services.guilds.sync(guild)  # space links, bridge info, join rules, image pack
    return HandoverOutcome(guild_id, guild_row.name or str(guild_id), owners, tuple(done))


async def _targets(services: AdminServices, guild_id: int) -> list[RoomTarget]:
    """The guild's space first, then category spaces, then channel and post rooms."""
    guild_row = await services.tables.guilds.get(guild_id)
    targets = []
    if guild_row and guild_row.space_room_id:
        name = guild_row.name or str(guild_id)
        targets.append(RoomTarget(guild_id, guild_row.space_room_id, name, is_guild_space=True))
    rows = await services.tables.portals.find("guild_id = $1", guild_id, order="discord_id")
    rows.sort(key=lambda row: row.channel_type != 4)  # categories (spaces) before rooms
    targets += [RoomTarget(row.discord_id, row.room_id, row.name) for row in rows if row.room_id]
    return targets


async def _hand_over_room(
    services: AdminServices, guild_id: int, target: RoomTarget, owners: tuple[str, ...]
) -> HandedRoom:
    state = await read_state(services, target.room_id)
    sender = state.get(CREATE_SENDER, {}).get("sender")
    create = state.get(("m.room.create", ""), {})
    version = str(create.get("room_version") or "1")
    creators = room_creators(create, sender)
    earlier = await _handed_before(services, target.room_id)
    if earlier and _owners_served(services, state, version, creators, owners):
        return HandedRoom(target.name, target.room_id, version, "done", earlier=earlier.method)
    if creators_have_every_power(version) and set(owners) <= creators:
        predecessor = (create.get("predecessor") or {}).get("room_id")
        if predecessor and await services.tables.room_handovers.get(predecessor) is None:
            # Upgraded by a run stopped before it recorded the upgrade: finish that.
            old_state = await read_state(services, predecessor)
            await _after_upgrade(services, guild_id, predecessor, target.room_id, old_state, owners)
            return HandedRoom(target.name, predecessor, version, "upgrade", target.room_id)
        await invite_missing(services, target.room_id, state, owners)
        return HandedRoom(target.name, target.room_id, version, "creators")
    # Before version 12, or a room someone else created (``bridge-room``): no upgrade by the
    # bot, which would make it a creator of the new room.
    if not creators_have_every_power(version) or str(services.bot.mxid) not in creators:
        await hand_over_power(services, target.room_id, state, owners, drop_ghosts=False)
        await invite_missing(services, target.room_id, state, owners)
        await _record(services, target.room_id, guild_id, "power", None)
        return HandedRoom(target.name, target.room_id, version, "power")
    try:
        new_room = await _upgrade(services, target, state, version, creators, owners)
        await _after_upgrade(services, guild_id, target.room_id, new_room, state, owners)
    except MatrixError as error:
        log.warning("Could not upgrade %s (%s): %s", target.room_id, target.name, error)
        await hand_over_power(services, target.room_id, state, owners, drop_ghosts=False)
        await invite_missing(services, target.room_id, state, owners)
        why = f"the homeserver refused the upgrade ({error}); the owners got power level 100"
        return HandedRoom(target.name, target.room_id, version, "failed", error=why)
    return HandedRoom(target.name, target.room_id, version, "upgrade", new_room)


def _owners_served(
    services: AdminServices,
    state: RoomState,
    version: str,
    creators: set[str],
    owners: tuple[str, ...],
) -> bool:
    """Whether every owner already has what a handover gives them in this room (pure): a
    creator of a version 12+ room the bot created (an owner added to ``bridge.room_owners``
    after an earlier handover is not, and gets an upgrade), else power level 100."""
    if creators_have_every_power(version) and str(services.bot.mxid) in creators:
        return set(owners) <= creators
    users = (state.get(("m.room.power_levels", "")) or {}).get("users") or {}
    return all(owner in creators or (users.get(owner) or 0) >= 100 for owner in owners)


async def _handed_before(services: AdminServices, room_id: str) -> RoomHandoverRow | None:
    """How an earlier run handed ``room_id`` over (as it is, or as the new room), if one did."""
    row = await services.tables.room_handovers.get(room_id)
    return row or await services.tables.room_handovers.find_one("new_room_id = $1", room_id)


async def _upgrade(
    services: AdminServices,
    target: RoomTarget,
    state: RoomState,
    version: str,
    creators: set[str],
    owners: tuple[str, ...],
) -> str:
    """Upgrade the room to ``version`` with the owners as creators; the new room's id.

    Holds the room's relay lock meanwhile: a Discord message for the channel waits, then
    goes on to the new room (``relay.replaced_rooms``, ``actions/d2m/messages.on_message``).
    """
    bot = services.bot.mxid
    extra = sorted({*creators, *owners} - {str(bot)})
    async with services.relay.room_locks(target.room_id):
        replacement = _tombstoned_to(state)
        if replacement is None:  # not upgraded by an earlier, interrupted run
            answer = await services.bot.api.request(
                Method.POST,
                Path.v3.rooms[target.room_id].upgrade,
                content={"new_version": version, "additional_creators": extra},
            )
            replacement = str(answer["replacement_room"])
            log.info("Upgraded %s (%s) to %s", target.room_id, target.name, replacement)
        await _move_rows(services, target, replacement)
        services.relay.replaced_rooms[target.room_id] = replacement
    return replacement


def _tombstoned_to(state: RoomState) -> str | None:
    replacement = state.get(("m.room.tombstone", ""), {}).get("replacement_room")
    return str(replacement) if replacement else None


async def _move_rows(services: AdminServices, target: RoomTarget, new_room: str) -> None:
    """The portal (or the guild's space) points at the new room from now on."""
    tables = services.tables
    if target.is_guild_space:
        guild_row = await tables.guilds.get(target.discord_id)
        if guild_row is not None and guild_row.space_room_id != new_room:
            guild_row.space_room_id = new_room
            await tables.guilds.upsert(guild_row)
        return
    row = await tables.portals.get(target.discord_id)
    if row is not None and row.room_id != new_room:
        row.room_id = new_room
        await tables.portals.upsert(row)


async def _after_upgrade(
    services: AdminServices,
    guild_id: int,
    old_room: str,
    new_room: str,
    old_state: RoomState,
    owners: tuple[str, ...],
) -> None:
    """The old room's Matrix members and the owners invited to the new room, the old room
    out of its space, the upgrade recorded."""
    new_state = await read_state(services, new_room)
    members = [user for user in present_members(old_state) if is_person(services, user)]
    await invite_missing(services, new_room, new_state, [*owners, *members])
    for (event_type, parent), content in old_state.items():
        if event_type == "m.space.parent" and content:
            await send_state_quietly(services, old_room, "m.space.parent", parent, {})
    await _record(services, old_room, guild_id, "upgrade", new_room)
    services.guilds.state.forget(old_room)


async def _record(
    services: AdminServices, room_id: str, guild_id: int, method: str, new_room: str | None
) -> None:
    row = RoomHandoverRow(room_id, guild_id, method, new_room, int(time.time() * 1000))
    await services.tables.room_handovers.upsert(row)
