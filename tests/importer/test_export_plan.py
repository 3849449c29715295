"""Export files grouped per channel: totals that count what the import sends, each message
once; files of one channel merged, never one overwriting what another knows."""

from __future__ import annotations

import asyncio
import copy
import io
from pathlib import Path
from typing import Any

from bridge.importer.export_guild import export_guild_snapshot
from bridge.importer.export_import import _stream, export_dry_run
from bridge.importer.export_plan import export_plan, merged_exports
from bridge.importer.export_reader import find_exports, read_export
from bridge.importer.model import ExportedChannel
from bridge.importer.progress import Progress
from tests.importer.export_helpers import FIXTURES, GENERAL, GENERAL_ID, THREAD, load, write

MEDIA_ID = 1100000000000000002


def fixture_exports() -> list[ExportedChannel]:
    return [read_export(path) for path in find_exports([FIXTURES])]


async def sent_through_progress(exports: list[ExportedChannel]) -> Progress:
    """Every channel's stream read through as the import does, counted as the engine does."""
    plan = export_plan(exports)
    progress = Progress(stream=io.StringIO())
    for job in plan.jobs:
        info = job.export.channel
        progress.channel(info.id, f"#{info.name}", job.message_total)
        async for _ in _stream(job.streams, {}, {}):
            progress.advance(info.id)
        progress.finish(info.id)
    return progress


def test_a_channels_total_counts_its_threads_messages() -> None:
    """12 messages in #general and 2 in its thread "Planning": 14 go out, 14 are counted
    (the total was the channel's file alone: 14/12)."""
    progress = asyncio.run(sent_through_progress(fixture_exports()))
    general = progress.channels[GENERAL_ID]
    assert (general.done, general.total) == (14, 14)
    assert (progress.channels[MEDIA_ID].done, progress.channels[MEDIA_ID].total) == (4, 4)
    done, total, _ = progress.totals()
    assert (done, total) == (18, 18)
    assert "18/18 messages" in progress.summary_line()


def test_partitions_and_overlapping_exports_count_each_message_once(tmp_path: Path) -> None:
    data = load(GENERAL)
    first, second = copy.deepcopy(data), copy.deepcopy(data)
    first["messages"] = data["messages"][:8]
    second["messages"] = data["messages"][5:]  # three messages in both files
    parts = [
        read_export(write(tmp_path / "general [part 1].json", first)),
        read_export(write(tmp_path / "general [part 2].json", second)),
        read_export(THREAD),
    ]
    [job] = export_plan(parts).jobs
    assert job.message_total == 14
    progress = asyncio.run(sent_through_progress(parts))
    assert (progress.channels[GENERAL_ID].done, progress.channels[GENERAL_ID].total) == (14, 14)
    assert job.export.pinned_ids == (1200000000000000002,)


def test_the_dry_run_plan_of_a_channel_with_a_thread() -> None:
    plan = export_plan(fixture_exports())
    general = next(job for job in plan.jobs if job.export.channel.id == GENERAL_ID).plan()
    assert (general.messages, general.threads, general.attachments) == (14, 1, 2)
    assert general.bytes > 0 and general.reactions > 0
    assert plan.orphans == []


def test_a_thread_without_its_channels_file_is_named_not_lost(
    capsys: Any,
) -> None:
    assert export_dry_run([THREAD]) == 0
    out = capsys.readouterr().out
    assert "not imported: thread #Planning" in out and str(GENERAL_ID) in out


def _without_topic(data: dict[str, Any]) -> None:
    data["channel"]["topic"] = None


def test_files_of_one_channel_merge_their_descriptions(tmp_path: Path) -> None:
    """A file that lacks the topic (or the category) does not clear the other's: the
    guild's snapshot is the same as from the complete file, in either order."""
    full = read_export(GENERAL)
    bare_data = load(GENERAL)
    _without_topic(bare_data)
    bare_data["channel"].update(categoryId=None, category=None)
    bare = read_export(write(tmp_path / "general [part 2].json", bare_data))
    reference = export_guild_snapshot([full, read_export(THREAD)])
    for order in ([full, bare], [bare, full]):
        [merged] = merged_exports(order)
        assert merged.channel.topic == "Chat about anything"
        assert merged.channel.parent_id == full.channel.parent_id
        snapshot = export_guild_snapshot([*order, read_export(THREAD)])
        assert {c.id: (c.topic, c.parent_id) for c in snapshot.channels} == {
            c.id: (c.topic, c.parent_id) for c in reference.channels
        }
