"""The import's own ceiling: the bridge against an instant homeserver, on one core (not a test).

Usage: .venv/bin/python bench/import_ceiling.py [--messages 3000] [--channels 4]
       [--only text|replies|files] [--profile text|replies|files] [--keep]

Starts the Discord emulator and ``stub_homeserver.py`` (both in this process, pinned to the
other cores when there are any), seeds a new guild for each history, then runs the real
command ``python -m bridge -c CONFIG import --guild G`` as a child pinned to core 0
(``taskset -c 0``) with a fresh database. Three histories of ``--messages`` messages across
``--channels`` channels (imported in parallel) by five authors:
- text: plain formatted text;
- replies: every third message replies to the one before, every fifth has two reactions;
- files: every tenth carries a distinct 64 KB file (downloaded from the emulator, uploaded).
For each: messages/s while sending (from the stub's first message event to its last), the
child's CPU ms per message in that window and over the whole run (start-up, guild sync and
room creation included), and what the stub received. ``--profile H`` runs history H once
more under cProfile and prints the top functions by cumulative time.
The emulator's Discord rate limits are off (``--discord-limits`` keeps them): the importer
asks for each reaction's users (one request per emoji and message), so under Discord's global
limit of 50 requests/s a history with many reactions is bound by Discord, not by the bridge.
The last line is the headline: the text import's rate on one core. Ctrl-C stops everything
(status 130); the bench folder is removed after a success unless ``--keep``.
"""

from __future__ import annotations

import argparse
import cProfile  # noqa: F401  (the child runs it: -m cProfile)
import pstats
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import (  # bench/, beside this script
    Child,
    add_keep,
    add_no_pin,
    add_top,
    at,
    bench_setup,
    bridge_command,
    bridge_environ,
    pin_parent,
    positive_float,
    positive_int,
    run_bench,
    where,
)
from import_throughput import attachment  # bench/, beside this script
from stub_homeserver import StubHomeserver

from bridge.sandbox.discord.ratelimit import RateLimitConfig
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store.models import MessageType, Reaction

# Issue 16's targets (messages/s); it names none for replies and reactions.
TARGETS = {"text": "target ≥ 1000", "replies": "no target of its own", "files": "target ≥ 300"}
HISTORIES = ("text", "replies", "files")


@dataclass
class Result:
    history: str
    messages: int
    wall: float  # the whole command
    cpu: float  # the child's CPU seconds over the whole command
    window: float  # first to last message event at the homeserver
    window_cpu: float
    stats: dict
    status: int

    @property
    def rate(self) -> float:
        return self.messages / self.window if self.window > 0 else 0.0


def seed(
    emulator: DiscordEmulator, bot_id: int, number: int, history: str, args: argparse.Namespace
) -> int:
    """A new guild holding ``args.messages`` messages of the given kind; its id."""
    store = emulator.store
    owner = store.create_user(f"owner{number}")
    guild = store.create_guild(f"Ceiling {number}", owner.id, system_channel=False)
    store.add_member(guild.id, bot_id)
    authors = [store.create_user(f"author{number}_{i}").id for i in range(5)]
    for author in authors:
        store.add_member(guild.id, author, join_message=False)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    per_channel = args.messages // args.channels
    for index in range(args.channels):
        channel = store.create_channel(guild.id, f"channel-{index}")
        entries = [
            {
                "author_id": authors[n % len(authors)],
                "timestamp": base + timedelta(seconds=n),
                "content": f"message {n} in **channel {index}**, with some `code` and a link "
                "https://example.com/page",
                "attachments": attachment(store, n) if history == "files" and n % 10 == 0 else [],
            }
            for n in range(per_channel)
        ]
        ids = store.seed_history(channel.id, entries)
        if history == "replies":
            for n, message_id in enumerate(ids):
                message = store.messages[message_id]
                if n % 3 == 1:
                    message.type = MessageType.REPLY
                    message.message_reference = {
                        "type": 0,
                        "channel_id": str(channel.id),
                        "message_id": str(ids[n - 1]),
                        "guild_id": str(guild.id),
                    }
                if n % 5 == 0:
                    users = [authors[(n + 1) % 5], authors[(n + 2) % 5]]
                    message.reactions.append(Reaction(None, "👍", user_ids=users))
    return guild.id


async def run_import(
    folder: Path,
    config: Path,
    registration: Path,
    emulator: DiscordEmulator,
    token: str,
    guild_id: int,
    name: str,
    args: argparse.Namespace,
    profile: Path | None = None,
) -> tuple[float, float, float, float, dict, int]:
    """The import command as a child against a fresh stub: (wall s, CPU s, window s,
    window CPU s, stub stats, exit status)."""
    async with StubHomeserver(registration) as stub:
        environ = bridge_environ(
            stub.url,
            folder / f"{name}.db",
            emulator,
            token,
            {"BRIDGE__LIMITS__IMPORT_CONCURRENCY": str(args.channels)},
        )
        command = bridge_command(config, ["import", "--guild", str(guild_id)], profile, args.pin)
        child = await Child.launch(command, environ, folder / f"{name}.log")
        try:
            status = await child.wait(args.timeout)
        finally:  # an error or Ctrl-C: the child goes too
            await child.stop(timeout=10)
        wall = time.monotonic() - child.started
        stats = stub.stats()
        first, last = stub.stats_data.first_message_at, stub.stats_data.last_message_at
    samples = child.samples
    total_cpu = samples[-1][1]
    window = window_cpu = 0.0
    if first is not None and last is not None and last > first:
        window = last - first
        window_cpu = at(samples, last) - at(samples, first)
    return wall, total_cpu, window, window_cpu, stats, status


