"""``python -m bridge import --export PATH``: history from DiscordChatExporter JSON files.

Works whether or not the bot can see the guild: if it can, the rooms are the live bridge's
own (and the channel goes live after its history); if not, the rooms come from what the
exports say (guild name, categories, channels, forum posts). Files exported with ``--media``
are uploaded from disk.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from ..actions.d2m.routing import Destination
from ..app import Bridge
from ..config import Config
from ..convert.model import ChannelType
from .engine import ChannelReport, ImportRefused, import_stream, set_pins
from .export_guild import FORUM_TYPES, export_guild_snapshot, is_thread
from .export_items import with_local_files, with_thread_name
from .export_reader import ExportError, find_exports, read_export
from .model import ExportedChannel, ImportItem
from .progress import Progress

log = logging.getLogger("bridge.importer.export")
THREAD_PARENT_TYPES = {ChannelType.TEXT, ChannelType.ANNOUNCEMENT}


async def _stream(
    exports: Iterable[ExportedChannel], emoji_images: dict[int, str], thread_names: dict[int, str]
) -> AsyncIterator[ImportItem]:
    """The items of a channel and its threads, merged by message id (so by time); the
    custom emoji images they hold on disk are noted for the relay before each is sent."""
    for item in heapq.merge(*(e.items for e in exports), key=lambda i: i.message.id):
        emoji_images.update((emoji_id, str(path)) for emoji_id, path in item.emoji_files.items())
        yield with_thread_name(with_local_files(item), thread_names)


async def run_export_import(config: Config, paths: list[Path]) -> int:
    try:
        exports = [read_export(path) for path in find_exports(paths)]
    except ExportError as error:
        print(f"Error: {error}")
        return 1
    if not exports:
        print("Error: no DiscordChatExporter JSON export found in the given paths")
        return 1
    threads: dict[int, list[ExportedChannel]] = defaultdict(list)
    for export in exports:
        if is_thread(export) and export.channel.parent_id is not None:
            threads[export.channel.parent_id].append(export)
    mains = [export for export in exports if not is_thread(export)]
    bridge = Bridge(config)
    progress = Progress()
    reports: dict[int, ChannelReport] = {}
    errors: list[str] = []
    started = time.monotonic()
    try:
        await bridge.start()
        assert bridge.media is not None and bridge.relay is not None
        bridge.media.local_roots = tuple({e.source.parent.resolve() for e in exports if e.source})
        for guild_id in sorted({e.guild.id for e in exports}):
            await _rooms_for(bridge, [e for e in exports if e.guild.id == guild_id])
        for export in mains:
            reports[export.channel.id] = ChannelReport(export.channel.name)
            progress.channel(export.channel.id, f"#{export.channel.name}", len(export.items))
        jobs = [
            _import_channel(bridge, export, threads.get(export.channel.id, []), progress, reports)
            for export in mains
        ]
        semaphore = asyncio.Semaphore(config["bridge.limits.import_concurrency"])

        async def limited(job):  # noqa: ANN001, ANN202
            async with semaphore:
                try:
                    await job
                except ImportRefused as error:
                    errors.append(str(error))

        await asyncio.gather(*(limited(job) for job in jobs))
    finally:
        await bridge.stop()
    progress.close()
    print(
        f"Import of {len(exports)} export file(s) finished in {time.monotonic() - started:.1f} s:"
    )
    for report in reports.values():
        state = "already imported" if report.already_done else f"{report.imported} imported"
        skipped = ", ".join(f"{n} {why}" for why, n in report.skipped.items()) or "none"
        print(f"  #{report.name}: {state}, skipped: {skipped}")
    for problem in errors:
        print(f"  refused: {problem}")
    return 1 if errors else 0


async def _rooms_for(bridge: Bridge, exports: list[ExportedChannel]) -> None:
    assert bridge.guilds is not None
    guild_id = exports[0].guild.id
    if bridge.discord.get_guild(guild_id) is not None:
        await bridge.guilds.bridge_guild(guild_id)
    else:
        log.info("The bot is not in guild %s: rooms come from the exports", guild_id)
        await bridge.guilds.sync_export_snapshot(export_guild_snapshot(exports))


async def _import_channel(
    bridge: Bridge,
    export: ExportedChannel,
    thread_exports: list[ExportedChannel],
    progress: Progress,
    reports: dict[int, ChannelReport],
) -> None:
    relay = bridge.relay
    assert relay is not None
    info = export.channel
    if info.type in FORUM_TYPES:  # each post is a room of its own
        for post in thread_exports:
            row = await relay.tables.portals.get(post.channel.id)
            if row and row.room_id:
                targets = {
                    post.channel.id: Destination(post.channel.id, row.room_id, info.guild_id)
                }
                await import_stream(
                    relay,
                    post.channel.id,
                    _stream([post], relay.emoji_images, {}),
                    targets,
                    progress,
                    reports[info.id],
                    progress_key=info.id,
                )
        progress.finish(info.id)
        return
    row = await relay.tables.portals.get(info.id)
    if row is None or row.room_id is None:
        reports[info.id].skip("channel has no room (not a text channel?)")
        progress.finish(info.id)
        return
    targets = {info.id: Destination(info.id, row.room_id, info.guild_id)}
    if info.type in THREAD_PARENT_TYPES:
        for thread in thread_exports:
            targets[thread.channel.id] = Destination(
                thread.channel.id, row.room_id, info.guild_id, thread_id=thread.channel.id
            )
    streams = [export, *thread_exports] if info.type in THREAD_PARENT_TYPES else [export]
    thread_names = {thread.channel.id: thread.channel.name for thread in thread_exports}
    await import_stream(
        relay,
        info.id,
        _stream(streams, relay.emoji_images, thread_names),
        targets,
        progress,
        reports[info.id],
    )
    await set_pins(relay, row.room_id, list(export.pinned_ids))
    progress.finish(info.id)
