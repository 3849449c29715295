"""The words an import ends with: a resumed channel's own count and what came before it,
"stopped after" when interrupted; and a dry run's lines for imports already made."""

from __future__ import annotations

from typing import cast

from bridge.app import Bridge
from bridge.importer.command import ImportRequest, ImportRun
from bridge.importer.engine import ChannelReport
from bridge.importer.plan import ChannelPlan, plan_report


def run_with(*reports: ChannelReport) -> ImportRun:
    run = ImportRun(ImportRequest(42), cast(Bridge, None))
    run.reports = {index: report for index, report in enumerate(reports)}
    return run


def test_a_resumed_channel_counts_what_this_run_sent_and_what_came_before() -> None:
    resumed = ChannelReport("third", imported=2476, before=524)
    fresh = ChannelReport("general", imported=12)
    text = run_with(resumed, fresh).summary(13.24)
    assert text.splitlines() == [
        "Import of guild 42 finished in 13.2 s:",
        "  #third: 2476 imported (524 before this run), skipped: none",
        "  #general: 12 imported, skipped: none",
    ]


def test_an_interrupted_import_says_it_stopped() -> None:
    text = run_with(ChannelReport("third", imported=524, stopped=True)).summary(
        13.24, interrupted=True
    )
    assert text.splitlines()[0] == "Import of guild 42 stopped after 13.2 s:"
    assert "finished" not in text


def test_a_dry_run_counts_nothing_for_finished_imports_and_the_rest_of_a_stopped_one() -> None:
    done = ChannelPlan("general", threads=1, finished=True)
    stopped = ChannelPlan("random", messages=76, already=524)
    text = plan_report("Dry run:", [done, stopped])
    assert "  #general: already imported, nothing to send" in text
    assert (
        "  #random: 76 messages, 0 threads, 0 attachments (0 bytes), 0 reactions, "
        "after 524 already imported"
    ) in text
    assert "Total: 76 messages, 1 threads" in text
    assert "Not counted: 524 messages that earlier imports sent already." in text
    nothing = plan_report("Dry run:", [done])
    assert "Total: 0 messages" in nothing and "nothing to send at 20 events/s" in nothing
