"""Channels unbridged on their own while their guild stays bridged: left out of every sync.

An admin's ``unbridge <channel>`` records the channel in the ``excluded_channel`` table; the
guild's space tree is then computed from a snapshot without it, nor anything under it (a
category's channels, a forum's posts), so the next sync neither recreates its room nor
retires the archived one again.
"""

from __future__ import annotations

from dataclasses import replace

from ..convert.model import GuildSnapshot
from ..db.tables import BridgeTables


def without_channels(guild: GuildSnapshot, excluded: set[int]) -> GuildSnapshot:
    """The snapshot less the ``excluded`` channels and their descendants (pure)."""
    if not excluded:
        return guild
    gone = set(excluded)
    grew = True
    while grew:  # children of removed channels, then their children (category → forum → post)
        before = len(gone)
        gone |= {c.id for c in guild.channels if c.parent_id is not None and c.parent_id in gone}
        grew = len(gone) != before
    return replace(guild, channels=tuple(c for c in guild.channels if c.id not in gone))


async def without_excluded(tables: BridgeTables, guild: GuildSnapshot) -> GuildSnapshot:
    """The snapshot less the channels an admin unbridged in this guild (one database read)."""
    rows = await tables.excluded_channels.find("guild_id = $1", guild.id)
    return without_channels(guild, {row.channel_id for row in rows})
