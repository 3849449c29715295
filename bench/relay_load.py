"""Live relay under load: the time the bridge adds each way, against an instant homeserver.

Usage: .venv/bin/python bench/relay_load.py [--seconds 30] [--rate 20] [--channels 20]
       [--authors 20] [--baseline 200] [--keep]

Starts the Discord emulator and the stub homeserver (``bench/stub``) in this process, pinned to
the other cores, and the real bridge as a child pinned to core 0 (``harness.py``), bridging a
guild of ``--channels`` channels. After a warm-up (every author's ghost in every room, the
webhooks made), for ``--seconds`` at once, at a steady pace:
- Discord → Matrix: ``--rate`` messages/s by the authors across the channels, each from the
  emulator's store creating it to the stub storing its ``m.room.message``;
- Matrix → Discord: ``--rate`` events/s by a local Matrix user across the rooms, each from
  the stub sending the transaction that carries it to the emulator storing the webhook
  message (MESSAGE_CREATE).
Then, with the bridge stopped, the baseline of each way, the same paths without the bridge's
work (``--baseline`` of each, at the same pace): Discord → Matrix, a trivial discord.py client
(``gateway_probe.py``, pinned to core 0 like the bridge) receiving the MESSAGE_CREATE plus a
bare appservice send from this process to the stub (send → stored); Matrix → Discord, a bare
transaction PUT from this process to a do-nothing appservice (send → received) plus a bare
webhook execute to the emulator (send → stored). Added = total − baseline, for p50 and p99
each (a baseline's p50/p99 is the sum of its two legs'). At the default rate the four baseline
legs (``--baseline`` samples each, paced at ``--rate``: 4 × 200 / 20 = 40 s) take longer than the
load itself. Exit status 1 if a message was lost, 130 on Ctrl-C. The last line is the
headline: the added p50/p99 each way, the targets beside them. The bench folder is removed
after a success unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import ClientSession, web
from harness import (  # bench/, beside this script
    add_keep,
    add_no_pin,
    pin_parent,
    pinned_to_core_0,
    positive_float,
    positive_int,
    run_bench,
    where,
)
from live_guild import LiveGuild, live_guild

TARGETS = {"p50": 5.0, "p99": 25.0}  # ms, issue 16, each way
HERE = Path(__file__).resolve().parent


class Lost(Exception):
    """Messages that never arrived, or a baseline that could not start: the bench fails."""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def spread(millis: list[float]) -> tuple[float, float]:
    return percentile(millis, 0.5), percentile(millis, 0.99)


def show(millis: list[float]) -> str:
    p50, p99 = spread(millis)
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(millis)})"


async def paced(count: int, rate: float, action: Callable[[int], object]) -> None:
    """Call ``action(n)`` for n < ``count`` at ``rate``/s on a fixed schedule (no drift);
    awaitables it returns run as tasks, awaited at the end."""
    start = time.monotonic()
    tasks = []
    for number in range(count):
        delay = start + number / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        result = action(number)
        if isinstance(result, Awaitable):
            tasks.append(asyncio.ensure_future(result))
    await asyncio.gather(*tasks)


async def warm_up(live: LiveGuild, timeout: float) -> None:
    """Every author's ghost in every room, the local Matrix user in every room, the webhooks."""
    texts = []
    for c, channel in enumerate(live.channels):
        for a, author in enumerate(live.authors):
            texts.append(f"warm-{c}-{a}")
            live.post(channel, author, texts[-1])
        await asyncio.sleep(0)
    live.join_matrix_user()
    warm = [f"m2d-warm-{n}" for n in range(len(live.rooms))]
    for room_id, text in zip(live.rooms.values(), warm, strict=True):
        live.send_matrix(room_id, text)
    if await live.wait_d2m(texts, timeout) is None or await live.wait_m2d(warm, timeout) is None:
        raise Lost("warm-up: messages lost")


