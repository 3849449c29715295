"""Where a Discord channel's messages go in Matrix."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

from ...convert.model import ChannelType
from ...db.tables import BridgeTables
from ...portal.sync_watch import sync_watch

log = logging.getLogger("bridge.relay.routing")
# Channels whose threads become Matrix threads in the channel's room.
THREAD_PARENTS = {ChannelType.TEXT, ChannelType.ANNOUNCEMENT}


@dataclass(frozen=True)
class Destination:
    channel_id: int  # the Discord channel or thread the message is in
    room_id: str
    guild_id: int | None
    # Set for a thread of a text channel: its messages are a Matrix thread in the parent's room.
    thread_id: int | None = None


async def destination(
    tables: BridgeTables, client: discord.Client, channel_id: int
) -> Destination | None:
    """The room for a channel, a forum post or a thread; None when it is not bridged.

    A channel without a room in a guild that has a sync scheduled or running waits for that
    sync, which may be creating its room (a guild being bridged, a new channel), and is
    looked up again: a message posted as soon as its room appears is relayed, not dropped.
    """
    where = await _lookup(tables, client, channel_id)
    if where is not None:
        return where
    guild_id = _guild_of(client, channel_id)
    watch = sync_watch(tables)
    if guild_id is None or not watch.busy(guild_id):
        return None
    log.debug("Channel %s has no room yet: waiting for the sync of guild %s", channel_id, guild_id)
    await watch.settled([guild_id])
    return await _lookup(tables, client, channel_id)


def _guild_of(client: discord.Client, channel_id: int) -> int | None:
    """The guild of a channel or thread that discord.py knows; None for a DM or unknown."""
    guild = getattr(client.get_channel(channel_id), "guild", None)
    return guild.id if isinstance(guild, discord.Guild) else None


async def _lookup(
    tables: BridgeTables, client: discord.Client, channel_id: int
) -> Destination | None:
    row = await tables.portals.get(channel_id)
    if row and row.room_id:
        return Destination(channel_id, row.room_id, row.guild_id)
    channel = client.get_channel(channel_id)
    if channel is None:
        try:
            channel = await client.fetch_channel(channel_id)
        except discord.HTTPException:
            return None
    if not isinstance(channel, discord.Thread) or channel.parent_id is None:
        return None
    parent = await tables.portals.get(channel.parent_id)
    if parent and parent.room_id and parent.channel_type in THREAD_PARENTS:
        return Destination(channel_id, parent.room_id, parent.guild_id, thread_id=channel_id)
    return None
