"""Scale: a 50 000-member guild against an instant homeserver, on one core (not a test).

Usage: .venv/bin/python bench/scale.py [--members 50000] [--channels 500] [--categories 50]
       [--roles 250] [--emoji 200] [--messages 10000] [--authors 2000] [--profile] [--keep]

Seeds the Discord emulator (in this process, on the other cores) with one guild: members in
bulk (``store.seed_members``, no events), each holding three ordinary roles and every
1 000th also a powerful one (Administrator, Manage Messages, Manage Channels); text channels
in equal categories, every 10th with role overwrites, every 50th private to a role; custom
emoji. The bridge runs as ``python -m bridge -c CONFIG`` with ``bridge.guilds: [G]``, a fresh
SQLite database and the metrics listener on, pinned to core 0 (``taskset -c 0``), against the
in-memory stub homeserver (``bench/stub``).

Measured:
- first sync: seconds from the child's start until it is *in sync*: ``/ready`` answers 200
  (the bridge has started, which includes syncing the configured guild) and the stub holds
  the expected state of every room (``scale_guild.out_of_sync``: the space, each category
  sub-space and channel room with name, topic, power levels, bridge info, parent and child
  links, and the image pack with every emoji); the homeserver requests it made, by endpoint;
- VmRSS of the child after the sync, and after the traffic: ``--messages`` messages from
  ``--authors`` distinct members posted through the emulator, as fast as the bridge takes
  them (at most ``--window`` not yet at the stub), until every one has arrived;
- a restart with nothing changed (SIGINT, then the same database and stub after
  ``reset_counts()``): seconds until in sync, state events sent (target 0), requests.

``--profile`` runs the first child under cProfile (``-m cProfile -o``) and prints the top
functions (the file stays in the bench folder, path printed; the folder is then kept). Exit
status 1 if a sync never completes or a message is lost, 130 on Ctrl-C. The last line is the
headline: time to sync and RSS for the member count. The bench folder is removed after a
success unless ``--keep`` (or ``--profile``).
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import sys
import time
from pathlib import Path

from harness import (  # bench/, beside this script
    RunningBridge,
    add_keep,
    add_no_pin,
    add_top,
    bench_setup,
    non_negative_float,
    non_negative_int,
    pin_parent,
    positive_float,
    positive_int,
    run_bench,
    start_bridge,
    where,
)
from scale_guild import ScaleGuild, Sizes, out_of_sync, post_message, seed_guild
from stub_homeserver import StubHomeserver

from bridge.sandbox.discord.ratelimit import RateLimitConfig
from bridge.sandbox.discord.server import DiscordEmulator

SYNC_TARGET_S = 60.0
RSS_TARGET_MB = 300.0


class Lost(Exception):
    """The bridge never got in sync, or messages never arrived: the bench fails."""


def rss_mb(pid: int) -> float:
    """VmRSS of process ``pid`` in MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def run_until_in_sync(
    name: str,
    setup: tuple[Path, int, Path],
    stub: StubHomeserver,
    emulator: DiscordEmulator,
    token: str,
    seeded: ScaleGuild,
    args: argparse.Namespace,
    profile: Path | None = None,
) -> tuple[RunningBridge, float, float]:
    """Start the bridge (database ``folder/scale.db``, log ``folder/NAME.log``) and wait until
    it is ready and in sync: (the bridge, s to ready, s to in sync) from its launch."""
    folder, port, config = setup
    bridge = await start_bridge(
        folder, config, port, stub.url, emulator, token, seeded.guild_id, "scale",
        profile=profile, pin=args.pin, timeout=args.timeout,
    )  # fmt: skip
    (folder / "scale.log").rename(folder / f"{name}.log")
    child = bridge.child
    deadline = child.started + args.timeout
    problems = out_of_sync(stub, bridge.database, emulator, seeded)
    while problems:
        if child.process.returncode is not None or time.monotonic() > deadline:
            await bridge.stop()
            raise Lost(f"{name}: not in sync: {problems[:5]} ({len(problems)} problems)")
        await asyncio.sleep(0.1)
        problems = out_of_sync(stub, bridge.database, emulator, seeded)
    return bridge, bridge.ready_seconds, time.monotonic() - child.started


async def traffic(
    stub: StubHomeserver, emulator: DiscordEmulator, seeded: ScaleGuild, args: argparse.Namespace
) -> float:
    """Post the messages, at most ``args.window`` ahead of the stub; seconds until all arrived."""
    before = stub.stats_data.message_events
    started = time.monotonic()
    deadline = started + args.timeout
    for n in range(args.messages):
        while n - (stub.stats_data.message_events - before) >= args.window:
            if time.monotonic() > deadline:
                raise Lost(f"only {stub.stats_data.message_events - before} of {n} arrived")
            await asyncio.sleep(0.002)
        post_message(emulator, seeded, n, args.authors)
        if n % 50 == 0:
            await asyncio.sleep(0)  # let the gateway send
    while stub.stats_data.message_events - before < args.messages:
        if time.monotonic() > deadline:
            arrived = stub.stats_data.message_events - before
            raise Lost(f"{args.messages - arrived} of {args.messages} messages never arrived")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def requests_text(stats: dict, top: int = 12) -> str:
    return ", ".join(f"{name} {n}" for name, n in list(stats["requests"].items())[:top])


