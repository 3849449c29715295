"""Linking an existing Matrix room to a Discord channel (``bridge-room``), instead of creating
a room for it.

The room keeps its members, their power levels and its history; the bridge adds its state
(bridge info, space parent and child, Discord members' power levels as in any portal, its
alias), its bot and, as they speak, Discord users' ghosts. The guild's sync does the work:
a portal row naming the room makes the sync adopt it rather than create one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import discord
from mautrix.api import Method, Path
from mautrix.errors import MatrixError, MatrixRequestError
from mautrix.types import RoomID

from ...convert.model import ChannelType
from ...db.rows import GuildRow, PortalRow
from .bridging import actor_tag, bridge_guild
from .room_power import bot_power, too_little_power_text
from .services import ActionError, Actor, AdminServices

log = logging.getLogger("bridge.admin.rooms")
_SPACE_TYPES = (ChannelType.CATEGORY, ChannelType.FORUM, ChannelType.MEDIA)


@dataclass(frozen=True)
class BridgeRoomOutcome:
    """The channel now bridged to the room."""

    channel_id: int
    name: str
    room_id: str
    guild_id: int
    already_bridged: bool = False  # the room was the channel's already (synced again)


def room_kind_problem(channel: Any, voice_bridged: bool) -> str | None:
    """Why a Discord channel cannot have a room of its own (pure), or None if it can."""
    label = f"#{getattr(channel, 'name', channel.id)} ({channel.id})"
    kind = getattr(channel, "type", None)
    if kind == discord.ChannelType.category:
        return (
            f"{label} is a category: the bridge makes categories sub-spaces, not rooms. Name a "
            "text channel in it instead."
        )
    if kind in (discord.ChannelType.forum, discord.ChannelType.media):
        return (
            f"{label} is a forum: the bridge makes forums sub-spaces and each post a room. Name "
            "one of its posts instead."
        )
    if kind in (discord.ChannelType.voice, discord.ChannelType.stage_voice) and not voice_bridged:
        return (
            f"{label} is a voice channel, which gets a room only with "
            "`bridge.bridge_voice_channels: true` in the bridge's config."
        )
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        if parent is None or parent.type not in (
            discord.ChannelType.forum,
            discord.ChannelType.media,
        ):
            return (
                f"{label} is a thread: threads are Matrix threads in their channel's room. Name "
                "its channel instead."
            )
    return None


def _channel_or_error(services: AdminServices, channel_id: int) -> Any:
    channel = services.discord.get_channel(channel_id)
    if channel is None or getattr(channel, "guild", None) is None:
        raise ActionError(
            f"The Discord bot sees no channel with ID {channel_id}: check the ID (in Discord, "
            "right-click the channel → Copy Channel ID) and that the bot is in its guild "
            "(`guilds` lists them).",
            status=404,
        )
    return channel


async def _check_not_bridged(
    services: AdminServices, channel: Any, room_id: str, excluded: bool
) -> PortalRow | None:
    """The channel's portal row (None if it has none); refuses rooms already bridged."""
    tables = services.tables
    space_of = await tables.guilds.find_one("space_room_id = $1", room_id)
    if space_of is not None:
        raise ActionError(
            f"This room is the space of the guild {space_of.name} ({space_of.discord_id}); "
            "send `bridge-room` in a plain Matrix room.",
            status=409,
        )
    portal_here = await tables.portal_by_room(room_id)
    if portal_here is not None and portal_here.discord_id != channel.id:
        what = "space" if portal_here.channel_type in _SPACE_TYPES else "room"
        raise ActionError(
            f"This room is already the {what} of the Discord channel #{portal_here.name} "
            f"({portal_here.discord_id}). Send `bridge-room` in another room, or "
            f"`unbridge {portal_here.discord_id}` first.",
            status=409,
        )
    row = await tables.portals.get(channel.id)
    if row is not None and row.room_id and row.room_id != room_id and not excluded:
        raise ActionError(
            f"#{channel.name} ({channel.id}) is already bridged to the room {row.room_id}. Send "
            f"`unbridge {channel.id}` first (that room stays as an archive), then "
            f"`bridge-room {channel.id}` here again.",
            status=409,
        )
    return row


