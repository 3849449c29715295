"""Import progress for people: rich bars on a terminal, periodic log lines otherwise.

On a terminal (``rich.progress``), one bar per channel and one for the total; log lines
(the bridge's own, aiohttp's access log) print above the bars instead of breaking them. A
channel whose total is not counted yet gets an indeterminate bar: its count and rate, no
time left. Elsewhere (CI, the systemd journal): a plain ``Import progress: …`` log line every
:data:`LOG_EVERY_SECONDS`, no control codes.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.file_proxy import FileProxy
from rich.progress import BarColumn, ProgressColumn, Task, TaskID, TextColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

log = logging.getLogger("bridge.importer")
LOG_EVERY_SECONDS = 10.0
REDRAW_EVERY_SECONDS = 0.2


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


def eta_text(seconds: float | None) -> str:
    """Seconds left as ``mm:ss`` or ``h:mm:ss``; ``--:--`` when unknown."""
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class CountColumn(ProgressColumn):
    """``12/40 messages``, or ``12 messages`` while the total is unknown."""

    def render(self, task: Task) -> Text:
        of_total = f"/{int(task.total)}" if task.total is not None else ""
        return Text(f"{int(task.completed)}{of_total} messages")


class RateColumn(ProgressColumn):
    """Messages sent per second since sending began (the task's ``rate`` field)."""

    def render(self, task: Task) -> Text:
        rate = task.fields.get("rate") or 0.0
        return Text(f"{rate:.1f}/s" if rate else "")


class StateColumn(ProgressColumn):
    """``done``; ``ETA mm:ss`` once a total and a rate are known (the task's ``eta`` field,
    in seconds); else nothing: no guess."""

    def render(self, task: Task) -> Text:
        if task.fields.get("finished"):
            return Text("done")
        eta = task.fields.get("eta")
        return Text("" if eta is None else f"ETA {eta_text(eta)}")


@dataclass
class Progress:
    """Counts what was imported, per channel and in total, and shows it.

    ``console`` (default: one writing to ``stream``) decides: a terminal gets bars, anything
    else log lines.
    """

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    console: Console | None = None
    channels: dict[int, ChannelProgress] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    sending_since: float | None = None  # when the first channel began sending (rooms ready)
    last_at: float | None = None  # when the last message went out
    _last_shown: float = 0.0
    _bars: RichProgress | None = None
    _tasks: dict[int | None, TaskID] = field(default_factory=dict)  # None: the total
    _swapped: list[tuple[logging.StreamHandler, TextIO]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.console is None:
            self.console = Console(file=self.stream)

    @property
    def live(self) -> bool:
        assert self.console is not None
        return self.console.is_terminal

    def channel(self, channel_id: int, name: str, total: int | None = None) -> ChannelProgress:
        self.channels[channel_id] = ChannelProgress(name, total)
        if self.live:
            bars = self._start_bars()
            self._tasks[channel_id] = bars.add_task(name, total=total, finished=False)
        return self.channels[channel_id]

    def set_total(self, channel_id: int, total: int) -> None:
        """A channel's total, once counted (an import may count beside sending)."""
        self.channels[channel_id].total = total
        self.show(force=True)

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
        sent per second since sending began)."""
        handled = sum(c.handled for c in self.channels.values())
        known = [c.total for c in self.channels.values()]
        total = None if any(t is None for t in known) else sum(t or 0 for t in known)
        return handled, total, self.sending_rate(until_now=True)

    def sending_rate(self, until_now: bool = False) -> float:
        """Messages per second from when sending began (ghosts joining included) to the last
        message (``until_now``: to now); start-up, bridging the guild and creating rooms
        excluded."""
        until = time.monotonic() if until_now else self.last_at
        if self.sending_since is None or until is None:
            return 0.0
        done = sum(c.done for c in self.channels.values())
        return done / max(until - self.sending_since, 1e-6)

    def summary_line(self) -> str:
        """The plain line: ``total 4/6 messages, 2.0/s, ETA 00:01``; without a total yet,
        ``total 4 messages (total not counted yet), 2.0/s``."""
        done, total, rate = self.totals()
        if total is None:
            return f"total {done} messages (total not counted yet), {rate:.1f}/s"
        remaining = max(total - done, 0) / rate if rate > 0 else None
        eta = "done" if done >= total else f"ETA {eta_text(remaining)}"
        return f"total {done}/{total} messages, {rate:.1f}/s, {eta}"

    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not (force or now - self._last_shown >= self._every):
            return
        self._last_shown = now
        if self._bars is not None:
            self._update_bars()
        elif not self.live:
            log.info("Import progress: %s", self.summary_line())

    @property
    def _every(self) -> float:
        return REDRAW_EVERY_SECONDS if self.live else LOG_EVERY_SECONDS

    def _start_bars(self) -> RichProgress:
        if self._bars is None:
            self._bars = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                CountColumn(),
                RateColumn(),
                StateColumn(),
                console=self.console,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._bars.start()
            self._tasks[None] = self._bars.add_task("total", total=None, finished=False)
            self._log_above_bars()
        return self._bars

    def _elapsed(self) -> float | None:
        """Seconds since sending began, None before."""
        if self.sending_since is None:
            return None
        return max(time.monotonic() - self.sending_since, 1e-6)

    def _update_bars(self) -> None:
        assert self._bars is not None
        for channel_id, entry in self.channels.items():
            self._update_bar(channel_id, entry.handled, entry.total, entry.done, entry.finished)
        handled, total, _ = self.totals()
        every = all(entry.finished for entry in self.channels.values())
        done = sum(entry.done for entry in self.channels.values())
        self._update_bar(None, handled, total, done, every)
        self._bars.refresh()

    def _update_bar(
        self, key: int | None, handled: int, total: int | None, sent: int, finished: bool
    ) -> None:
        """One bar: its count, its rate (messages sent a second) and, with a total, its ETA."""
        assert self._bars is not None
        elapsed = self._elapsed()
        rate = sent / elapsed if elapsed is not None else 0.0
        eta = max(total - handled, 0) / rate if total is not None and rate > 0 else None
        self._bars.update(
            self._tasks[key],
            completed=handled,
            total=total,
            finished=finished,
            rate=rate,
            eta=eta,
        )

    def _log_above_bars(self) -> None:
        """Point the log handlers that write to this terminal through rich, which prints
        their lines above the bars (undone by :meth:`close`)."""
        assert self.console is not None
        target = self.console.file
        proxy = FileProxy(self.console, target)
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler and handler.stream in (
                target,
                sys.stderr,
                sys.__stderr__,
            ):
                old = handler.setStream(proxy)  # type: ignore[arg-type]
                if old is not None:
                    self._swapped.append((handler, old))

    def close(self) -> None:
        """The final state, drawn or logged once more; the terminal's log lines back."""
        self.show(force=True)
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
        for handler, stream in self._swapped:
            handler.setStream(stream)
        self._swapped.clear()
