"""A guild as far as its exports describe it, for creating rooms the bot cannot see."""

from __future__ import annotations

from ..convert.model import ChannelSnapshot, ChannelType, GuildSnapshot
from .export_plan import FORUM_TYPES, is_thread, merged_exports
from .model import ExportedChannel

__all__ = ["FORUM_TYPES", "export_guild_snapshot", "is_thread"]


def export_guild_snapshot(exports: list[ExportedChannel]) -> GuildSnapshot:
    """Categories, channels and forum posts of the exports (in the order given).

    Files of the same channel (partitions, overlapping exports) describe it once, merged
    (see :func:`.export_plan.merged_exports`), never one file's gaps overwriting what
    another knows: each run describes the channel the same way, so a second syncs nothing.
    """
    exports = merged_exports(exports)
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
