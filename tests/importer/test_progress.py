"""Import progress: rich bars on a terminal (log lines above them), plain log lines elsewhere."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from rich.console import Console

from bridge.importer.progress import Progress, eta_text


def terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)


def screen_of(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


@pytest.fixture
def root_handler() -> Iterator[logging.StreamHandler]:
    """A root log handler writing to the real stderr, as the bridge's logging config makes."""
    import sys

    handler = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def test_eta_texts() -> None:
    assert eta_text(None) == "--:--"
    assert eta_text(75) == "01:15"
    assert eta_text(3725) == "1:02:05"


def test_a_terminal_gets_a_bar_per_channel_and_a_total() -> None:
    console = terminal()
    progress = Progress(console=console)
    progress.channel(1, "#general", total=4)
    progress.channel(2, "#random", total=2)
    progress.begin_sending()
    for _ in range(4):
        progress.advance(1)
    progress.finish(1)
    progress.close()
    text = screen_of(console)
    assert "#general" in text and "4/4 messages" in text and "done" in text
    assert "#random" in text and "0/2 messages" in text
    assert "total" in text and "4/6 messages" in text
    assert "????" not in text


def test_the_eta_shows_once_the_total_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    """A channel counted beside the import: no time left while uncounted, then an ETA."""
    clock = [1000.0]
    monkeypatch.setattr("time.monotonic", lambda: clock[0])
    console = terminal()
    progress = Progress(console=console)
    progress.channel(1, "#general")
    progress.begin_sending()
    for _ in range(10):
        clock[0] += 1
        progress.advance(1)
    progress.show(force=True)
    before = screen_of(console)
    assert "10 messages" in before and "ETA" not in before
    progress.set_total(1, 40)
    after = screen_of(console)[len(before) :]
    assert "10/40 messages" in after
    assert "ETA 00:30" in after  # 30 left at 1 a second
    progress.close()


def test_log_lines_print_above_the_bars(root_handler: logging.StreamHandler) -> None:
    import sys

    console = terminal()
    progress = Progress(console=console)
    progress.channel(1, "#general", total=2)
    root_handler.stream.write("an access log line\n")
    root_handler.stream.flush()
    progress.advance(1)
    progress.close()
    assert "an access log line" in screen_of(console)
    assert root_handler.stream is sys.stderr, "the handler writes to stderr again"


def test_elsewhere_progress_is_logged_as_plain_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bridge.importer")
    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress.channel(1, "#general")
    progress.advance(1)
    progress.show(force=True)
    progress.set_total(1, 3)
    progress.close()
    lines = [r.message for r in caplog.records if r.message.startswith("Import progress")]
    assert "Import progress: total 1 messages (total not counted yet)" in lines[0]
    assert "1/3 messages" in lines[-1] and "ETA" in lines[-1]
    assert stream.getvalue() == "", "no bars, no control codes"
    assert all("\x1b" not in line for line in lines)


def test_a_resumed_channel_counts_what_an_earlier_run_sent() -> None:
    """Messages skipped (sent before, or with nowhere to go) are gone through: the bar ends
    full, never past its total."""
    console = terminal()
    progress = Progress(console=console)
    progress.channel(1, "#general", total=5)
    progress.advance(1, 0, skipped=3)
    progress.advance(1)
    progress.advance(1)
    progress.finish(1)
    progress.close()
    assert "5/5 messages" in screen_of(console)
    assert progress.totals()[:2] == (5, 5)
    assert progress.summary_line().endswith("done")
