"""Import progress for people: live bars on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

log = logging.getLogger("bridge.importer")
LOG_EVERY_SECONDS = 10.0


@dataclass
class ChannelProgress:
    """One channel's count: ``total`` is every message the import goes through (its
    threads' included, each once), ``done`` those sent, ``skipped`` those passed over
    (sent by an earlier run, or with nowhere to go); ``handled`` is the two together."""

    name: str
    total: int | None = None  # unknown until counted
    done: int = 0
    skipped: int = 0
    finished: bool = False

    @property
    def handled(self) -> int:
        return self.done + self.skipped


def bar(done: int, total: int | None, width: int = 24) -> str:
    if not total:
        return "[" + "?" * width + "]"
    filled = min(width, round(width * done / total))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


@dataclass
class Progress:
    """Counts what was imported, per channel and in total, and shows it."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    channels: dict[int, ChannelProgress] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    sending_since: float | None = None  # when the first channel began sending (rooms ready)
    last_at: float | None = None  # when the last message went out
    _last_shown: float = 0.0
    _drawn: int = 0

    @property
    def live(self) -> bool:
        return self.stream.isatty()

    def channel(self, channel_id: int, name: str, total: int | None = None) -> ChannelProgress:
        self.channels[channel_id] = ChannelProgress(name, total)
        return self.channels[channel_id]

    def begin_sending(self) -> None:
        """A channel's room is ready and its history starts going out."""
        if self.sending_since is None:
            self.sending_since = time.monotonic()

    def advance(self, channel_id: int, count: int = 1, skipped: int = 0) -> None:
        if count:
            self.last_at = time.monotonic()
        entry = self.channels[channel_id]
        entry.done += count
        entry.skipped += skipped
        self.show()

    def finish(self, channel_id: int) -> None:
        self.channels[channel_id].finished = True
        self.show(force=True)

    def totals(self) -> tuple[int, int | None, float]:
        """(messages handled, their total or None while a channel is uncounted, messages
        sent per second since the start)."""
        handled = sum(c.handled for c in self.channels.values())
        known = [c.total for c in self.channels.values()]
        total = None if any(t is None for t in known) else sum(t or 0 for t in known)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return handled, total, sum(c.done for c in self.channels.values()) / elapsed

    def sending_rate(self) -> float:
        """Messages per second from when sending began (ghosts joining included) to the last
        message; start-up, bridging the guild and creating rooms excluded."""
        if self.sending_since is None or self.last_at is None:
            return 0.0
        done = sum(c.done for c in self.channels.values())
        return done / max(self.last_at - self.sending_since, 1e-6)

    def summary_line(self) -> str:
        done, total, rate = self.totals()
        remaining = max(total - done, 0) / rate if total is not None and rate > 0 else None
        of_total = f"/{total}" if total is not None else ""
        return f"total {bar(done, total)} {done}{of_total} messages, {rate:.1f}/s, ETA {eta_text(remaining)}"

    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.live:
            if force or now - self._last_shown >= 0.2:
                self._draw()
                self._last_shown = now
        elif force or now - self._last_shown >= LOG_EVERY_SECONDS:
            log.info("Import progress: %s", self.summary_line())
            self._last_shown = now

    def _draw(self) -> None:
        """Redraw the block of bars in place: one line per channel, then the total."""
        lines = [self._channel_line(c) for c in self.channels.values()] + [self.summary_line()]
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F")  # back to the block's first line
        for line in lines:
            self.stream.write("\x1b[2K" + line + "\n")
        self.stream.flush()
        self._drawn = len(lines)

    @staticmethod
    def _channel_line(entry: ChannelProgress) -> str:
        of_total = f"/{entry.total}" if entry.total is not None else ""
        state = " done" if entry.finished else ""
        handled = entry.handled
        return f"{entry.name[:24]:<24} {bar(handled, entry.total)} {handled}{of_total}{state}"

    def close(self) -> None:
        """The final state, drawn or logged once more."""
        self.show(force=True)
