"""What the import shows of its pace: each channel's rate frozen once it is done, a total ETA
no shorter than the slowest channel's, and the last progress line once (a fake clock)."""

from __future__ import annotations

import io
import logging
import re

import pytest
from rich.console import Console

from bridge.importer.progress import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)


def last_frame(console: Console) -> dict[str, str]:
    """The bars as last drawn, by name (the text after the last redraw's cursor codes)."""
    file = console.file
    assert isinstance(file, io.StringIO)
    frame = re.split(r"\r(?:\x1b\[2K\x1b\[1A)*\x1b\[2K", file.getvalue())[-1]
    rows = [line.split(None, 1) for line in frame.splitlines() if line.strip()]
    return {name: " ".join(rest.split()) for name, rest in rows}


def two_channels(clock: FakeClock, console: Console | None = None) -> Progress:
    """#general (10 messages, 1 a second, done after 10 s) and #random (100 messages, 1 a
    second for 10 s, then half as fast)."""
    progress = Progress(console=console, stream=io.StringIO(), clock=clock)
    progress.channel(1, "#general", total=10)
    progress.channel(2, "#random", total=100)
    progress.begin_sending(1)
    progress.begin_sending(2)
    for _ in range(10):
        clock.now += 1
        progress.advance(1)
        progress.advance(2)
    progress.finish(1)
    return progress


def test_a_done_channel_keeps_its_final_rate_and_the_total_waits_for_the_slowest() -> None:
    clock, console = FakeClock(), terminal()
    progress = two_channels(clock, console)
    clock.now += 10  # #random sends nothing more meanwhile
    progress.show(force=True)
    bars = last_frame(console)
    assert bars["#general"].endswith("10/10 messages 1.0/s done")  # not 0.5/s
    assert bars["#random"].endswith("10/100 messages 0.5/s ETA 03:00")  # 90 at 0.5/s
    # The total averages 1.0/s over 20 s, but 90 messages at #random's pace take 3 min.
    assert bars["total"].endswith("20/110 messages 1.0/s ETA 03:00")
    progress.close()


def test_the_total_eta_counts_channels_not_started_yet() -> None:
    """What waits for its turn goes out at the pace of what still runs."""
    clock = FakeClock()
    progress = two_channels(clock)
    progress.channel(3, "#later", total=30)
    # 90 + 30 left; #random alone runs, at 1.0/s: 2 minutes, not its own 1:30.
    assert progress.summary_line() == "total 20/140 messages, 2.0/s, ETA 02:00"


def test_the_last_progress_line_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bridge.importer")
    clock = FakeClock()
    progress = two_channels(clock)
    for _ in range(90):
        clock.now += 0.01
        progress.advance(2)
    progress.finish(2)  # logs the final line
    clock.now += 5
    progress.close()  # the same state: not logged again
    lines = [r.message for r in caplog.records if r.message.startswith("Import progress")]
    assert lines[-1] == "Import progress: total 110/110 messages, 10.1/s, done"
    assert lines.count(lines[-1]) == 1, lines


def test_an_import_stopped_short_says_stopped_not_an_eta() -> None:
    clock = FakeClock()
    progress = two_channels(clock)
    progress.finish(2)  # interrupted: #random ends at 10 of 100
    assert progress.summary_line() == "total 20/110 messages, 2.0/s, stopped"
