"""The text of an import's status message, and a job's counts (pure, no bridge)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bridge.actions.admin.imports import ImportJob, channel_counts, final_state
from bridge.commands.run_import import resume_command, status_text
from bridge.importer.engine import ChannelReport
from bridge.importer.progress import ChannelProgress

GUILD, LOUNGE, RULES = 111, 222, 333


def bare(text: str) -> str:
    return text


def job_with(
    lounge: ChannelProgress,
    rules: ChannelProgress,
    state: str = "running",
    since: datetime | None = None,
) -> ImportJob:
    job = ImportJob(
        7, GUILD, (LOUNGE, RULES), state=state, guild_name="Sandbox", target_id=GUILD, since=since
    )
    job.progress.channels = {LOUNGE: lounge, RULES: rules}
    job.reports = {LOUNGE: ChannelReport("lounge"), RULES: ChannelReport("rules")}
    return job


def test_a_running_import_shows_done_of_total_rate_and_time_left() -> None:
    job = job_with(ChannelProgress("#lounge", total=100, done=40), ChannelProgress("#rules", 20))
    job.progress.sending_since = time.monotonic() - 4.0  # 40 sent in 4 s: 10/s
    text = status_text(job, lambda line: f"!discord {line}")
    assert job.messages_done == 40 and job.messages_total == 120
    assert "Importing the history of **Sandbox** (import 7): 40 of 120 messages" in text
    assert "10.0 messages/s" in text or "9.9 messages/s" in text
    assert "about 00:0" in text and "left" in text  # 80 left at 10/s: 8 s
    assert "`!discord cancel 111` stops it" in text
    data = job.to_json()
    assert data["channel_ids"] == [str(LOUNGE), str(RULES)] and data["guild_id"] == str(GUILD)
    assert data["messages_total"] == 120 and 7 <= data["eta_seconds"] <= 9


def test_before_counting_ends_there_is_no_total_and_no_eta() -> None:
    job = job_with(ChannelProgress("#lounge", done=5), ChannelProgress("#rules", total=3))
    job.progress.sending_since = time.monotonic() - 1.0
    text = status_text(job, bare)
    assert "5 messages so far (still counting the rest)" in text and "left" not in text
    assert job.messages_total is None and job.eta_seconds is None
    fresh = job_with(ChannelProgress("#lounge"), ChannelProgress("#rules"))
    assert "preparing the rooms" in status_text(fresh, bare)


def test_counts_of_finished_resumed_and_stopped_channels() -> None:
    # Finished: what it went through is its total, whatever the count said.
    assert channel_counts(ChannelProgress("a", total=9, done=8, finished=True), None) == (8, 8)
    # Resumed: messages found sent by an earlier run count as gone through.
    assert channel_counts(ChannelProgress("a", total=10, done=4, skipped=5), None) == (9, 10)
    done_before = ChannelReport("a", already_done=True)
    assert channel_counts(ChannelProgress("a", total=6, finished=True), done_before) == (6, 6)
    stopped = ChannelReport("a", stopped=True)
    assert channel_counts(ChannelProgress("a", total=6, done=2, finished=True), stopped) == (2, 6)


def test_the_summary_per_channel_with_errors() -> None:
    job = job_with(
        ChannelProgress("#lounge", total=3, done=3, finished=True),
        ChannelProgress("#rules", total=2, finished=True),
        state="finished",
    )
    job.finished_at = job.started_at + 12
    job.reports[LOUNGE].imported = 2
    job.reports[LOUNGE].skip("already imported or nothing to show")
    job.errors.append("channel 333 already has 2 live bridged message parts … --replace-rooms")
    text = status_text(job, bare, header="Bridged **Sandbox** as the space X.")
    assert text.startswith("Bridged **Sandbox** as the space X.\n\n✅ Imported the history")
    assert "in 12 s: 3 of 3 messages" in text
    assert "- #lounge: 2 imported, skipped: 1 already imported or nothing to show" in text
    assert "- #rules: 0 imported, skipped: none" in text
    assert "**Errors**" in text and "--replace-rooms" in text


def test_a_cancelled_import_says_how_to_resume() -> None:
    job = job_with(
        ChannelProgress("#lounge", total=50, done=20, finished=True),
        ChannelProgress("#rules", total=2, finished=True),
        state="cancelled",
        since=datetime(2024, 3, 1, tzinfo=UTC),
    )
    job.reports[LOUNGE].stopped = True
    job.reports[RULES].stopped = True
    assert resume_command(job) == "import 111 --since 2024-03-01"
    text = status_text(job, lambda line: f"!discord {line}")
    assert "cancelled after 20 of 52 messages" in text
    assert "run `!discord import 111 --since 2024-03-01` again to resume" in text


def test_final_state() -> None:
    job = job_with(ChannelProgress("a"), ChannelProgress("b"))
    assert final_state(job) == "finished"
    job.errors += ["refused a", "refused b"]
    assert final_state(job) == "failed"
    job.stop_requested = True
    job.reports[LOUNGE].stopped = True
    assert final_state(job) == "cancelled"
