"""Import progress: bars on a terminal, log lines elsewhere."""

from __future__ import annotations

import io
import logging

import pytest

from bridge.importer.progress import Progress, bar, eta_text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_and_eta_texts() -> None:
    assert bar(5, 10, width=10) == "[#####-----]"
    assert bar(3, None, width=4) == "[????]"
    assert eta_text(None) == "--:--"
    assert eta_text(75) == "01:15"
    assert eta_text(3725) == "1:02:05"


def test_a_terminal_gets_a_bar_per_channel_and_a_total() -> None:
    screen = Terminal()
    progress = Progress(stream=screen)
    progress.channel(1, "#general", total=4)
    progress.channel(2, "#random", total=2)
    for _ in range(4):
        progress.advance(1)
    progress.finish(1)
    text = screen.getvalue()
    assert "#general" in text and "4/4 done" in text
    assert "#random" in text and "0/2" in text
    assert "total" in text and "4/6 messages" in text and "ETA" in text


def test_elsewhere_progress_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bridge.importer")
    progress = Progress(stream=io.StringIO())
    progress.channel(1, "#general", total=3)
    progress.advance(1)
    progress.close()
    assert any("Import progress: total" in r.message and "1/3" in r.message for r in caplog.records)


def test_a_resumed_channel_counts_what_an_earlier_run_sent() -> None:
    """Messages skipped (sent before, or with nowhere to go) are gone through: the bar ends
    full, never past its total, and the time left is never negative."""
    screen = Terminal()
    progress = Progress(stream=screen)
    progress.channel(1, "#general", total=5)
    progress.advance(1, 0, skipped=3)
    progress.advance(1)
    progress.advance(1)
    progress.finish(1)
    assert "5/5 done" in screen.getvalue()
    assert progress.totals()[:2] == (5, 5)
    assert "ETA 00:00" in progress.summary_line()
