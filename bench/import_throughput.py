"""History import throughput against what the homeserver accepts (not a test: prints figures).

Usage: .venv/bin/python bench/import_throughput.py [--channels 4] [--messages 100] [--rounds 5]
       [--files-every N] [--keep]

Starts a throwaway Synapse and the Discord emulator, seeds ``channels × messages`` past
messages by five authors (with ``--files-every N``, every Nth carries a 64 KB file that the
import downloads and uploads; the replay only refers to the uploaded copy, so that figure is a
lower bound), imports them with the real importer (one room per channel, channels
in parallel), then replays the very events the import sent into fresh copies of its rooms
straight through the appservice API (``replay.py``: same senders, contents, ``ts``, invites
and joins, one sender per room). It also samples how busy Synapse and this process (the
bridge, with the in-process emulator) were in each phase. The last line is the headline
ratio: import rate ÷ replay rate (1.0 = the bridge adds nothing; the homeserver is the limit),
the median over the rounds, with issue 16's target (≥ 0.9) beside it. Ctrl-C stops everything
(status 130); the bench folder is removed after a success unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from harness import (  # bench/, beside this script; bench_setup and SERVER re-exported
    SERVER,
    add_keep,
    bench_setup,
    non_negative_int,
    positive_int,
    run_bench,
)
from replay import replay_rooms  # bench/replay.py, beside this script
from ruamel.yaml import YAML

from bridge.app import Bridge
from bridge.config import load_config
from bridge.importer.command import ImportRequest, ImportRun
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Attachment, Store
from bridge.sandbox.homeserver import LocalSynapse

__all__ = ["SERVER", "attachment", "bench_setup", "transaction_sink"]
TARGET = 0.9  # issue 16: the import at ≥ 0.9 of what the homeserver accepts (median ratio)
DB_DIR = os.environ.get("BENCH_DB_DIR")


async def transaction_sink(port: int) -> web.AppRunner:
    """An appservice that accepts every pushed transaction at once, as a fair baseline:
    Synapse pushes each event to the appservice whether the bridge or a bare sender sent it."""
    app = web.Application()

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({})

    app.router.add_put("/_matrix/app/v1/transactions/{txn}", accept)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


class CpuSampler:
    """How busy Synapse and this process were, sampled every 0.2 s, for any time window."""

    def __init__(self, synapse_pid: int) -> None:
        self.synapse_pid = synapse_pid
        self.samples: list[tuple[float, float, float]] = []  # (monotonic, synapse s, own s)
        self.task: asyncio.Task[None] | None = None

    def synapse_seconds(self) -> float:
        fields = Path(f"/proc/{self.synapse_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), self.synapse_seconds(), time.process_time()))
            await asyncio.sleep(0.2)

    def __enter__(self) -> CpuSampler:
        self.task = asyncio.get_running_loop().create_task(self.run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()

    def busy(self, start: float, end: float) -> tuple[float, float]:
        """Cores used by Synapse and by this process between two monotonic times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return 0.0, 0.0
        (t0, hs0, own0), (t1, hs1, own1) = inside[0], inside[-1]
        return (hs1 - hs0) / (t1 - t0), (own1 - own0) / (t1 - t0)


@dataclass
class Sandbox:
    folder: Path
    port: int
    config_path: Path
    registration: Path
    emulator: DiscordEmulator
    synapse: LocalSynapse
    bot_token: str
    bot_id: int


@dataclass
class RoundResult:
    import_rate: float  # messages/s while sending
    import_seconds: float  # start-up, guild bridging and room creation included
    replay_rate: float
    replay_events: int
    import_busy: tuple[float, float]  # cores: Synapse, this process
    replay_busy: tuple[float, float]

    @property
    def ratio(self) -> float:
        return self.import_rate / self.replay_rate


@dataclass
class Workload:
    channels: int
    messages: int  # per channel
    files_every: int = 0  # 0: text only


def seed_guild(sandbox: Sandbox, number: int, work: Workload) -> tuple[int, list[int]]:
    """A new guild with new authors (a fresh start for the bridge's caches and ghosts)."""
    store = sandbox.emulator.store
    owner = store.create_user(f"owner{number}")
    guild = store.create_guild(f"Bench {number}", owner.id, system_channel=False)
    store.add_member(guild.id, sandbox.bot_id)
    authors = [store.create_user(f"user{number}_{i}").id for i in range(5)]
    for author in authors:
        store.add_member(guild.id, author, join_message=False)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    channel_ids = []
    for index in range(work.channels):
        channel = store.create_channel(guild.id, f"channel-{index}")
        channel_ids.append(channel.id)
        store.seed_history(
            channel.id,
            [
                {
                    "author_id": authors[n % len(authors)],
                    "timestamp": base + timedelta(seconds=n),
                    "content": f"message {n} in **channel {index}**",
                    "attachments": attachment(store, n)
                    if work.files_every and n % work.files_every == 0
                    else [],
                }
                for n in range(work.messages)
            ],
        )
    return guild.id, channel_ids


def attachment(store: Store, n: int) -> list[Attachment]:
    """A distinct 64 KB file (the media cache would upload equal ones only once)."""
    data = os.urandom(64 * 1024)
    return [
        Attachment(
            store.ids.next(datetime.now(UTC)), f"file{n}.bin", data, "application/octet-stream"
        )
    ]


