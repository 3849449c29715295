"""The live relay's own ceiling: the running bridge against an instant homeserver, on one core.

Usage: .venv/bin/python bench/live_ceiling.py [--messages 5000] [--events 3000] [--channels 20]
       [--authors 50] [--only d2m|m2d] [--profile d2m|m2d] [--top 30] [--keep]

Starts the Discord emulator and the stub homeserver (``bench/stub``) in this process, pinned to
the other cores, seeds a guild of ``--channels`` text channels and ``--authors`` members, and
runs the real bridge (``python -m bridge -c CONFIG`` with ``bridge.guilds: [G]``) as a child
pinned to core 0 (``taskset -c 0``; ``harness.py``). Then, as fast as they can be made:
- Discord → Matrix: each author's first message (the bridge registers its ghost: profile,
  avatar), then each author's first message in every other channel (the ghost joins the
  room), then the steady state: ``--messages`` messages across the channels by all authors,
  posted into the emulator (``store.create_message``) and relayed through the gateway. Rate:
  from the first to the last arrival at the stub. Also how busy this process (emulator + stub)
  was, and how many dispatches its gateway still held when the posting ended: if this process
  is near one core busy, the emulator, not the bridge, bounds the figure.
- Matrix → Discord: a local Matrix user in every room (one warm-up message each: the webhooks
  are made then) sends ``--events`` messages across the rooms at once; the stub pushes them in
  transactions (100 events each, one in flight). Rate: from the first transaction's send to
  the last webhook message stored in the emulator (MESSAGE_CREATE). Discord's rate limits off.
For each: the bridge child's CPU ms per message in that window. ``--profile D`` runs direction D
once more with the whole child process under cProfile (start-up included), writes the file into
that run's bench folder (path printed) and prints the top functions. Exit status 1 if any
message was lost, 130 on Ctrl-C. The last line is the headline: both rates on one core, the
targets beside them. The bench folders are removed after a success unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import (  # bench/, beside this script
    add_keep,
    add_no_pin,
    add_top,
    pin_parent,
    positive_float,
    positive_int,
    run_bench,
    where,
)
from live_guild import LiveGuild, live_guild

TARGETS = {"d2m": 1000.0, "m2d": 500.0}  # issue 16: messages or events per second, one core
CHUNK = 100  # messages created between two yields to the event loop


@dataclass
class Phase:
    """One measured burst: ``count`` messages, from ``start`` to the last arrival ``end``
    (monotonic s); the child's and this process's CPU s in between."""

    name: str
    count: int
    start: float
    end: float
    child_cpu: float
    own_cpu: float
    note: str = ""

    @property
    def seconds(self) -> float:
        return max(self.end - self.start, 1e-9)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def describe(self, unit: str, target: float | None = None) -> str:
        beside = f" (target ≥ {target:.0f})" if target else ""
        per = self.count or 1
        return (
            f"  {self.name}: {self.count} {unit} in {self.seconds:.2f} s: "
            f"{self.rate:.0f} {unit}/s{beside}; bridge CPU {self.child_cpu * 1000 / per:.2f} "
            f"ms/{unit[:-1]} ({self.child_cpu / self.seconds:.2f} cores); emulator + stub "
            f"{self.own_cpu * 1000 / per:.2f} ms/{unit[:-1]} ({self.own_cpu / self.seconds:.2f} "
            f"cores){self.note}"
        )


class Lost(Exception):
    """Messages that did not arrive within the timeout."""


async def d2m_burst(
    live: LiveGuild, name: str, posts: list[tuple[int, int, str]], timeout: float
) -> Phase:
    """Post ``(channel, author, text)`` as fast as possible; measured until the last arrives."""
    child = live.bridge.child
    child.cpu_now()
    own = time.process_time()
    start = time.monotonic()
    for index, (channel, author, text) in enumerate(posts):
        live.post(channel, author, text)
        if index % CHUNK == CHUNK - 1:
            await asyncio.sleep(0)  # let the gateway write what is queued
    posted = time.monotonic()
    backlog = live.gateway_backlog()
    last = await live.wait_d2m([t for _, _, t in posts], timeout)
    own = time.process_time() - own
    if last is None:
        missing = len([t for _, _, t in posts if t not in live.d2m_arrived()])
        raise Lost(f"{name}: {missing} of {len(posts)} messages never reached the stub")
    child.cpu_now()
    note = (
        f"\n      posting took {posted - start:.2f} s; the gateway still held {backlog} "
        "dispatches when it ended"
    )
    return Phase(name, len(posts), start, last, child.cpu_between(start, last), own, note)


async def d2m(live: LiveGuild, messages: int, timeout: float) -> list[Phase]:
    """The three Discord → Matrix phases: new ghosts, ghosts joining rooms, steady state."""
    channels, authors = live.channels, live.authors
    first = [
        (channels[a % len(channels)], author, f"d2m-ghost-{a}") for a, author in enumerate(authors)
    ]
    joins = [
        (channel, author, f"d2m-join-{a}-{c}")
        for c, channel in enumerate(channels)
        for a, author in enumerate(authors)
        if c != a % len(channels)
    ]
    steady = [
        (
            channels[n % len(channels)],
            authors[(n * 7 + n // len(channels)) % len(authors)],
            f"d2m-{n}",
        )
        for n in range(messages)
    ]
    phases = [
        await d2m_burst(live, "first message of each author (ghost registered)", first, timeout)
    ]
    if joins:
        phases.append(
            await d2m_burst(live, "first in each other room (ghost joins)", joins, timeout)
        )
    phases.append(await d2m_burst(live, "steady state", steady, timeout))
    return phases


async def m2d(live: LiveGuild, events: int, timeout: float) -> list[Phase]:
    """Matrix → Discord: warm-up (webhooks made), then ``events`` at once."""
    child = live.bridge.child
    rooms = list(live.rooms.values())
    live.join_matrix_user()
    warm = [f"m2d-warm-{i}" for i in range(len(rooms))]
    started = time.monotonic()
    child.cpu_now()
    own = time.process_time()
    for room_id, text in zip(rooms, warm, strict=True):
        live.send_matrix(room_id, text)
    last = await live.wait_m2d(warm, timeout)
    if last is None:
        raise Lost(f"warm-up: {len([t for t in warm if t not in live.m2d_arrived])} lost")
    child.cpu_now()
    phases = [
        Phase(
            "first in each room (webhook made)",
            len(warm),
            started,
            last,
            child.cpu_between(started, last),
            time.process_time() - own,
        )
    ]
    texts = [f"m2d-{n}" for n in range(events)]
    child.cpu_now()
    own = time.process_time()
    ids = [live.send_matrix(rooms[n % len(rooms)], text) for n, text in enumerate(texts)]
    last = await live.wait_m2d(texts, timeout)
    own = time.process_time() - own
    if last is None:
        raise Lost(f"{len([t for t in texts if t not in live.m2d_arrived])} of {events} lost")
    start = live.stub.pushed_at[ids[0]]
    child.cpu_now()
    phases.append(Phase("steady state", events, start, last, child.cpu_between(start, last), own))
    return phases


def print_profile(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path), stream=sys.stdout)
    print(f"by cumulative time (top {top}):")
    stats.sort_stats("cumulative").print_stats(top)
    print("by own time:")
    stats.sort_stats("tottime").print_stats(top)


async def run(args: argparse.Namespace, direction: str, profile: bool = False) -> list[Phase]:
    """One direction against a new live guild (its own bench folder); with ``profile``, the
    child under cProfile into ``DIRECTION.prof`` there, its top functions printed."""
    async with live_guild(
        args.channels,
        args.authors,
        name=f"{direction}-{'profile' if profile else 'run'}",
        profile=f"{direction}.prof" if profile else None,
        pin=args.pin,
        overrides=dict(o.split("=", 1) for o in args.set),
        prefix="bridge-live-ceiling-",
    ) as live:
        print(f"  (bridge ready in {live.bridge.ready_seconds:.1f} s)", flush=True)
        if direction == "d2m":
            phases = await d2m(live, args.messages, args.timeout)
        else:
            phases = await m2d(live, args.events, args.timeout)
    if profile:  # the child has stopped: cProfile wrote its file
        output = live.folder / f"{direction}.prof"
        unit = "messages" if direction == "d2m" else "events"
        print(phases[-1].describe(unit))
        print(f"  profile written to {output}")
        print_profile(output, args.top)
    return phases


async def main(args: argparse.Namespace) -> int:
    pinned = pin_parent(args.pin)
    print(
        f"Live relay ceiling against the instant stub homeserver: {where(pinned)}; "
        "Discord's rate limits off"
    )
    heads: dict[str, float] = {}
    try:
        for direction in [args.only] if args.only else ["d2m", "m2d"]:
            unit = "messages" if direction == "d2m" else "events"
            title = "Discord → Matrix" if direction == "d2m" else "Matrix → Discord"
            print(f"{title} ({args.channels} channels, {args.authors} authors):", flush=True)
            phases = await run(args, direction, None)
            for phase in phases:
                target = TARGETS[direction] if phase.name == "steady state" else None
                print(phase.describe(unit, target), flush=True)
            heads[direction] = phases[-1].rate
        if args.profile:
            print(f"cProfile of {args.profile} (the whole bridge process, start-up included):")
            await run(args, args.profile, profile=True)
    except Lost as error:
        print(f"LOST: {error}")
        return 1
    core = "one core" if pinned else "not pinned"
    parts = [
        f"Discord → Matrix {heads['d2m']:.0f} messages/s (target ≥ 1000)" if "d2m" in heads else "",
        f"Matrix → Discord {heads['m2d']:.0f} events/s (target ≥ 500)" if "m2d" in heads else "",
    ]
    print(f"live ceiling ({core}): {', '.join(p for p in parts if p)}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages",
        type=positive_int,
        default=5000,
        help="Discord → Matrix steady-state messages, in all, across the channels (5000)",
    )
    parser.add_argument(
        "--events",
        type=positive_int,
        default=3000,
        help="Matrix → Discord events, in all, across the rooms (3000)",
    )
    parser.add_argument("--channels", type=positive_int, default=20, help="text channels (20)")
    parser.add_argument(
        "--authors", type=positive_int, default=50, help="Discord members who post (50)"
    )
    parser.add_argument("--only", choices=("d2m", "m2d"), help="just this direction")
    parser.add_argument(
        "--profile",
        choices=("d2m", "m2d"),
        help="run this direction once more with the whole bridge child process under cProfile "
        "(start-up included); the .prof file goes into that run's bench folder (path printed)",
    )
    add_top(parser)
    parser.add_argument(
        "--timeout", type=positive_float, default=120, help="seconds per burst (120)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a bridge setting, e.g. APPSERVICE__DATABASE__MAX_SIZE=1 (DISCORD_BRIDGE__ implied)",
    )
    add_no_pin(parser)
    add_keep(parser)
    arguments = parser.parse_args()
    if any("=" not in o for o in arguments.set):
        parser.error("--set takes KEY=VALUE")
    run_bench(main(arguments), arguments.keep or bool(arguments.profile))