async def _read_state(services: AdminServices, room_id: str) -> dict[tuple[str, str], Any]:
    """The room's state events (as JSON) by (type, state key); joins the bot first."""
    bot = services.bot
    try:
        await bot.join_room(RoomID(room_id))
    except MatrixError as error:
        raise ActionError(
            f"The bridge bot {bot.mxid} cannot join the room {room_id} ({error}). Invite it to "
            "the room first.",
            status=400,
        ) from error
    events = await bot.api.request(Method.GET, Path.v3.rooms[room_id].state)
    return {(event["type"], event.get("state_key", "")): event for event in events}


async def _check_room(services: AdminServices, room_id: str, channel_id: int) -> None:
    """Refuses spaces, encrypted rooms and rooms where the bot has too little power."""
    state = await _read_state(services, room_id)
    create = state.get(("m.room.create", "")) or {}
    create_content = create.get("content") or {}
    if create_content.get("type") == "m.space":
        raise ActionError(
            "This room is a Matrix space, and a Discord channel needs a plain room. Send "
            "`bridge-room` in a room.",
            status=400,
        )
    if (state.get(("m.room.encryption", "")) or {}).get("content"):
        raise ActionError(
            "This room is encrypted, and the bridge cannot read or send encrypted messages. "
            "Send `bridge-room` in an unencrypted room (encryption cannot be turned off).",
            status=400,
        )
    levels = state.get(("m.room.power_levels", ""))
    power = bot_power(
        services.bot.mxid,
        levels.get("content") if levels is not None else None,
        create_content,
        create.get("sender"),
    )
    if not power.enough:
        retry = f"{services.config['bridge.command_prefix']} bridge-room {channel_id}"
        raise ActionError(too_little_power_text(services.bot.mxid, power, retry), status=400)


async def _add_alias(services: AdminServices, channel_id: int, room_id: str) -> None:
    """The channel's alias (``alias_template``) points at the room, moved from any old room."""
    localpart = services.config["bridge.alias_template"].format(id=channel_id)
    try:
        await services.bot.add_room_alias(RoomID(room_id), localpart, override=True)
    except MatrixRequestError as error:
        log.warning("Could not point #%s at %s: %s", localpart, room_id, error)


async def bridge_room(
    services: AdminServices, channel_id: int, room_id: str, actor: Actor
) -> BridgeRoomOutcome:
    """Bridge the Discord channel ``channel_id`` to the existing Matrix room ``room_id``.

    The bot joins the room (it must be invited, or the room public) and needs the power to
    send the bridge's state and invite. A guild not yet bridged is bridged (its space tree),
    with this room for the channel. Raises :class:`ActionError`: 404 for an unknown channel,
    409 when the channel or the room is bridged already, 400 for a channel with no room of
    its own or too little power.
    """
    channel = _channel_or_error(services, channel_id)
    problem = room_kind_problem(channel, bool(services.config["bridge.bridge_voice_channels"]))
    if problem:
        raise ActionError(problem, status=400)
    guild: discord.Guild = channel.guild
    tables = services.tables
    excluded = await tables.excluded_channels.get(channel_id) is not None
    row = await _check_not_bridged(services, channel, room_id, excluded)
    already = row is not None and row.room_id == room_id and not excluded
    await _check_room(services, room_id, channel_id)
    new_guild = await tables.guilds.get(guild.id) is None
    if new_guild:  # the portal row needs its guild's (the sync fills in the space)
        now = int(time.time() * 1000)
        await tables.guilds.upsert(
            GuildRow(guild.id, name=guild.name, bridged_at=now, bridged_by=actor_tag(actor))
        )
    if row is None or row.room_id != room_id:
        await _add_alias(services, channel_id, room_id)
        services.guilds.state.forget(room_id)
        # The sync fills in the rest (parent, topic) and sets live_since: relaying starts.
        adopted = (
            replace(row, room_id=room_id, live_since=None)
            if row is not None
            else PortalRow(channel_id, guild_id=guild.id, room_id=room_id)
        )
        adopted.channel_type = channel.type.value
        adopted.name = channel.name
        await tables.portals.upsert(adopted)
        if excluded:
            await tables.excluded_channels.delete(channel_id)
    if new_guild:
        await bridge_guild(services, guild.id, actor)
    else:
        await services.guilds.sync(guild)
    saved = await tables.portals.get(channel_id)
    if saved is None or saved.room_id != room_id:
        raise ActionError(
            f"The sync of {guild.name} did not keep this room for #{channel.name}; the "
            "bridge's log says why.",
            status=409,
        )
    log.info("Channel %s bridged to the room %s by %s", channel_id, room_id, actor.describe())
    return BridgeRoomOutcome(channel_id, channel.name, room_id, guild.id, already)