async def one_round(sandbox: Sandbox, number: int, work: Workload) -> RoundResult:
    """Import a new guild with a fresh bridge database, then replay what it sent."""
    guild_id, channel_ids = seed_guild(sandbox, number, work)
    synapse, emulator = sandbox.synapse, sandbox.emulator
    environ = {
        "DISCORD_BRIDGE__HOMESERVER__ADDRESS": synapse.url,
        "DISCORD_BRIDGE__APPSERVICE__DATABASE__URL": f"sqlite:{DB_DIR or sandbox.folder}/round{number}.db",
        "DISCORD_BRIDGE__DISCORD__API_URL": emulator.api_url,
        "DISCORD_BRIDGE__DISCORD__GATEWAY_URL": emulator.gateway_url,
        "DISCORD_BRIDGE__DISCORD__CDN_URL": emulator.cdn_url,
        "DISCORD_BRIDGE__DISCORD__BOT_TOKEN": sandbox.bot_token,
        "DISCORD_BRIDGE__BRIDGE__LIMITS__IMPORT_CONCURRENCY": str(work.channels),
    }
    config = load_config(sandbox.config_path, require=("tokens", "discord"), environ=environ)
    holder: list[ImportRun] = []

    async def queue() -> None:
        await holder[0].queue_channels()

    bridge = Bridge(config, before_connect=queue)
    run = ImportRun(ImportRequest(guild_id), bridge)
    holder.append(run)
    assert synapse.pid is not None
    with CpuSampler(synapse.pid) as cpu:
        started = time.monotonic()
        try:
            await bridge.start()
            await asyncio.gather(*run.done)
            assert bridge.database is not None
            portals = [await bridge.database.tables.portals.get(c) for c in channel_ids]
        finally:
            await bridge.stop()  # also after an error or Ctrl-C: database closed, port freed
        import_seconds = time.monotonic() - started
        progress = run.progress
        assert progress.sending_since is not None and progress.last_at is not None
        import_busy = cpu.busy(progress.sending_since, progress.last_at)

        as_token = YAML(typ="safe").load(sandbox.registration)["as_token"]
        # Synapse pushes the replayed events to the appservice too: something must accept them.
        sink = await transaction_sink(sandbox.port)
        try:
            timing = await replay_rooms(
                synapse.url,
                as_token,
                f"@{config['appservice.bot.username']}:{SERVER}",
                [p.room_id for p in portals if p is not None and p.room_id],
            )
        finally:
            await sink.cleanup()
        replay_busy = cpu.busy(timing.started_at, timing.finished_at)
    return RoundResult(
        progress.sending_rate(),
        import_seconds,
        timing.messages_per_second(),
        timing.events,
        import_busy,
        replay_busy,
    )


async def main(work: Workload, rounds: int) -> None:
    folder, port, config_path, registration = bench_setup("bridge-bench-")
    emulator = DiscordEmulator()
    results = []
    async with contextlib.AsyncExitStack() as stack:
        await emulator.start()
        stack.push_async_callback(emulator.stop)
        synapse = await stack.enter_async_context(
            LocalSynapse(folder / "synapse", registrations=[registration])
        )
        bot, _, token = emulator.store.create_bot("Bench Bridge")
        sandbox = Sandbox(folder, port, config_path, registration, emulator, synapse, token, bot.id)
        for number in range(1, rounds + 1):
            result = await one_round(sandbox, number, work)
            results.append(result)
            print(
                f"round {number}: import {work.channels * work.messages} messages at "
                f"{result.import_rate:.1f}/s while sending ({result.import_seconds:.1f} s in all, "
                f"start-up and room creation included); replay of the same "
                f"{result.replay_events} events without the bridge at {result.replay_rate:.1f} "
                f"messages/s; ratio {result.ratio:.2f}"
            )
            print(
                f"         cores busy: importing, Synapse {result.import_busy[0]:.2f} and bridge "
                f"with emulator {result.import_busy[1]:.2f}; replaying, Synapse "
                f"{result.replay_busy[0]:.2f}",
                flush=True,
            )
    ratios = sorted(r.ratio for r in results)
    print(
        f"ratios per round: {', '.join(f'{r:.2f}' for r in ratios)} ({work.channels} rooms in parallel)"
    )
    print(
        f"headline: import/replay = {statistics.median(ratios):.2f} (median of {rounds} rounds; "
        f"target ≥ {TARGET})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--channels", type=positive_int, default=4, help="channels, imported in parallel (4)"
    )
    parser.add_argument(
        "--messages", type=positive_int, default=100, help="past messages per channel (100)"
    )
    parser.add_argument(
        "--rounds", type=positive_int, default=5, help="rounds, each a new guild (5)"
    )
    parser.add_argument(
        "--files-every",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="every Nth message carries a 64 KB file (0: none, the default)",
    )
    add_keep(parser)
    arguments = parser.parse_args()
    work = Workload(arguments.channels, arguments.messages, arguments.files_every)
    run_bench(main(work, arguments.rounds), arguments.keep)
