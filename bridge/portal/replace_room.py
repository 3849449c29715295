"""Giving a channel a new room that replaces its old one (``m.room.tombstone``).

Matrix cannot insert history before messages a room already has, so a channel whose room has
live messages gets its history imported into a new room: the old room is tombstoned, points
at the new one (clients offer to follow), leaves the space and stays as an archive; the new one
names it as its predecessor and takes its place, alias and all.
"""

from __future__ import annotations

import logging

import discord
from mautrix.api import Method, Path
from mautrix.errors import MatrixRequestError

from .apply_state import send_state
from .guild_sync import GuildBridge

log = logging.getLogger("bridge.portal.replace")
TOMBSTONE_BODY = "This channel's history was imported into a new room."


async def replace_room(bridges: GuildBridge, guild: discord.Guild, channel_id: int) -> str:
    """The id of the channel's new room; the old one is tombstoned and left as an archive."""
    row = await bridges.tables.portals.get(channel_id)
    if row is None or row.room_id is None:
        raise ValueError(f"channel {channel_id} has no room to replace")
    old_room = row.room_id
    alias = bridges.context.alias(channel_id)
    try:  # the alias moves to the new room
        await bridges.bot.api.request(Method.DELETE, Path.v3.directory.room[alias])
    except MatrixRequestError as error:
        log.warning("Could not free the alias %s: %s", alias, error)
    row.room_id, row.live_since = None, None
    await bridges.tables.portals.upsert(row)
    bridges.predecessors[channel_id] = old_room
    await bridges.sync(guild)
    new_room = (await bridges.tables.portals.get(channel_id)).room_id  # type: ignore[union-attr]
    assert new_room is not None
    await send_state(
        bridges.bot,
        old_room,
        "m.room.tombstone",
        "",
        {"body": TOMBSTONE_BODY, "replacement_room": new_room},
    )
    state = await bridges.state.get(old_room)
    for event_type, state_key in list(state):
        if event_type == "m.space.parent" and state[(event_type, state_key)]:
            await send_state(bridges.bot, old_room, event_type, state_key, {})
            bridges.state.record(old_room, event_type, state_key, {})
    log.info("Channel %s: room %s replaced by %s", channel_id, old_room, new_room)
    return new_room