async def load(live: LiveGuild, args: argparse.Namespace) -> tuple[list[float], list[float], str]:
    """Both ways at once for ``args.seconds``; (D2M ms, M2D ms, lost-or-empty)."""
    count = int(args.seconds * args.rate)
    channels, authors, rooms = live.channels, live.authors, list(live.rooms.values())
    d2m_texts = [f"d2m-{n}" for n in range(count)]
    m2d_texts = [f"m2d-{n}" for n in range(count)]
    event_ids: dict[str, str] = {}

    def post(n: int) -> None:
        live.post(
            channels[n % len(channels)], authors[(n // len(channels)) % len(authors)], d2m_texts[n]
        )

    def send(n: int) -> None:
        event_ids[m2d_texts[n]] = live.send_matrix(rooms[n % len(rooms)], m2d_texts[n])

    child = live.bridge.child
    child.cpu_now()
    start = time.monotonic()
    await asyncio.gather(paced(count, args.rate, post), paced(count, args.rate, send))
    ended = time.monotonic()
    lost = ""
    if await live.wait_d2m(d2m_texts, args.timeout) is None:
        lost += f" Discord → Matrix: {sum(t not in live.d2m_arrived() for t in d2m_texts)} lost."
    if await live.wait_m2d(m2d_texts, args.timeout) is None:
        lost += f" Matrix → Discord: {sum(t not in live.m2d_arrived for t in m2d_texts)} lost."
    child.cpu_now()
    cpu = child.cpu_between(start, ended)
    print(
        f"  bridge CPU under load: {cpu * 1000 / (2 * count):.2f} ms per message or event, "
        f"{cpu / (ended - start):.2f} cores busy"
    )
    arrived = live.d2m_arrived()
    d2m = [(arrived[t] - live.posted[t]) * 1000 for t in d2m_texts if t in arrived]
    pushed = live.stub.pushed_at
    m2d = [
        (live.m2d_arrived[t] - pushed[event_ids[t]]) * 1000
        for t in m2d_texts
        if t in live.m2d_arrived and event_ids[t] in pushed
    ]
    return d2m, m2d, lost.strip()


async def gateway_baseline(live: LiveGuild, count: int, rate: float, pin: bool) -> list[float]:
    """Create → a bare discord.py client's on_message (pinned like the bridge), ms."""
    environ = {
        **os.environ,
        "PROBE_API_URL": live.emulator.api_url,
        "PROBE_GATEWAY_URL": live.emulator.gateway_url,
        "PROBE_CDN_URL": live.emulator.cdn_url,
        "PROBE_TOKEN": live.token,
    }
    command = [
        *pinned_to_core_0(pin),
        sys.executable,
        str(HERE / "gateway_probe.py"),
        "--max-seconds",
        "300",
    ]
    probe = await asyncio.create_subprocess_exec(
        *command, env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert probe.stdout is not None
    received: dict[str, float] = {}
    try:
        line = await asyncio.wait_for(probe.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise Lost(f"gateway probe: {line!r}")

        async def read() -> None:
            assert probe.stdout is not None
            async for raw in probe.stdout:
                when, _, content = raw.decode().rstrip("\n").partition(" ")
                received[content] = float(when)

        reader = asyncio.ensure_future(read())
        texts = [f"probe-{n}" for n in range(count)]
        channels, author = live.channels, live.authors[0]
        await paced(count, rate, lambda n: live.post(channels[n % len(channels)], author, texts[n]))
        deadline = time.monotonic() + 30
        while not all(t in received for t in texts) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        reader.cancel()
    finally:
        with contextlib.suppress(ProcessLookupError):
            probe.terminate()
        await probe.wait()
    return [(received[t] - live.posted[t]) * 1000 for t in texts if t in received]


async def timed_requests(
    count: int, rate: float, request: Callable[[int], Awaitable[float]]
) -> list[float]:
    """``request(n)`` at ``rate``/s, each returning when its effect landed (monotonic s); ms."""
    millis: list[float] = []

    async def one(n: int) -> None:
        started = time.monotonic()
        landed = await request(n)
        millis.append((landed - started) * 1000)

    await paced(count, rate, one)
    return millis


async def send_baseline(
    live: LiveGuild, session: ClientSession, count: int, rate: float
) -> list[float]:
    """A bare appservice send (the bot) from here to the stub: send → stored, ms."""
    stub, rooms = live.stub, list(live.rooms.values())
    headers = {"Authorization": f"Bearer {stub.as_token}"}

    async def send(n: int) -> float:
        url = f"{stub.url}/_matrix/client/v3/rooms/{rooms[n % len(rooms)]}/send/m.room.message/base{n}"
        async with session.put(
            url, json={"msgtype": "m.text", "body": f"base-{n}"}, headers=headers
        ) as answer:
            event_id = (await answer.json())["event_id"]
        return stub.stored_at[event_id]

    return await timed_requests(count, rate, send)


async def push_baseline(session: ClientSession, count: int, rate: float) -> list[float]:
    """A bare transaction PUT (one event) from here to a do-nothing appservice: send →
    received, ms."""
    received: dict[str, float] = {}

    async def accept(request: web.Request) -> web.Response:
        received[request.match_info["txn"]] = time.monotonic()
        await request.read()
        return web.json_response({})

    app = web.Application()
    app.router.add_put("/_matrix/app/v1/transactions/{txn}", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    event = {
        "type": "m.room.message",
        "sender": "@bench:sandbox.local",
        "room_id": "!r:sandbox.local",
        "event_id": "$e",
        "origin_server_ts": 0,
        "content": {"msgtype": "m.text", "body": "x"},
    }

    async def push(n: int) -> float:
        url = f"http://127.0.0.1:{port}/_matrix/app/v1/transactions/t{n}"
        async with session.put(url, json={"events": [event]}) as answer:
            await answer.read()
        return received[f"t{n}"]

    try:
        return await timed_requests(count, rate, push)
    finally:
        await runner.cleanup()


async def webhook_baseline(
    live: LiveGuild, session: ClientSession, count: int, rate: float
) -> list[float]:
    """A bare webhook execute (the bridge's webhooks) from here to the emulator: send →
    stored (MESSAGE_CREATE), ms."""
    with contextlib.closing(
        sqlite3.connect(f"file:{live.bridge.database}?mode=ro", uri=True)
    ) as db:
        hooks = db.execute(
            "SELECT webhook_id, webhook_token FROM portal WHERE webhook_id IS NOT NULL"
        ).fetchall()

    async def execute(n: int) -> float:
        hook_id, token = hooks[n % len(hooks)]
        url = f"{live.emulator.api_url}/webhooks/{hook_id}/{token}?wait=true"
        text = f"hook-{n}"
        async with session.post(url, json={"content": text, "username": "bench"}) as answer:
            await answer.read()
        return live.m2d_arrived[text]

    return await timed_requests(count, rate, execute)


def verdict(name: str, total: list[float], baseline: tuple[float, float]) -> tuple[float, float]:
    p50, p99 = spread(total)
    added = (p50 - baseline[0], p99 - baseline[1])
    print(
        f"  {name}: total {show(total)}; baseline p50 {baseline[0]:.1f} ms, p99 "
        f"{baseline[1]:.1f} ms; added p50 {added[0]:.1f} ms (target ≤ {TARGETS['p50']:.0f}), "
        f"p99 {added[1]:.1f} ms (target ≤ {TARGETS['p99']:.0f})"
    )
    return added


async def main(args: argparse.Namespace) -> int:
    pinned = pin_parent(args.pin)
    print(f"Relay under load against the instant stub homeserver: {where(pinned)}")
    try:
        return await measure(args)
    except Lost as error:
        print(f"LOST: {error}")
        return 1


async def measure(args: argparse.Namespace) -> int:
    """The load, then the baselines, then the verdicts; see the module's docstring."""
    async with live_guild(
        args.channels, args.authors, pin=args.pin, prefix="bridge-relay-load-"
    ) as live:
        print(f"  bridge ready in {live.bridge.ready_seconds:.1f} s", flush=True)
        await warm_up(live, args.timeout)
        print(
            f"  load: {args.rate:g} messages/s Discord → Matrix across {args.channels} channels "
            f"and {args.rate:g} events/s Matrix → Discord across {args.channels} rooms, at once, "
            f"for {args.seconds:g} s",
            flush=True,
        )
        d2m, m2d, lost = await load(live, args)
        await live.bridge.stop()
        async with ClientSession() as session:
            gateway = await gateway_baseline(live, args.baseline, args.rate, args.pin)
            send = await send_baseline(live, session, args.baseline, args.rate)
            push = await push_baseline(session, args.baseline, args.rate)
            hook = await webhook_baseline(live, session, args.baseline, args.rate)
    print(
        f"  baseline legs: gateway → discord.py {show(gateway)}; appservice send {show(send)}; "
        f"transaction push {show(push)}; webhook execute {show(hook)}"
    )
    base_d2m = tuple(a + b for a, b in zip(spread(gateway), spread(send), strict=True))
    base_m2d = tuple(a + b for a, b in zip(spread(push), spread(hook), strict=True))
    d2m_added = verdict("Discord → Matrix", d2m, base_d2m)  # type: ignore[arg-type]
    m2d_added = verdict("Matrix → Discord", m2d, base_m2d)  # type: ignore[arg-type]
    if lost:
        print(f"LOST: {lost}")
        return 1
    print(
        f"relay under load ({args.rate:g}/s each way): added Discord → Matrix p50 "
        f"{d2m_added[0]:.1f} ms / p99 {d2m_added[1]:.1f} ms, Matrix → Discord p50 "
        f"{m2d_added[0]:.1f} ms / p99 {m2d_added[1]:.1f} ms (targets ≤ 5 / ≤ 25 ms)"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=positive_float, default=30, help="of load (30)")
    parser.add_argument(
        "--rate",
        type=positive_float,
        default=20,
        help="messages per second each way, in all, across the channels (20)",
    )
    parser.add_argument("--channels", type=positive_int, default=20, help="text channels (20)")
    parser.add_argument(
        "--authors", type=positive_int, default=20, help="Discord members who post (20)"
    )
    parser.add_argument(
        "--baseline",
        type=positive_int,
        default=200,
        help="samples per baseline leg (four legs, each paced at --rate: 200 at 20/s is 40 s; "
        "this dominates a short run's time)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=60, help="seconds to wait for arrivals (60)"
    )
    add_no_pin(parser)
    add_keep(parser)
    arguments = parser.parse_args()
    if arguments.seconds * arguments.rate < 1:
        parser.error("--seconds × --rate must make at least one message")
    run_bench(main(arguments), arguments.keep)
