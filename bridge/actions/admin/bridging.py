"""Bridging a guild from a command, syncing it, and inviting Matrix users into it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord
from mautrix.api import Method, Path
from mautrix.errors import MatrixRequestError, MNotFound
from mautrix.types import RoomID, UserID

from ...portal.guild_sync import GuildNotFound
from .services import ActionError, Actor, AdminServices

log = logging.getLogger("bridge.admin")


@dataclass(frozen=True)
class BridgeOutcome:
    """A guild bridged (or synced): its space and what the sync did."""

    guild_id: int
    name: str
    space_room_id: str
    rooms_created: int
    state_events_sent: int
    already_bridged: bool
    invited: tuple[str, ...] = ()


def guild_or_error(services: AdminServices, guild_id: int) -> discord.Guild:
    """The guild, or an :class:`ActionError` (404) listing the guilds the bot is in."""
    guild = services.discord.get_guild(guild_id)
    if guild is not None:
        return guild
    known = ", ".join(f"{g.name} ({g.id})" for g in services.discord.guilds) or "none"
    raise ActionError(
        f"The Discord bot is not in a guild with ID {guild_id}. It is in: {known}. "
        "Invite the bot to the guild first (see the README's invite link).",
        status=404,
    )


def actor_tag(actor: Actor) -> str:
    """How ``guild.bridged_by`` records who bridged a guild."""
    if actor.mxid:
        return f"matrix:{actor.mxid}"
    if actor.discord_user_id:
        return f"discord:{actor.discord_user_id}"
    return actor.via


async def bridge_guild(services: AdminServices, guild_id: int, actor: Actor) -> BridgeOutcome:
    """Bridge a guild the bot is in as a space (again: a sync); the one who asked (a Matrix
    user) and the configured admins are invited into the space by the guild's bridging
    (``bridge.portal.space_members``). Raises :class:`ActionError`."""
    guild = guild_or_error(services, guild_id)
    already = await services.tables.guilds.get(guild_id) is not None
    try:
        result = await services.guilds.bridge_guild(guild_id, bridged_by=actor_tag(actor))
    except GuildNotFound as error:
        raise ActionError(str(error), status=404) from error
    log.info("Guild %s bridged by %s as %s", guild_id, actor.describe(), result.space_room_id)
    return BridgeOutcome(
        guild_id,
        guild.name,
        result.space_room_id,
        result.rooms_created,
        result.state_events_sent,
        already,
        result.invited,
    )


async def sync_guild(services: AdminServices, guild_id: int) -> BridgeOutcome:
    """Sync a bridged guild's space tree and power levels now. Raises :class:`ActionError`."""
    guild = guild_or_error(services, guild_id)
    if await services.tables.guilds.get(guild_id) is None:
        raise ActionError(
            f"Guild {guild.name} ({guild_id}) is not bridged; `bridge {guild_id}` bridges it.",
            status=409,
        )
    result = await services.guilds.sync(guild)
    return BridgeOutcome(
        guild_id,
        guild.name,
        result.space_room_id,
        result.rooms_created,
        result.state_events_sent,
        True,
    )


@dataclass(frozen=True)
class InviteOutcome:
    """Where a user was invited now, and where they already were (invited or joined)."""

    user: str
    guild_id: int
    name: str
    space_room_id: str
    invited: tuple[str, ...] = ()  # room IDs (the space's among them) invited to now
    already_invited: tuple[str, ...] = ()
    already_joined: tuple[str, ...] = ()


async def check_user_exists(services: AdminServices, user: str) -> None:
    """Refuse (:class:`ActionError`, 404) a user of the bridge's own homeserver who does not
    exist there. Users of other servers are not checked: only a federation profile query
    could tell, slow and often refused, so inviting them is left to their server."""
    if not user.endswith(f":{services.config['homeserver.domain']}"):
        return
    try:
        await services.bot.get_profile(UserID(user))
    except MatrixRequestError as error:
        # 404, M_NOT_FOUND by the spec; Synapse answers M_UNKNOWN "No row found (profiles)".
        if error.http_status != 404:  # e.g. 403: profiles limited to users sharing a room
            log.info("Could not check that %s exists: %s", user, error)
            return
        raise ActionError(
            f"There is no Matrix user {user} on this homeserver: check the spelling (a full ID "
            "like `@name:server`), or ask them to register first.",
            status=404,
        ) from error


async def _membership(services: AdminServices, room_id: str, user: str) -> str | None:
    """The user's membership in a room as the bot sees it (None: never in it)."""
    try:
        content = await services.bot.api.request(
            Method.GET, Path.v3.rooms[room_id].state["m.room.member"][user]
        )
    except MNotFound:
        return None
    return content.get("membership")


async def invite(services: AdminServices, user: str, guild_id: int | None) -> InviteOutcome:
    """Invite a Matrix user into a guild's space, its sub-spaces and every room that
    @everyone can see on Discord. ``guild_id`` may be left out when one guild is bridged.
    Raises :class:`ActionError`: 404 for an unknown user of the bridge's own server, 409 for
    a guild not bridged."""
    rows = await services.tables.guilds.find()
    if guild_id is None:
        if len(rows) != 1:
            names = ", ".join(f"{r.name} ({r.discord_id})" for r in rows) or "none"
            raise ActionError(f"Name the guild: `invite {user} GUILD_ID`. Bridged guilds: {names}.")
        guild_id = rows[0].discord_id
    row = next((r for r in rows if r.discord_id == guild_id), None)
    if row is None or row.space_room_id is None:
        raise ActionError(f"Guild {guild_id} is not bridged; `bridge {guild_id}` bridges it.", 409)
    await check_user_exists(services, user)
    guild = services.discord.get_guild(guild_id)
    rooms = [row.space_room_id]
    for portal in await services.tables.portals.find("guild_id = $1", guild_id, order="discord_id"):
        if portal.room_id is None:
            continue
        channel = guild.get_channel_or_thread(portal.discord_id) if guild else None
        if (
            guild is not None
            and channel is not None
            and not channel.permissions_for(guild.default_role).view_channel
        ):
            continue  # a private channel: its members get in through their roles
        rooms.append(portal.room_id)
    found: dict[str, list[str]] = {"invite": [], "join": [], "new": []}
    for room_id in rooms:
        membership = await _membership(services, room_id, user)
        if membership in ("invite", "join"):
            found[membership].append(room_id)
            continue
        try:
            await services.bot.invite_user(RoomID(room_id), UserID(user))
        except MatrixRequestError as error:
            raise ActionError(f"Could not invite {user} to {room_id}: {error.message}") from error
        found["new"].append(room_id)
    return InviteOutcome(
        user,
        guild_id,
        row.name,
        row.space_room_id,
        tuple(found["new"]),
        tuple(found["invite"]),
        tuple(found["join"]),
    )
