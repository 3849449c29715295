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
from collections.abc import Callable
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
    sending_since: float | None = None  # clock seconds: when its first message went out
    finished_at: float | None = None  # clock seconds: when it ended (its rate stops there)

    @property
    def handled(self) -> int:
        return self.done + self.skipped

    def rate(self, now: float, since: float | None = None) -> float:
        """Messages sent a second from when it began sending (``since`` if it never said)
        to ``now``, or to when it finished: a finished channel's rate stays as it ended."""
        start = self.sending_since if self.sending_since is not None else since
        if start is None or self.done == 0:
            return 0.0
        until = self.finished_at if self.finished_at is not None else now
        return self.done / max(until - start, 1e-6)

    def eta(self, now: float, since: float | None = None) -> float | None:
        """Seconds left at its rate: 0 once finished, None without a total or a rate."""
        if self.finished:
            return 0.0
        rate = self.rate(now, since)
        if self.total is None or rate <= 0:
            return None
        return max(self.total - self.handled, 0) / rate


def _monotonic() -> float:
    return time.monotonic()


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
    """``done`` (``stopped`` if it ended short of its total); ``ETA mm:ss`` once a total and
    a rate are known (the task's ``eta`` field, in seconds); else nothing: no guess."""

    def render(self, task: Task) -> Text:
        if task.fields.get("finished"):
            short = task.total is not None and task.completed < task.total
            return Text("stopped" if short else "done")
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
    # Seconds of a monotonic clock (a fake one in tests).
    clock: Callable[[], float] = _monotonic
    started: float = field(default_factory=_monotonic)
    sending_since: float | None = None  # when the first channel began sending (rooms ready)
    last_at: float | None = None  # when the last message went out
    _last_shown: float = 0.0
    _last_line: str | None = None  # the last ``Import progress`` line logged
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

    def begin_sending(self, channel_id: int | None = None) -> None:
        """A channel's room is ready and its history starts going out (its rate counts from
        now; the first call starts the total's)."""
        now = self.clock()
        if self.sending_since is None:
            self.sending_since = now
        entry = self.channels.get(channel_id) if channel_id is not None else None
        if entry is not None and entry.sending_since is None:
            entry.sending_since = now

    def advance(self, channel_id: int, count: int = 1, skipped: int = 0) -> None:
        if count:
            self.last_at = self.clock()
        entry = self.channels[channel_id]
        entry.done += count
        entry.skipped += skipped
        self.show()

    def finish(self, channel_id: int) -> None:
        """The channel ended (done, stopped or refused): its rate freezes at its last value."""
        entry = self.channels[channel_id]
        if not entry.finished:
            entry.finished, entry.finished_at = True, self.clock()
        self.show(force=True)

    @property
    def all_finished(self) -> bool:
        return bool(self.channels) and all(c.finished for c in self.channels.values())

    def total_eta(self) -> float | None:
        """Seconds until every channel is through: what is left over the current rate of the
        channels still running, and never less than the slowest running channel's own ETA.
        0 when nothing is left; None while a total is unknown or nothing running has a rate."""
        handled, total, _ = self.totals()
        if total is None:
            return None
        if handled >= total:
            return 0.0
        now = self.clock()
        running = [c for c in self.channels.values() if not c.finished]
        rate = sum(c.rate(now, self.sending_since) for c in running)
        if rate <= 0:
            return None
        etas = [c.eta(now, self.sending_since) for c in running]
        return max([(total - handled) / rate, *(e for e in etas if e is not None)])

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
        until = self.clock() if until_now and not self.all_finished else self.last_at
        if self.sending_since is None or until is None:
            return 0.0
        done = sum(c.done for c in self.channels.values())
        return done / max(until - self.sending_since, 1e-6)

    def summary_line(self) -> str:
        """The plain line: ``total 4/6 messages, 2.0/s, ETA 00:01`` (see :meth:`total_eta`);
        ``… done`` when all went through, ``… stopped`` when every channel ended short of it;
        without a total yet, ``total 4 messages (total not counted yet), 2.0/s``."""
        done, total, rate = self.totals()
        if total is None:
            return f"total {done} messages (total not counted yet), {rate:.1f}/s"
        if done >= total:
            state = "done"
        elif self.all_finished:
            state = "stopped"
        else:
            state = f"ETA {eta_text(self.total_eta())}"
        return f"total {done}/{total} messages, {rate:.1f}/s, {state}"

    def show(self, force: bool = False) -> None:
        """Redraw the bars, or log the line: at most every few seconds unless ``force``;
        a forced line the same as the last one logged is not logged again."""
        now = self.clock()
        if not (force or now - self._last_shown >= self._every):
            return
        self._last_shown = now
        if self._bars is not None:
            self._update_bars()
        elif not self.live:
            line = self.summary_line()
            if force and line == self._last_line:
                return
            self._last_line = line
            log.info("Import progress: %s", line)

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

    def _update_bars(self) -> None:
        assert self._bars is not None
        now = self.clock()
        for channel_id, entry in self.channels.items():
            rate = entry.rate(now, self.sending_since)
            eta = entry.eta(now, self.sending_since)
            self._update_bar(channel_id, entry.handled, entry.total, entry.finished, rate, eta)
        handled, total, rate = self.totals()
        self._update_bar(None, handled, total, self.all_finished, rate, self.total_eta())
        self._bars.refresh()

    def _update_bar(
        self,
        key: int | None,
        handled: int,
        total: int | None,
        finished: bool,
        rate: float,
        eta: float | None,
    ) -> None:
        """One bar: its count, its rate (messages sent a second) and its ETA (seconds)."""
        assert self._bars is not None
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
