"""``python -m bridge import``: a guild's history from the Discord API, then live bridging.

The import runs inside a normal bridge process (the homeserver pushes the ghosts' events to the
bridge, so it must be listening; do not run the bridge at the same time). Each chosen channel
is queued for import before the gateway connects, in the same per-channel queue as live
events: whatever is said during the import waits behind the channel's history and follows it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

import discord

from ..actions.d2m.routing import Destination, destination
from ..app import Bridge
from ..config import Config
from ..convert.model import ChannelType
from ..db.rows import ImportCheckpointRow
from ..db.url import resolve_database_url
from ..discord.membership import fetch_guild_of_bot
from ..portal.replace_room import replace_room
from .api_reader import channel_items, history_count, merged, threads_of
from .engine import ChannelReport, ImportRefused, import_stream, needs_new_room, set_pins
from .known_checkpoints import read_checkpoints
from .plan import ChannelPlan, plan_report
from .progress import Progress

log = logging.getLogger("bridge.importer")
IMPORTED_TYPES = {ChannelType.TEXT, ChannelType.ANNOUNCEMENT, ChannelType.FORUM, ChannelType.MEDIA}


@dataclass
class ImportRequest:
    guild_id: int
    channel_ids: list[int] = field(default_factory=list)
    since: datetime | None = None
    # A channel whose room has live messages gets a new room (the old one tombstoned).
    replace_rooms: bool = False
    # Recorded as ``guild.bridged_by`` if the import is what bridges the guild.
    bridged_by: str | None = None


def _never() -> bool:
    return False


@dataclass
class ImportRun:
    """One import: what was asked, how it went."""

    request: ImportRequest
    bridge: Bridge
    progress: Progress = field(default_factory=Progress)
    reports: dict[int, ChannelReport] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    done: list[asyncio.Future] = field(default_factory=list)
    _bridged: asyncio.Future | None = None
    # The chosen channels as Discord listed them (REST objects; set by queue_channels).
    channels: Sequence[discord.abc.GuildChannel] = field(default_factory=list)
    # Asked between messages and before each channel: True stops the import, resumable.
    should_stop: Callable[[], bool] = _never
    # Set once the bridge has started (its start-up synced the guilds bridged before); None:
    # the bridge was running already (an import started from chat).
    bridge_started: asyncio.Event | None = None

    async def queue_channels(self) -> None:
        """Runs logged in, before the gateway connects: queue one job per chosen channel.
        Raises :class:`~bridge.discord.membership.NotInGuild` if the bot is not in the guild."""
        client = self.bridge.discord
        guild = await fetch_guild_of_bot(client, self.request.guild_id)
        channels = [
            channel
            for channel in await guild.fetch_channels()
            if channel.type.value in IMPORTED_TYPES
            and (not self.request.channel_ids or channel.id in self.request.channel_ids)
        ]
        channels.sort(key=lambda channel: (channel.position, channel.id))
        self.channels = channels
        semaphore = asyncio.Semaphore(self.bridge.config["bridge.limits.import_concurrency"])
        assert self.bridge.relay is not None
        for channel in channels:
            finished: asyncio.Future = asyncio.get_running_loop().create_future()
            self.done.append(finished)
            self.reports[channel.id] = ChannelReport(channel.name)
            self.progress.channel(channel.id, f"#{channel.name}")
            self.bridge.relay.importing.add(channel.id)  # its catch-up leaves the rest to us

            async def job(
                channel_id: int = channel.id, finished: asyncio.Future = finished
            ) -> None:
                try:
                    async with semaphore:
                        if self.should_stop():
                            self.reports[channel_id].stopped = True
                        else:
                            await self._import_channel(channel_id)
                except ImportRefused as error:
                    self.errors.append(str(error))
                except Exception as error:
                    log.exception("Importing channel %s failed", channel_id)
                    self.errors.append(f"channel {channel_id}: {error!r}")
                finally:
                    assert self.bridge.relay is not None
                    self.bridge.relay.importing.discard(channel_id)
                    self.progress.finish(channel_id)
                    if not finished.done():
                        finished.set_result(None)

            self.bridge.relay.queues.submit(channel.id, job)

    async def count_totals(self) -> None:
        """Count each chosen channel's history beside the import (100 messages a request:
        Discord's API has no message count) and fill in the progress totals as they come.
        A count that fails leaves that channel's bar without a total (logged)."""
        for channel in self.channels:
            if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
                continue
            try:
                total = await history_count(channel, self.request.since)
            except discord.HTTPException as error:
                log.warning("Could not count the history of #%s: %s", channel.name, error)
                continue
            self.progress.set_total(channel.id, total)

    async def _bridge_guild_once(self) -> None:
        """Bridge (sync) the guild once per run: not at all if the bridge's start-up has just
        synced it (a guild bridged before), so nothing is synced, or invited, twice."""
        assert self.bridge.guilds is not None
        if self._bridged is None and self.bridge_started is not None:
            row = await self.bridge.guilds.tables.guilds.get(self.request.guild_id)
            if row is not None and row.space_room_id:
                self._bridged = asyncio.get_running_loop().create_future()
                self._bridged.set_result(None)
        if self._bridged is None:
            self._bridged = asyncio.ensure_future(
                self.bridge.guilds.bridge_guild(
                    self.request.guild_id, bridged_by=self.request.bridged_by
                )
            )
        await self._bridged

    async def _import_channel(self, channel_id: int) -> None:
        bridge, relay = self.bridge, self.bridge.relay
        assert relay is not None
        await bridge.discord.ready_event.wait()
        if self.bridge_started is not None:
            await self.bridge_started.wait()  # after the start-up's syncs: one sync, not two
            if self.should_stop():
                self.reports[channel_id].stopped = True
                return
        await self._bridge_guild_once()
        channel = bridge.discord.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            return
        if self.request.replace_rooms and await needs_new_room(relay, channel.id):
            guild = bridge.discord.get_guild(self.request.guild_id)
            assert guild is not None and bridge.guilds is not None
            await replace_room(bridge.guilds, guild, channel.id)
        threads = await threads_of(channel)
        report = self.reports[channel_id]
        if isinstance(channel, discord.ForumChannel):
            for post in threads:  # each post is a room of its own
                if self.should_stop():
                    report.stopped = True
                    return
                targets = await self._destinations([post.id])
                if post.id not in targets:  # no room: nothing recorded, a later import sends it
                    report.skip("post not bridged")
                    continue
                stream = channel_items(post, self.request.since)
                await import_stream(
                    relay,
                    post.id,
                    stream,
                    targets,
                    self.progress,
                    report,
                    progress_key=channel_id,
                    should_stop=self.should_stop,
                    since_id=self.since_id,
                )
            return
        targets = await self._destinations([channel.id, *(t.id for t in threads)])
        if channel.id not in targets:
            # Refused before any checkpoint exists: one marked finished with nothing sent
            # would make the channel's history look imported once it is bridged again.
            raise ImportRefused(
                f"channel {channel.id} (#{channel.name}) is not bridged (unbridged on its own?): "
                f"bridge it again (`bridge-room {channel.id}` in a room) and import then."
            )
        streams = [channel_items(channel, self.request.since)]
        streams += [channel_items(thread, self.request.since) for thread in threads]
        await import_stream(
            relay,
            channel.id,
            merged(streams),
            targets,
            self.progress,
            report,
            should_stop=self.should_stop,
            since_id=self.since_id,
        )
        if channel.id in targets and not report.stopped:
            pins = [m.id async for m in channel.pins(limit=None, oldest_first=True)]
            await set_pins(relay, targets[channel.id].room_id, pins)

    @property
    def since_id(self) -> int | None:
        """The lowest snowflake of ``--since`` (None: the whole history)."""
        since = self.request.since
        return discord.utils.time_snowflake(since) if since is not None else None

    async def _destinations(self, channel_ids: list[int]) -> dict[int, Destination]:
        relay = self.bridge.relay
        assert relay is not None
        found = {}
        for channel_id in channel_ids:
            where = await destination(relay.tables, relay.discord, channel_id)
            if where is not None:
                found[channel_id] = where
        return found

    def summary(self, seconds: float, interrupted: bool = False) -> str:
        """The text printed at the end: ``Import of guild G finished in 12.0 s:`` (``stopped
        after`` when interrupted), then a line per channel, e.g. ``#general: 2476 imported (524
        before this run), skipped: none``, then what was refused or failed."""
        ended = "stopped after" if interrupted else "finished in"
        lines = [f"Import of guild {self.request.guild_id} {ended} {seconds:.1f} s:"]
        for report in self.reports.values():
            if report.already_done:
                lines.append(f"  #{report.name}: already imported, nothing to do")
                continue
            skipped = ", ".join(f"{n} {why}" for why, n in report.skipped.items()) or "none"
            earlier = f" ({report.before} before this run)" if report.before else ""
            lines.append(
                f"  #{report.name}: {report.imported} imported{earlier}, skipped: {skipped}"
            )
        lines += [f"  refused or failed: {error}" for error in self.errors]
        return "\n".join(lines)


