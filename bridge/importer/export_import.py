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
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from ..actions.d2m.routing import Destination
from ..app import Bridge
from ..config import Config
from .engine import ChannelReport, ImportRefused, import_stream, set_pins
from .export_guild import export_guild_snapshot
from .export_items import with_local_files, with_thread_name
from .export_plan import THREAD_PARENT_TYPES, ChannelJob, ExportPlan, export_plan
from .export_reader import ExportError, find_exports, read_export
from .model import ExportedChannel, ImportItem
from .plan import plan_report
from .progress import Progress

log = logging.getLogger("bridge.importer.export")


async def _stream(
    exports: Iterable[ExportedChannel], emoji_images: dict[int, str], thread_names: dict[int, str]
) -> AsyncIterator[ImportItem]:
    """The items of a channel and its threads, merged by message id (so by time), each
    message once; the custom emoji images they hold on disk are noted for the relay before
    each is sent."""
    last_id: int | None = None
    for item in heapq.merge(*(e.items for e in exports), key=lambda i: i.message.id):
        if item.message.id == last_id:
            continue
        last_id = item.message.id
        emoji_images.update((emoji_id, str(path)) for emoji_id, path in item.emoji_files.items())
        yield with_thread_name(with_local_files(item), thread_names)


def read_plan(paths: list[Path]) -> ExportPlan | str:
    """The exports under ``paths`` grouped per channel, or the error to print."""
    try:
        exports = [read_export(path) for path in find_exports(paths)]
    except ExportError as error:
        return f"Error: {error}"
    if not exports:
        return "Error: no DiscordChatExporter JSON export found in the given paths"
    return export_plan(exports)


def _orphan_lines(plan: ExportPlan) -> list[str]:
    return [
        f"  not imported: thread #{orphan.channel.name} ({orphan.channel.id}): its channel "
        f"{orphan.channel.parent_id} has no export among these files"
        for orphan in plan.orphans
    ]


def export_dry_run(paths: list[Path]) -> int:
    """What ``run_export_import`` would do, from the files alone: per channel, its messages
    (threads' included, each once), threads, attachments and their bytes, reactions; the
    total and a duration. Starts no bridge, opens no database and sends nothing."""
    plan = read_plan(paths)
    if isinstance(plan, str):
        print(plan)
        return 1
    title = f"Dry run: importing {len(plan.sources)} export file(s) would create or use:"
    print(plan_report(title, [job.plan() for job in plan.jobs]))
    for line in _orphan_lines(plan):
        print(line)
    return 0


async def run_export_import(config: Config, paths: list[Path], dry_run: bool = False) -> int:
    """Import the exports under ``paths``; with ``dry_run``, only say what that would do."""
    if dry_run:
        return export_dry_run(paths)
    plan = read_plan(paths)
    if isinstance(plan, str):
        print(plan)
        return 1
    exports = plan.exports
    bridge = Bridge(config)
    progress = Progress()
    reports: dict[int, ChannelReport] = {}
    errors: list[str] = []
    started = time.monotonic()
    try:
        await bridge.start()
        assert bridge.media is not None and bridge.relay is not None
        bridge.media.local_roots = tuple({source.parent.resolve() for source in plan.sources})
        for guild_id in sorted({e.guild.id for e in exports}):
            await _rooms_for(bridge, [e for e in exports if e.guild.id == guild_id])
        for job in plan.jobs:
            info = job.export.channel
            reports[info.id] = ChannelReport(info.name)
            progress.channel(info.id, f"#{info.name}", job.message_total)
        jobs = [_import_channel(bridge, job, progress, reports) for job in plan.jobs]
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
    seconds = time.monotonic() - started
    print(f"Import of {len(plan.sources)} export file(s) finished in {seconds:.1f} s:")
    for report in reports.values():
        state = "already imported" if report.already_done else f"{report.imported} imported"
        skipped = ", ".join(f"{n} {why}" for why, n in report.skipped.items()) or "none"
        print(f"  #{report.name}: {state}, skipped: {skipped}")
    for line in _orphan_lines(plan):
        print(line)
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
    bridge: Bridge, job: ChannelJob, progress: Progress, reports: dict[int, ChannelReport]
) -> None:
    relay = bridge.relay
    assert relay is not None
    info = job.export.channel
    if job.is_forum:  # each post is a room of its own
        for post in job.threads:
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
        for thread in job.threads:
            targets[thread.channel.id] = Destination(
                thread.channel.id, row.room_id, info.guild_id, thread_id=thread.channel.id
            )
    thread_names = {thread.channel.id: thread.channel.name for thread in job.threads}
    await import_stream(
        relay,
        info.id,
        _stream(job.streams, relay.emoji_images, thread_names),
        targets,
        progress,
        reports[info.id],
    )
    await set_pins(relay, row.room_id, list(job.export.pinned_ids))
    progress.finish(info.id)
