"""History imports started from a command, ``/matrix`` or the API, run inside the bridge.

An :class:`ImportJob` is one run of the importer (``bridge.importer.command.ImportRun``) over a
guild or one of its channels. Its channels are queued in the relay's per-channel queues, so
live messages that arrive meanwhile follow the history in each room. Cancelling stops between
two messages with the checkpoint saved: importing again later resumes there, doubling nothing.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from ...importer.api_reader import history_count
from ...importer.engine import ChannelReport
from ...importer.progress import ChannelProgress, Progress
from .bridging import actor_tag
from .services import ActionError, Actor

if TYPE_CHECKING:
    from ...app import Bridge
    from ...importer.command import ImportRun

log = logging.getLogger("bridge.admin.imports")
PROGRESS_EVERY = 1.0  # s between progress callbacks while messages go out
CANCEL_WAIT = 60.0  # s that cancel() and stop() wait for the message being sent


def quiet_progress() -> Progress:
    """A :class:`Progress` that draws no terminal bars (it logs a line now and then)."""
    return Progress(stream=io.StringIO())


def channel_counts(entry: ChannelProgress, report: ChannelReport | None) -> tuple[int, int | None]:
    """One channel's (messages gone through, messages in all or None while uncounted).

    A finished channel's total is what it went through (a channel already imported before:
    its count); a count below what went through is raised to it.
    """
    handled = entry.done + entry.skipped
    if report is not None and report.already_done and entry.total is not None:
        return entry.total, entry.total
    if entry.finished and not (report is not None and report.stopped):
        return handled, handled
    if entry.total is None:
        return handled, None
    return handled, max(entry.total, handled)


@dataclass
class ImportJob:
    """One import started by an admin: what it covers and how far it got.

    ``state`` is "running", "finished", "cancelled" or "failed"; times are seconds since the
    epoch; ``channel_ids`` are the channels queued (all importable ones of a guild).
    """

    job_id: int
    guild_id: int
    channel_ids: tuple[int, ...]
    state: str = "running"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    errors: list[str] = field(default_factory=list)
    guild_name: str = ""
    target_id: int = 0  # what was asked for: the guild, or one channel
    since: datetime | None = None
    replace_rooms: bool = False
    progress: Progress = field(default_factory=quiet_progress, repr=False)
    reports: dict[int, ChannelReport] = field(default_factory=dict, repr=False)
    stop_requested: bool = False
    _settled: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _ended: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def whole_guild(self) -> bool:
        return self.target_id == self.guild_id

    def _counts(self) -> tuple[int, int | None]:
        handled, total, known = 0, 0, True
        for channel_id, entry in self.progress.channels.items():
            done, of = channel_counts(entry, self.reports.get(channel_id))
            handled += done
            if of is None:
                known = False
            else:
                total += of
        return handled, total if known else None

    @property
    def messages_done(self) -> int:
        """Messages gone through: sent, or found already sent by an earlier run."""
        return self._counts()[0]

    @property
    def messages_total(self) -> int | None:
        """Messages to go through in all; None until every channel's history is counted."""
        return self._counts()[1]

    @property
    def rate_per_second(self) -> float:
        """Messages sent per second since the first room was ready (0.0 before)."""
        progress = self.progress
        if progress.sending_since is None:
            return 0.0
        sent = sum(entry.done for entry in progress.channels.values())
        until = time.monotonic() if self.state == "running" else progress.last_at
        if until is None or sent == 0:
            return 0.0
        return sent / max(until - progress.sending_since, 1e-6)

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the current rate, never less than the slowest running channel's
        own ETA; None if unknown (uncounted, or not yet sending)."""
        if self.state != "running":
            return None
        handled, total = self._counts()
        rate = self.rate_per_second
        if total is None or rate <= 0:
            return None
        progress, now = self.progress, self.progress.clock()
        channels = [
            entry.eta(now, progress.sending_since)
            for entry in progress.channels.values()
            if not entry.finished
        ]
        return max([max(total - handled, 0) / rate, *(e for e in channels if e is not None)])

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def wait(self) -> None:
        """Until the job has ended (and its last progress callback has run)."""
        await self._ended.wait()

    def to_json(self) -> dict[str, Any]:
        """The job for the provisioning API and ``status`` (IDs as strings, times in s)."""
        handled, total = self._counts()
        return {
            "id": self.job_id,
            "guild_id": str(self.guild_id),
            "channel_ids": [str(channel_id) for channel_id in self.channel_ids],
            "state": self.state,
            "messages_done": handled,
            "messages_total": total,
            "rate_per_second": round(self.rate_per_second, 2),
            "eta_seconds": self.eta_seconds,
            "errors": list(self.errors),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


ProgressCallback = Callable[[ImportJob], Awaitable[None]]


class ImportJobs:
    """The imports started while the bridge runs, by ID (from 1, per process)."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.jobs: dict[int, ImportJob] = {}
        self._tasks: set[asyncio.Task] = set()

    async def start(
        self,
        target_id: int,
        *,
        since: datetime | None = None,
        replace_rooms: bool = False,
        actor: Actor,
        on_progress: ProgressCallback | None = None,
    ) -> ImportJob:
        """Queue the import of a guild (its importable channels) or of one channel; returns
        once its channels are queued, while the import runs on.

        ``on_progress`` is awaited about every second while the counts change, and once more
        after the job ended; it is never awaited twice at once. Raises :class:`ActionError`:
        404 for an ID that is no guild or channel of the bot's, 400 for a channel that is not
        imported (voice, category, thread), 409 if an import of it is already running, 502 if
        Discord does not list the guild's channels.
        """
        from ...importer.command import ImportRequest, ImportRun

        guild, channel_ids = self._target(target_id)
        for running in self.running_for(guild.id):
            if running.whole_guild or not channel_ids or set(running.channel_ids) & channel_ids:
                raise ActionError(
                    f"Import {running.job_id} of {self._describe(running)} is already running "
                    f"({running.messages_done} messages so far). Wait for it, or `cancel "
                    f"{running.target_id}` it first.",
                    status=409,
                )
        job = ImportJob(
            max(self.jobs, default=0) + 1,
            guild.id,
            tuple(channel_ids),
            guild_name=guild.name,
            target_id=target_id,
            since=since,
            replace_rooms=replace_rooms,
        )
        self.jobs[job.job_id] = job  # before any await: a second start sees it
        request = ImportRequest(
            guild.id, sorted(channel_ids), since, replace_rooms, bridged_by=actor_tag(actor)
        )
        run = ImportRun(request, self.bridge, progress=job.progress)
        run.should_stop = lambda: job.stop_requested
        job.reports, job.errors = run.reports, run.errors
        log.info("Import %s of %s started by %s", job.job_id, target_id, actor.describe())
        try:
            await run.queue_channels()
        except discord.HTTPException as error:
            job.errors.append(f"Discord did not list the channels of {guild.name}: {error}")
            job.state, job.finished_at = "failed", time.time()
            job._settled.set()
            job._ended.set()
            raise ActionError(
                f"Could not start the import of {guild.name} ({guild.id}): Discord did not "
                f"list its channels ({error}). Check the bot's permissions and try again.",
                status=502,
            ) from error
        job.channel_ids = tuple(run.reports)
        self._spawn(self._run(job, run, on_progress), f"import-{job.job_id}")
        self._spawn(self._count_totals(job, run), f"import-{job.job_id}-count")
        return job

    def get(self, job_id: int) -> ImportJob | None:
        return self.jobs.get(job_id)

    def all(self) -> list[ImportJob]:
        """Every job of this process, oldest first."""
        return [self.jobs[job_id] for job_id in sorted(self.jobs)]

    def running_for(self, guild_id: int) -> list[ImportJob]:
        return [job for job in self.all() if job.guild_id == guild_id and job.state == "running"]

    async def cancel(
        self, target_id: int | None = None, job_id: int | None = None
    ) -> list[ImportJob]:
        """Stop the running jobs of a guild or channel, or the job ``job_id`` (all running
        jobs when both are None), each after the message it is sending, checkpoint saved.
        Waits until they stopped (up to a minute); returns them (empty: none matched)."""
        chosen = [
            job
            for job in self.all()
            if job.state == "running"
            and (job_id is None or job.job_id == job_id)
            and (target_id is None or target_id in (job.guild_id, *job.channel_ids))
        ]
        for job in chosen:
            if not job.stop_requested:
                job.stop_requested = True
                log.info("Import %s of %s: cancel requested", job.job_id, job.target_id)
        if chosen:
            await asyncio.wait(
                [asyncio.ensure_future(job.wait()) for job in chosen], timeout=CANCEL_WAIT
            )
        return chosen

    async def stop(self) -> None:
        """Bridge shutdown: every running job stops cleanly (resumable), then its tasks end."""
        await self.cancel()
        for task in list(self._tasks):
            if not task.done():
                task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _target(self, target_id: int) -> tuple[discord.Guild, set[int]]:
        """The guild and the channels (empty: all) that ``target_id`` names."""
        from ...importer.command import IMPORTED_TYPES

        client = self.bridge.discord
        guild = client.get_guild(target_id)
        if guild is not None:
            return guild, set()
        channel = client.get_channel(target_id)
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            if channel.type.value not in IMPORTED_TYPES:
                whole = (
                    f" A thread is imported with its channel: `import {channel.parent_id}`."
                    if isinstance(channel, discord.Thread)
                    else ""
                )
                raise ActionError(
                    f"#{channel.name} ({target_id}) is a {channel.type.name} channel: imports "
                    f"cover text, announcement, forum and media channels.{whole}",
                    status=400,
                )
            return channel.guild, {channel.id}
        known = ", ".join(f"{g.name} ({g.id})" for g in client.guilds) or "none"
        raise ActionError(
            f"The Discord bot is in no guild and sees no channel with ID {target_id}. Its "
            f"guilds: {known}. Send `guilds` for the list; invite the bot to a guild first.",
            status=404,
        )

    @staticmethod
    def _describe(job: ImportJob) -> str:
        if job.whole_guild:
            return f"guild {job.guild_name} ({job.guild_id})"
        return f"channel {job.target_id} of {job.guild_name}"

    def _spawn(self, work: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, job: ImportJob, run: ImportRun, on_progress: ProgressCallback | None
    ) -> None:
        reporter = asyncio.create_task(self._report(job, on_progress))
        try:
            if run.done:  # wait, not gather: cancelling this task must not cancel them
                await asyncio.wait(run.done)
        finally:
            job.finished_at = time.time()
            job.state = final_state(job)
            job._settled.set()
            log.info(
                "Import %s of %s %s: %s messages, errors: %s",
                job.job_id,
                job.target_id,
                job.state,
                job.messages_done,
                job.errors or "none",
            )
            try:
                await asyncio.shield(reporter)
            finally:
                job._ended.set()

    async def _report(self, job: ImportJob, on_progress: ProgressCallback | None) -> None:
        """Call ``on_progress`` while the counts change, then once after the end; never raises."""
        if on_progress is None:
            return
        last: tuple[object, ...] | None = None
        while True:
            settled = job._settled.is_set()
            seen = (job.state, *job._counts(), len(job.errors))
            if seen != last or settled:
                last = seen
                try:
                    await on_progress(job)
                except Exception:
                    log.exception("The progress callback of import %s failed", job.job_id)
            if settled:
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(job._settled.wait(), PROGRESS_EVERY)

    async def _count_totals(self, job: ImportJob, run: ImportRun) -> None:
        """Count each channel's history beside the import, for totals and an ETA."""
        client = self.bridge.discord
        await client.ready_event.wait()
        for channel_id, entry in list(job.progress.channels.items()):
            if job._settled.is_set():
                return
            channel = client.get_channel(channel_id)
            if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
                entry.total = entry.total if entry.total is not None else 0
                continue
            try:
                entry.total = await history_count(channel, run.request.since)
            except discord.HTTPException as error:
                log.warning("Could not count the history of #%s: %s", channel.name, error)
                return


def final_state(job: ImportJob) -> str:
    """ "cancelled" if a cancel stopped a channel, "failed" if every channel failed or was
    refused, else "finished" (its errors, if any, name the channels that failed)."""
    if job.stop_requested and any(report.stopped for report in job.reports.values()):
        return "cancelled"
    if job.errors and len(job.errors) >= len(job.reports):
        return "failed"
    return "finished"