async def run_import(config: Config, request: ImportRequest) -> int:
    """Import, then stop; exit status 1 if any channel was refused or failed.

    Cancelled (Ctrl-C, see :mod:`bridge.interrupt`), each channel stops after the message it
    is sending, its checkpoint saved (the same command resumes there), then the bridge stops
    and the cancel goes on. Raises :class:`~bridge.discord.membership.NotInGuild` when the bot
    is not in ``request.guild_id``.
    """
    run_holder: list[ImportRun] = []

    async def before_connect() -> None:
        await run_holder[0].queue_channels()

    bridge = Bridge(config, before_connect=before_connect)
    stopping: list[bool] = []
    run = ImportRun(
        request, bridge, should_stop=lambda: bool(stopping), bridge_started=asyncio.Event()
    )
    run_holder.append(run)
    started = time.monotonic()
    counting: asyncio.Task | None = None
    try:
        await bridge.start()
        assert run.bridge_started is not None
        run.bridge_started.set()
        counting = asyncio.create_task(run.count_totals(), name="import-count")
        if run.done:  # wait, not gather: a cancel must not cancel the channels' futures
            await asyncio.wait(run.done)
    except asyncio.CancelledError:
        stopping.append(True)
        assert run.bridge_started is not None
        run.bridge_started.set()  # channels still waiting for it stop at once
        if run.done and bridge.discord.ready_event.is_set():
            await asyncio.wait(run.done)  # each after the message it is sending
        run.progress.close()
        print(run.summary(time.monotonic() - started, interrupted=True))
        print("Interrupted: run the same command again to resume where each channel stopped.")
        raise
    finally:
        if not run.done or not all(future.done() for future in run.done):
            stopping.append(True)  # the start failed: queued channels stop, not import
        assert run.bridge_started is not None
        run.bridge_started.set()
        if counting is not None:
            counting.cancel()
            with suppress(asyncio.CancelledError):
                await counting
        await bridge.stop()
    run.progress.close()
    print(run.summary(time.monotonic() - started))
    return 1 if run.errors else 0