def describe(result: Result, args: argparse.Namespace) -> str:
    stats = result.stats
    per = result.messages or 1
    requests = stats["requests_total"]
    top = ", ".join(f"{name} {n}" for name, n in list(stats["requests"].items())[:6])
    lines = [
        f"{result.history}: {result.messages} messages in {args.channels} channels: "
        f"{result.rate:.0f} messages/s while sending ({TARGETS[result.history]}), "
        f"CPU {result.window_cpu * 1000 / per:.2f} ms/message, "
        f"{result.window_cpu / result.window if result.window else 0:.2f} cores busy",
        f"    whole command {result.wall:.1f} s, CPU {result.cpu:.1f} s "
        f"({result.cpu * 1000 / per:.2f} ms/message, start-up and room creation included); "
        f"exit status {result.status}",
        f"    stub: {requests} requests ({requests / per:.2f} per message), "
        f"{stats['events']} events ({stats['state_events']} state), "
        f"{stats['message_events']} message events, {stats['pushed_events']} pushed in "
        f"{stats['transactions']} transactions, {stats['media']} uploads",
        f"    requests: {top}",
    ]
    if stats["not_found"]:
        lines.append(f"    unknown to the stub: {stats['not_found']}")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> int:
    pinned = pin_parent(args.pin)  # the emulator and the stub keep off the bridge's core
    placement = where(pinned)
    limits = "on" if args.discord_limits else "off (the bridge's own ceiling)"
    placement += f"; Discord's rate limits {limits}"
    print(f"Import ceiling against the instant stub homeserver: {placement}", flush=True)
    folder, _, config, registration = bench_setup("bridge-ceiling-")
    emulator = DiscordEmulator(rate_limits=RateLimitConfig(enabled=args.discord_limits))
    results: list[Result] = []
    histories = [args.only] if args.only else list(HISTORIES)
    try:
        await emulator.start()
        bot, _, token = emulator.store.create_bot("Ceiling Bridge")
        for number, history in enumerate(histories, 1):
            guild_id = seed(emulator, bot.id, number, history, args)
            total = args.messages // args.channels * args.channels
            wall, cpu, window, window_cpu, stats, status = await run_import(
                folder, config, registration, emulator, token, guild_id, history, args
            )
            result = Result(history, total, wall, cpu, window, window_cpu, stats, status)
            results.append(result)
            print(describe(result, args), flush=True)
        if args.profile:
            guild_id = seed(emulator, bot.id, len(histories) + 1, args.profile, args)
            output = folder / f"{args.profile}.prof"
            await run_import(
                folder,
                config,
                registration,
                emulator,
                token,
                guild_id,
                f"profile-{args.profile}",
                args,
                profile=output,
            )
            print(
                f"cProfile of the {args.profile} import, the whole child process (start-up "
                f"included), in {output} (top {args.top} by cumulative time):"
            )
            stats = pstats.Stats(str(output), stream=sys.stdout)
            stats.sort_stats("cumulative").print_stats(args.top)
            print("by own time:")
            stats.sort_stats("tottime").print_stats(args.top)
    finally:
        await emulator.stop()
    failed = [r.history for r in results if r.status != 0]
    if failed:
        print(f"FAILED: the import of {', '.join(failed)} ended with an error (see its log)")
        return 1
    head = next((r for r in results if r.history == "text"), results[0])
    core = "one core" if pinned else "not pinned"
    beside = TARGETS[head.history]
    print(f"import ceiling: {head.rate:.0f} messages/s ({head.history}, {core}; {beside})")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages",
        type=positive_int,
        default=3000,
        help="messages per history, in all (split evenly across the channels; 3000)",
    )
    parser.add_argument(
        "--channels", type=positive_int, default=4, help="channels, imported in parallel (4)"
    )
    parser.add_argument("--only", choices=HISTORIES, help="just this history")
    parser.add_argument(
        "--profile",
        choices=HISTORIES,
        help="import this history once more with the whole child process under cProfile "
        "(start-up included); the file is written into the bench folder",
    )
    add_top(parser)
    parser.add_argument(
        "--timeout", type=positive_float, default=300, help="seconds per import (300)"
    )
    parser.add_argument(
        "--discord-limits",
        action="store_true",
        help="keep the emulator's Discord rate limits (50 requests/s): reactions then bound it",
    )
    add_no_pin(parser)
    add_keep(parser)
    arguments = parser.parse_args()
    if arguments.messages < arguments.channels:
        parser.error("--messages must be at least --channels (messages per history, in all)")
    run_bench(main(arguments), arguments.keep or bool(arguments.profile))
