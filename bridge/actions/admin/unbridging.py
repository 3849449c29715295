"""Unbridging a guild or one channel: the database forgets it, its rooms are left behind.

By default the rooms stay as archives (see :mod:`.room_exit`); ``delete_rooms`` empties them.
The database rows go first, under the guild's sync lock, so nothing is relayed either way
from then on and no sync recreates a room half taken apart. A channel unbridged while its
guild stays bridged is recorded in ``excluded_channel``, which later syncs leave out.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import discord
from mautrix.util.async_db.connection import LoggingConnection

from ...db.rows import ExcludedChannelRow, PortalRow
from .room_exit import RoomExit, archive_room, empty_room
from .services import ActionError, Actor, AdminServices

log = logging.getLogger("bridge.admin.unbridge")

ARCHIVE_NOTICE = "This room is no longer bridged to Discord; it stays here as an archive."
# Rows of these tables name the room a channel's messages went to.
_ROOM_TABLES = ("message_part", "reaction", "matrix_reaction", "permission_notice", "matrix_inbox")


@dataclass(frozen=True)
class UnbridgeOutcome:
    """What was unbridged, and how many rooms (and spaces) were archived or emptied."""

    kind: str  # "guild" or "channel"
    target_id: int
    name: str
    rooms: int  # rooms (and spaces) archived or emptied
    deleted: bool  # True with delete_rooms
    not_removed: tuple[str, ...] = ()  # members the homeserver let nobody kick (creators)
    # Archives the bot stayed in: no one else had joined them (see room_exit.archive_room).
    bot_stayed: int = 0


@dataclass(frozen=True)
class UnbridgeTarget:
    """A bridged guild or channel and everything of it that the bridge forgets.

    ``portals`` are the target channel and its descendants (a category's channels, a
    forum's posts), or every portal of a guild; ``space_room_id`` is set for a guild.
    """

    kind: str
    target_id: int
    guild_id: int
    name: str
    portals: tuple[PortalRow, ...]
    space_room_id: str | None = None

    @property
    def room_ids(self) -> list[str]:
        """Every room and space of the target, the guild's space first."""
        rooms = [self.space_room_id] if self.space_room_id else []
        return rooms + [row.room_id for row in self.portals if row.room_id]


async def find_target(services: AdminServices, target_id: int) -> UnbridgeTarget:
    """The bridged guild or channel with this ID; :class:`ActionError` (404) when neither."""
    tables = services.tables
    guild = await tables.guilds.get(target_id)
    if guild is not None:
        portals = await tables.portals.find("guild_id = $1", target_id, order="discord_id")
        return UnbridgeTarget(
            "guild", target_id, target_id, guild.name, tuple(portals), guild.space_room_id
        )
    portal = await tables.portals.get(target_id)
    if portal is None or portal.guild_id is None:
        raise ActionError(
            f"Nothing bridged has the ID {target_id}: it is neither a bridged guild nor a "
            "bridged channel. Send `guilds` for the bridged guilds and their IDs.",
            status=404,
        )
    siblings = await tables.portals.find("guild_id = $1", portal.guild_id, order="discord_id")
    return UnbridgeTarget(
        "channel", target_id, portal.guild_id, portal.name, _descendants(portal, siblings)
    )


def _descendants(top: PortalRow, rows: list[PortalRow]) -> tuple[PortalRow, ...]:
    """``top`` and the rows under it, at any depth (pure)."""
    found = [top]
    ids = {top.discord_id}
    grew = True
    while grew:
        grew = False
        for row in rows:
            if row.parent_id in ids and row.discord_id not in ids:
                found.append(row)
                ids.add(row.discord_id)
                grew = True
    return tuple(found)


async def target_of_room(services: AdminServices, room_id: str) -> int:
    """The guild (its space) or channel bridged to a room; :class:`ActionError` otherwise."""
    portal = await services.tables.portal_by_room(room_id)
    if portal is not None:
        return portal.discord_id
    guild = await services.tables.guilds.find_one("space_room_id = $1", room_id)
    if guild is not None:
        return guild.discord_id
    raise ActionError(
        "This room is not bridged to Discord: send this command in a channel's room or a "
        "guild's space, or `unbridge <guild|channel>` from a direct chat with the bot."
    )


async def unbridge(
    services: AdminServices,
    target_id: int,
    *,
    delete_rooms: bool,
    actor: Actor,
    reason: str | None = None,
) -> UnbridgeOutcome:
    """Stop bridging a guild or a channel (by ID, see :func:`find_target`).

    The database forgets the mappings, then every room of the target is archived (or, with
    ``delete_rooms``, emptied) and the bridge's Discord webhooks are deleted. Raises
    :class:`ActionError` (404) when ``target_id`` is not bridged.
    """
    guild_id = (await find_target(services, target_id)).guild_id
    # A running import of it stops first (its checkpoint is then forgotten with the rest).
    for job in await services.imports.cancel(target_id):
        log.info("Import %s stopped: %s is being unbridged", job.job_id, target_id)
    async with services.guilds.locked(guild_id):  # no sync in between
        target = await find_target(services, target_id)
        await _forget(services, target)
    log.info(
        "Unbridged %s %s (%s) by %s%s; %s its %d rooms",
        target.kind,
        target.target_id,
        target.name,
        actor.describe(),
        f" ({reason})" if reason else "",
        "emptying" if delete_rooms else "archiving",
        len(target.room_ids),
    )
    why = _why(actor, reason)
    # Who may still manage the archives once the bot (their creator) has left: the room
    # owners (bridge.room_owners) among them, so nothing of the community needs the bridge.
    owners = [str(owner) for owner in services.config["bridge.room_owners"] or ()]
    keepers = list(
        dict.fromkeys([*owners, *([actor.mxid] if actor.mxid else []), *services.admins()])
    )
    stayed: dict[str, None] = {}
    bot_stayed = 0
    for room in reversed(_room_exits(services, target)):  # the guild's space last
        if delete_rooms:
            reason_text = f"This room is no longer bridged to Discord. {why}".strip()
            stayed.update(dict.fromkeys(await empty_room(services, room, reason_text)))
        else:
            left = await archive_room(services, room, f"{ARCHIVE_NOTICE} {why}".strip(), keepers)
            bot_stayed += not left
    await _delete_webhooks(services, target.portals)
    return UnbridgeOutcome(
        target.kind,
        target.target_id,
        target.name,
        len(target.room_ids),
        delete_rooms,
        tuple(stayed),
        bot_stayed,
    )


def _why(actor: Actor, reason: str | None) -> str:
    """Who unbridged and why, as a sentence (empty when neither is worth saying; pure)."""
    person = actor.mxid or actor.discord_user_id
    if person:
        return f"Unbridged by {actor.describe()}" + (f": {reason}." if reason else ".")
    return f"{reason[:1].upper()}{reason[1:]}." if reason else ""


def _room_exits(services: AdminServices, target: UnbridgeTarget) -> list[RoomExit]:
    """The rooms to leave, parents before children; a lone channel leaves its parent."""
    exits = []
    if target.space_room_id:
        exits.append(RoomExit(target.space_room_id, services.alias_of(target.target_id)))
    for row in target.portals:
        if row.room_id:
            detach = target.kind == "channel" and row.discord_id == target.target_id
            exits.append(RoomExit(row.room_id, services.alias_of(row.discord_id), detach))
    return exits


async def _forget(services: AdminServices, target: UnbridgeTarget) -> None:
    """Delete the target's rows in one transaction and drop what is cached about them."""
    rooms = target.room_ids
    channels = {row.discord_id for row in target.portals}
    db = services.tables.db
    for room_id in rooms:  # threads of text channels: their messages are in the parent's room
        threads = await db.fetch(
            "SELECT DISTINCT thread_id FROM message_part "
            "WHERE room_id = $1 AND thread_id IS NOT NULL",
            room_id,
        )
        channels |= {int(record["thread_id"]) for record in threads}
    connection: LoggingConnection
    async with db.acquire() as connection, connection.transaction():
        for room_id in rooms:
            for table in _ROOM_TABLES:
                await connection.execute(f"DELETE FROM {table} WHERE room_id = $1", room_id)
        for channel_id in channels:
            await connection.execute(
                "DELETE FROM import_checkpoint WHERE channel_id = $1", channel_id
            )
            await connection.execute("DELETE FROM portal WHERE discord_id = $1", channel_id)
        if target.kind == "guild":
            await connection.execute("DELETE FROM guild WHERE discord_id = $1", target.guild_id)
            await connection.execute(
                "DELETE FROM excluded_channel WHERE guild_id = $1", target.guild_id
            )
    if target.kind == "guild":
        services.stats.forget(target.guild_id)
    else:
        now = int(time.time() * 1000)
        await services.tables.excluded_channels.upsert(
            ExcludedChannelRow(target.target_id, target.guild_id, now)
        )
    for row in target.portals:
        services.m2d.webhooks.forget(row.discord_id)
        if services.relay.webhooks is not None:
            services.relay.webhooks.forget(row.discord_id)


async def _delete_webhooks(services: AdminServices, portals: tuple[PortalRow, ...]) -> None:
    """Delete the bridge's own webhook of each channel on Discord (best effort)."""
    for row in portals:
        if not (row.webhook_id and row.webhook_token):
            continue
        webhook = discord.Webhook.partial(
            row.webhook_id, row.webhook_token, client=services.discord
        )
        try:
            await webhook.delete(reason="The channel is no longer bridged to Matrix")
        except discord.HTTPException as error:
            log.warning(
                "Could not delete the webhook %s of channel %s: %s",
                row.webhook_id,
                row.discord_id,
                error,
            )