async def dry_run(config: Config, request: ImportRequest) -> int:
    """What an import would do: messages, threads, attachments, bytes, reactions and a
    duration estimate per channel and in total (see :mod:`.plan`).

    Reads the history over REST only: no gateway, no homeserver; from the database, if there
    is one, only the earlier imports' checkpoints (no migration, no file created), so what
    they sent is not counted again. Nothing is created, sent or stored.
    """
    from ..discord.client import BridgeDiscordClient, point_discord_py_at

    point_discord_py_at(
        config["discord.api_url"], config["discord.gateway_url"], config["discord.cdn_url"]
    )
    url = resolve_database_url(config["appservice.database.url"], config.directory)
    checkpoints = await read_checkpoints(url)
    client = BridgeDiscordClient()
    await client.login(config["discord.bot_token"])
    try:
        guild = await fetch_guild_of_bot(client, request.guild_id)
        channels = [
            c
            for c in await guild.fetch_channels()
            if c.type.value in IMPORTED_TYPES
            and (not request.channel_ids or c.id in request.channel_ids)
        ]
        print(
            f"Counting the history of {len(channels)} channel(s) of {guild.name!r} "
            "(100 messages per request)…",
            file=sys.stderr,
            flush=True,
        )
        plans = [
            await _count(channel, request.since, checkpoints)
            for channel in sorted(channels, key=lambda c: (c.position, c.id))
        ]
        title = f"Dry run: importing guild {guild.name!r} ({guild.id}) would create or use:"
        print(plan_report(title, plans))
    finally:
        await client.close()
    return 0


async def _count(
    channel: discord.abc.GuildChannel,
    since: datetime | None,
    checkpoints: dict[int, ImportCheckpointRow],
) -> ChannelPlan:
    """What importing ``channel`` would send, given the earlier imports' ``checkpoints``
    (by channel id; a forum's by post id): a text channel's threads share its checkpoint
    (one stream, in message id order), a forum's posts have one each."""
    plan = ChannelPlan(channel.name)
    sources: list[tuple[discord.abc.Messageable, ImportCheckpointRow | None]] = []
    own = checkpoints.get(channel.id)
    if isinstance(channel, discord.TextChannel):
        sources.append((channel, own))
    if isinstance(channel, discord.TextChannel | discord.ForumChannel):
        threads = await threads_of(channel)
        plan.threads = len(threads)
        for thread in threads:
            forum = isinstance(channel, discord.ForumChannel)
            sources.append((thread, checkpoints.get(thread.id) if forum else own))
    plan.finished = bool(sources) and all(cp is not None and cp.finished for _, cp in sources)
    for source, checkpoint in sources:
        if checkpoint is not None and checkpoint.finished:
            continue
        last = checkpoint.last_message_id if checkpoint is not None else None
        async for message in source.history(limit=None, after=since, oldest_first=True):
            if last is not None and message.id <= last:
                plan.already += 1
                continue
            plan.messages += 1
            plan.attachments += len(message.attachments)
            plan.bytes += sum(a.size for a in message.attachments)
            plan.reactions += sum(r.count for r in message.reactions)
    return plan
