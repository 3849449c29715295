"""A guild as far as its exports describe it, for creating rooms the bot cannot see."""

from __future__ import annotations

from ..convert.model import THREAD_TYPES, ChannelSnapshot, ChannelType, GuildSnapshot
from .model import ExportedChannel

FORUM_TYPES = {ChannelType.FORUM, ChannelType.MEDIA}


def is_thread(export: ExportedChannel) -> bool:
    return export.channel.type in THREAD_TYPES


def export_guild_snapshot(exports: list[ExportedChannel]) -> GuildSnapshot:
    """Categories, channels and forum posts of the exports (in the order given)."""
    first = exports[0].guild
    channels: dict[int, ChannelSnapshot] = {}
    forums = {e.channel.id for e in exports if e.channel.type in FORUM_TYPES}
    for position, export in enumerate(exports):
        info = export.channel
        if is_thread(export):
            if info.parent_id in forums:  # a forum post: a room of its own
                channels[info.id] = ChannelSnapshot(
                    info.id,
                    first.id,
                    ChannelType.PUBLIC_THREAD,
                    info.name,
                    parent_id=info.parent_id,
                )
            continue
        if info.parent_id is not None and info.parent_id not in channels:
            channels[info.parent_id] = ChannelSnapshot(
                info.parent_id,
                first.id,
                ChannelType.CATEGORY,
                info.parent_name or "Category",
                position=position,
            )
        channels[info.id] = ChannelSnapshot(
            info.id,
            first.id,
            info.type,
            info.name,
            position=position,
            parent_id=info.parent_id,
            topic=info.topic,
        )
    return GuildSnapshot(
        first.id, first.name, owner_id=0, icon_url=first.icon_url, channels=tuple(channels.values())
    )