async def main(args: argparse.Namespace) -> int:
    pinned = pin_parent(args.pin)  # the emulator and the stub keep off the bridge's core
    folder, port, config, _ = bench_setup("bridge-scale-")
    registration = folder / "registration.yaml"
    emulator = DiscordEmulator(rate_limits=RateLimitConfig(enabled=False))
    profile = folder / "first-sync.prof" if args.profile else None
    setup = (folder, port, config)
    status = 0
    try:
        await emulator.start()
        bot, _, token = emulator.store.create_bot("Scale Bridge")
        sizes = Sizes(args.members, args.channels, args.categories, args.roles, args.emoji)
        seeding = time.monotonic()
        seeded = seed_guild(emulator, bot.id, sizes)
        print(
            f"Scale: {sizes.members} members, {sizes.channels} channels in {sizes.categories} "
            f"categories, {sizes.roles} roles, {sizes.emoji} emoji (seeded in "
            f"{time.monotonic() - seeding:.1f} s); {where(pinned)}",
            flush=True,
        )
        async with StubHomeserver(registration) as stub:
            first, ready_s, sync_s = await run_until_in_sync(
                "first", setup, stub, emulator, token, seeded, args, profile
            )
            try:
                pid = first.child.pid
                sync_cpu = first.child.cpu_now()
                rss_sync = rss_mb(pid)
                stats = stub.stats()
                extra = " (under cProfile)" if profile else ""
                print(
                    f"first sync{extra}: in sync {sync_s:.1f} s after start (target ≤ "
                    f"{SYNC_TARGET_S:.0f} s; ready {ready_s:.1f} s), CPU {sync_cpu:.1f} s; "
                    f"VmRSS {rss_sync:.0f} MB (target ≤ {RSS_TARGET_MB:.0f} MB)",
                    flush=True,
                )
                print(
                    f"    homeserver: {stats['requests_total']} requests, {stats['rooms']} "
                    f"rooms, {stats['state_events']} state events, {stats['users']} users, "
                    f"{stats['media']} uploads",
                    flush=True,
                )
                print(f"    requests: {requests_text(stats)}", flush=True)
                if stats["not_found"]:
                    print(f"    unknown to the stub: {stats['not_found']}")
                cpu_before = first.child.cpu_now()
                seconds = await traffic(stub, emulator, seeded, args)
                per = max(args.messages, 1)
                cpu_ms = (first.child.cpu_now() - cpu_before) * 1000 / per
                rss_traffic = rss_mb(pid)
                print(
                    f"traffic: {args.messages} messages from {args.authors} authors in "
                    f"{seconds:.1f} s ({args.messages / seconds:.0f}/s), CPU {cpu_ms:.2f} "
                    f"ms/message; VmRSS {rss_traffic:.0f} MB (target ≤ {RSS_TARGET_MB:.0f} MB)",
                    flush=True,
                )
            finally:
                await first.stop()
            stub.reset_counts()
            second, ready_s, restart_s = await run_until_in_sync(
                "restart", setup, stub, emulator, token, seeded, args
            )
            try:
                await asyncio.sleep(args.settle)  # anything sent late counts too
                stats = stub.stats()
                print(
                    f"restart, nothing changed: in sync {restart_s:.1f} s after start (ready "
                    f"{ready_s:.1f} s), CPU {second.child.cpu_now():.1f} s; "
                    f"{stats['state_events']} state events (target 0), "
                    f"{stats['requests_total']} requests; VmRSS {rss_mb(second.child.pid):.0f} MB",
                    flush=True,
                )
                print(f"    requests: {requests_text(stats)}", flush=True)
            finally:
                await second.stop()
    except (Lost, TimeoutError, RuntimeError) as error:
        print(f"FAILED: {error}", flush=True)
        status = 1
    finally:
        await emulator.stop()
    if profile is not None and profile.exists():
        print(
            f"cProfile of the first run, in {profile} (top {args.top} by cumulative, then own "
            "time):"
        )
        report = pstats.Stats(str(profile), stream=sys.stdout)
        report.sort_stats("cumulative").print_stats(args.top)
        report.sort_stats("tottime").print_stats(args.top)
    if status == 0:
        print(
            f"scale: {sizes.members} members in sync in {sync_s:.1f} s, "
            f"VmRSS {rss_sync:.0f} MB after sync, {rss_traffic:.0f} MB after traffic"
        )
    return status


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--members", type=positive_int, default=50_000, help="guild members (50000)"
    )
    parser.add_argument(
        "--channels", type=positive_int, default=500, help="text channels, in all (500)"
    )
    parser.add_argument(
        "--categories",
        type=non_negative_int,
        default=50,
        help="categories the channels are split into (50)",
    )
    parser.add_argument("--roles", type=non_negative_int, default=250, help="guild roles (250)")
    parser.add_argument("--emoji", type=non_negative_int, default=200, help="custom emoji (200)")
    parser.add_argument(
        "--messages",
        type=positive_int,
        default=10_000,
        help="traffic: messages in all, across the channels (10000)",
    )
    parser.add_argument(
        "--authors", type=positive_int, default=2_000, help="traffic: distinct authors (2000)"
    )
    parser.add_argument(
        "--window",
        type=positive_int,
        default=200,
        help="traffic: messages posted but not yet at the stub, at most (200)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=600, help="seconds per phase (600)"
    )
    parser.add_argument(
        "--settle",
        type=non_negative_float,
        default=1.0,
        help="seconds to wait after the restart's sync before counting (1)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="the first run's whole child process under cProfile (start-up included)",
    )
    add_top(parser)
    add_no_pin(parser)
    add_keep(parser)
    arguments = parser.parse_args()
    if arguments.authors > arguments.members:
        parser.error("--authors must be at most --members")
    run_bench(main(arguments), arguments.keep or arguments.profile)
