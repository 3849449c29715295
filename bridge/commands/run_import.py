"""Executors of ``import`` and ``cancel``, and the status message an import keeps editing.

``import`` answers with one message and edits it while the import runs (messages done and in
all, messages per second, time left), at most every :data:`EDIT_EVERY` seconds, then once
more with the summary. The import runs on in the bridge; other commands are not held up.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Callable

from ..actions.admin import bridging
from ..actions.admin.imports import ImportJob
from ..actions.admin.services import ActionError
from ..importer.progress import eta_text
from ..plural import counted
from .context import CommandContext
from .render import Reply, error_reply
from .run_info import matrix_to

log = logging.getLogger("bridge.commands.import")
EDIT_EVERY = 3.0  # s, at least, between two edits of a status message
POST_WAIT = 30.0  # s an edit waits for its status message to be posted


def resume_command(job: ImportJob) -> str:
    """The command that imports the same thing again (and so resumes it)."""
    words = [f"import {job.target_id}"]
    if job.since is not None:
        words.append(f"--since {job.since.date().isoformat()}")
    return " ".join(words)


def _what(job: ImportJob) -> str:
    if job.whole_guild:
        return f"**{job.guild_name}**"
    return f"channel `{job.target_id}` of **{job.guild_name}**"


def _of_total(job: ImportJob) -> str:
    total = job.messages_total
    done = job.messages_done
    return (
        f"{done} of {counted(total, 'message')}" if total is not None else counted(done, "message")
    )


def running_text(job: ImportJob, line: Callable[[str], str]) -> str:
    """A running import: how far, how fast, how long still, and how to stop it."""
    rate = job.rate_per_second
    if job.messages_done == 0 and rate == 0:
        pace = "preparing the rooms"
    else:
        total = job.messages_total
        if total is None:
            pace = f"{counted(job.messages_done, 'message')} so far (still counting the rest)"
        else:
            pace = _of_total(job)
        pace += f", {rate:.1f} messages/s"
        eta = job.eta_seconds
        if eta is not None:
            pace += f", about {eta_text(eta)} left"
    stop = line(f"cancel {job.target_id}")
    return (
        f"⏳ Importing the history of {_what(job)} (import {job.job_id}): {pace}.\n\n"
        f"`{stop}` stops it; importing again later resumes where it stopped."
    )


def summary_text(job: ImportJob, line: Callable[[str], str]) -> str:
    """An ended import: per channel what was imported or skipped, and the errors."""
    again = line(resume_command(job))
    if job.state == "cancelled":
        return (
            f"⏹️ Import {job.job_id} of {_what(job)} cancelled after {_of_total(job)} — run "
            f"`{again}` again to resume."
        )
    seconds = (job.finished_at or job.started_at) - job.started_at
    if job.state == "failed":
        head = f"⚠️ The import of {_what(job)} failed after {seconds:.0f} s."
    else:
        head = f"✅ Imported the history of {_what(job)} in {seconds:.0f} s: {_of_total(job)}."
    lines = [head, ""]
    for report in job.reports.values():
        if report.already_done:
            lines.append(f"- #{report.name}: already imported, nothing to do")
            continue
        skipped = ", ".join(f"{n} {why}" for why, n in report.skipped.items()) or "none"
        earlier = f" ({report.before} before this run)" if report.before else ""
        lines.append(f"- #{report.name}: {report.imported} imported{earlier}, skipped: {skipped}")
    if job.errors:
        lines += ["", "**Errors**", ""]
        lines += [f"- {error}" for error in job.errors]
    return "\n".join(lines).rstrip()


def status_text(job: ImportJob, line: Callable[[str], str], header: str = "") -> str:
    """The status message's text for ``job`` in any state (pure); ``header`` goes first."""
    body = running_text(job, line) if job.state == "running" else summary_text(job, line)
    return f"{header}\n\n{body}" if header else body


