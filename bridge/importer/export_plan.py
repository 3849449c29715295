"""Export files grouped as the import goes through them: one job per channel, with its threads.

Several files may describe one channel: the parts of a partitioned export (``--partition``),
exports of overlapping date ranges, and a thread's file, which names its channel as its
parent. They are merged, never one overwriting another: a field one file lacks (``None``)
is taken from the file that has it, and each message counts once (by id). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from ..convert.model import THREAD_TYPES, ChannelType
from .model import ChannelInfo, ExportedChannel, ImportItem
from .plan import ChannelPlan, count_items

FORUM_TYPES = {ChannelType.FORUM, ChannelType.MEDIA}
# Channels whose threads share the channel's room (Matrix threads there).
THREAD_PARENT_TYPES = {ChannelType.TEXT, ChannelType.ANNOUNCEMENT}


def is_thread(export: ExportedChannel) -> bool:
    return export.channel.type in THREAD_TYPES


def merged_info(first: ChannelInfo, other: ChannelInfo) -> ChannelInfo:
    """One channel as two files describe it: ``first``'s values, its gaps filled from
    ``other`` (a topic or category only one of them names is kept)."""
    return replace(
        first,
        guild_id=first.guild_id if first.guild_id is not None else other.guild_id,
        parent_id=first.parent_id if first.parent_id is not None else other.parent_id,
        parent_name=first.parent_name if first.parent_name is not None else other.parent_name,
        topic=first.topic if first.topic is not None else other.topic,
    )


def unique_items(*groups: Iterable[ImportItem]) -> tuple[ImportItem, ...]:
    """The items of all ``groups``, oldest first, each message id once (the first seen)."""
    seen: dict[int, ImportItem] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item.message.id, item)
    return tuple(sorted(seen.values(), key=lambda item: item.message.id))


def merged_exports(exports: Iterable[ExportedChannel]) -> list[ExportedChannel]:
    """One export per channel, in the order first seen: files of the same channel merged
    (info as :func:`merged_info`, messages as :func:`unique_items`, pins of all)."""
    by_id: dict[int, ExportedChannel] = {}
    for export in exports:
        known = by_id.get(export.channel.id)
        if known is None:
            by_id[export.channel.id] = export
            continue
        by_id[export.channel.id] = replace(
            known,
            channel=merged_info(known.channel, export.channel),
            items=unique_items(known.items, export.items),
            pinned_ids=tuple(dict.fromkeys((*known.pinned_ids, *export.pinned_ids))),
            unresolved_files=tuple(
                dict.fromkeys((*known.unresolved_files, *export.unresolved_files))
            ),
        )
    return list(by_id.values())


@dataclass(frozen=True)
class ChannelJob:
    """A channel the import goes through: its export and its threads' (a forum: its posts')."""

    export: ExportedChannel
    threads: tuple[ExportedChannel, ...] = ()

    @property
    def is_forum(self) -> bool:
        return self.export.channel.type in FORUM_TYPES

    @property
    def streams(self) -> list[ExportedChannel]:
        """The exports whose messages go into the channel's room (a forum: none; each post
        has a room of its own)."""
        if self.is_forum:
            return []
        if self.export.channel.type in THREAD_PARENT_TYPES:
            return [self.export, *self.threads]
        return [self.export]

    @property
    def message_total(self) -> int:
        """Messages the import goes through for this channel, each once: the channel's and
        its threads' (a forum: its posts')."""
        if self.is_forum:
            return sum(len(unique_items(post.items)) for post in self.threads)
        return len(unique_items(*(export.items for export in self.streams)))

    def plan(self) -> ChannelPlan:
        """What importing this channel sends, for a dry run."""
        plan = ChannelPlan(self.export.channel.name, threads=len(self.threads))
        if self.is_forum:
            for post in self.threads:
                count_items(plan, unique_items(post.items))
        else:
            count_items(plan, unique_items(*(export.items for export in self.streams)))
        return plan


@dataclass(frozen=True)
class ExportPlan:
    """``exports`` merged per channel, as jobs; ``orphans`` are threads whose channel has
    no export among them (the import cannot place them); ``sources`` are the files read."""

    exports: list[ExportedChannel]
    jobs: list[ChannelJob]
    orphans: list[ExportedChannel]
    sources: tuple[Path, ...] = ()


def export_plan(exports: Iterable[ExportedChannel]) -> ExportPlan:
    """Group export files (any order; see :func:`merged_exports`) into channel jobs."""
    exports = list(exports)
    merged = merged_exports(exports)
    mains = [export for export in merged if not is_thread(export)]
    main_ids = {export.channel.id for export in mains}
    threads: dict[int, list[ExportedChannel]] = {}
    orphans = []
    for export in merged:
        if not is_thread(export):
            continue
        parent = export.channel.parent_id
        if parent in main_ids:
            threads.setdefault(parent, []).append(export)
        else:
            orphans.append(export)
    jobs = [
        ChannelJob(
            export,
            tuple(sorted(threads.get(export.channel.id, []), key=lambda thread: thread.channel.id)),
        )
        for export in mains
    ]
    sources = tuple(dict.fromkeys(e.source for e in exports if e.source is not None))
    return ExportPlan(merged, jobs, orphans, sources)
