"""Where a Discord channel's messages go in Matrix."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

from ...convert.model import ChannelType
from ...db.tables import BridgeTables

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
    """The room for a channel, a forum post or a thread; None when it is not bridged."""
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