class StatusMessage:
    """The one reply that shows an import's progress; :meth:`update` is its progress
    callback (never raises: a failed edit is logged)."""

    def __init__(self, context: CommandContext, header: str = "") -> None:
        self.context = context
        self.header = header
        self.posted: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.shown: str | None = None
        self.edited_at = 0.0

    def text(self, job: ImportJob) -> str:
        return status_text(job, self.context.line, self.header)

    async def post(self, job: ImportJob) -> None:
        """Post the first status; raises what posting raises."""
        self.shown = self.text(job)
        try:
            self.posted.set_result(await self.context.reply(Reply(self.shown)))
        except BaseException:
            self.posted.set_result(None)
            raise
        self.edited_at = time.monotonic()

    async def update(self, job: ImportJob) -> None:
        """Edit the status if it changed: at most every EDIT_EVERY s, and once at the end."""
        try:
            event_id = await asyncio.wait_for(asyncio.shield(self.posted), POST_WAIT)
        except TimeoutError:
            return
        if event_id is None:
            return
        ended = job.state != "running"
        wait = self.edited_at + EDIT_EVERY - time.monotonic()
        if wait > 0:
            if not ended:
                return
            await asyncio.sleep(wait)
        text = self.text(job)
        if text == self.shown:
            return
        try:
            await self.context.edit(event_id, Reply(text))
        except Exception:
            log.exception("Could not edit the status of import %s", job.job_id)
            return
        self.shown, self.edited_at = text, time.monotonic()


async def run_import(context: CommandContext, arguments: argparse.Namespace) -> Reply | None:
    """``import TARGET [--since DATE] [--replace-rooms]``: one status message, edited."""
    status = StatusMessage(context)
    job = await context.services.imports.start(
        arguments.target,
        since=arguments.since,
        replace_rooms=arguments.replace_rooms,
        actor=context.actor,
        on_progress=status.update,
    )
    await status.post(job)
    return None


async def bridge_and_import(context: CommandContext, guild_id: int) -> Reply | None:
    """``bridge GUILD --import``: the history is queued first (live messages wait behind it;
    the import bridges the guild before sending), then the guild bridged and its space shared;
    one status message follows the import."""
    services = context.services
    bridging.guild_or_error(services, guild_id)
    already = await services.tables.guilds.get(guild_id) is not None
    status = StatusMessage(context)
    job = await services.imports.start(guild_id, actor=context.actor, on_progress=status.update)
    try:
        outcome = await bridging.bridge_guild(services, guild_id, context.actor)
    except ActionError as error:  # the import bridges the guild itself; only the invites lack
        status.header = f"⚠️ {error}"
    else:
        server = services.config["homeserver.domain"]
        link = f"[{outcome.space_room_id}]({matrix_to(outcome.space_room_id, server)})"
        status.header = (
            f"**{outcome.name}** was already bridged; its space: {link}."
            if already
            else f"Bridged **{outcome.name}** as the space {link}."
        )
        if outcome.invited:
            status.header += " Invited to the space: " + ", ".join(outcome.invited) + "."
    await status.post(job)
    return None


async def run_cancel(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    """``cancel [TARGET]``: stop the running imports of a guild or channel (or all)."""
    imports = context.services.imports
    cancelled = await imports.cancel(target_id=arguments.target)
    if not cancelled:
        running = [job for job in imports.all() if job.state == "running"]
        what = f" of `{arguments.target}`" if arguments.target is not None else ""
        others = (
            " Running: " + ", ".join(f"import {j.job_id} of `{j.target_id}`" for j in running) + "."
            if running
            else ""
        )
        return error_reply(f"No import{what} is running, so there is nothing to cancel.{others}")
    lines = []
    for job in cancelled:
        again = context.line(resume_command(job))
        if job.state == "running":
            lines.append(
                f"- Import {job.job_id} of {_what(job)}: stopping after the message being sent."
            )
        else:
            lines.append(
                f"- Import {job.job_id} of {_what(job)}: {job.state} after {_of_total(job)}; "
                f"`{again}` resumes it."
            )
    return Reply("**Cancelled**\n\n" + "\n".join(lines))
