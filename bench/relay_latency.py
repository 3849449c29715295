"""Live relay latency: the time the bridge adds, each way (not a test: prints figures).

Usage: .venv/bin/python bench/relay_latency.py [--messages 60] [--rate 2] [--keep]

Starts a throwaway Synapse, the Discord emulator and the bridge, bridges one channel, and has
a Matrix user in its room, syncing. At a steady ``rate`` per second:
- Discord → Matrix: a Discord user posts ``messages`` messages; each counts from the post to
  its arrival in the Matrix user's sync. The baseline is the homeserver's own part: the same
  number of plain appservice sends into the room, from the send to the sync.
- Matrix → Discord: the Matrix user posts as many; each counts from the homeserver's push
  reaching the bridge to the message reaching the channel through the webhook (all of it the
  bridge's work and Discord's answer).
Discord lets a webhook post 5 messages per 2 seconds (the emulator too): above 2.5 messages/s
from Matrix in one channel, messages queue (none is lost) and the latency grows.
The last line is the headline ratio: Discord → Matrix p50 ÷ the baseline's p50 (1.0 = the
bridge adds nothing to what the homeserver takes anyway). Issue 16 sets no target for this
bench (the relay's targets are measured by ``relay_load.py``, against the stub). Ctrl-C stops
everything (status 130); the bench folder is removed after a success unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

from harness import SERVER, add_keep, bench_setup, positive_float, positive_int, run_bench
from import_throughput import transaction_sink
from mautrix.api import Method
from mautrix.api import Path as MatrixPath
from ruamel.yaml import YAML

from bridge.app import Bridge
from bridge.config import load_config
from bridge.matrix.appservice import BridgeAppService
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient

Arrivals = dict[str, float]  # message body → when it arrived (monotonic)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def describe(name: str, millis: list[float]) -> str:
    return (
        f"{name}: p50 {percentile(millis, 0.5):.0f} ms, p99 {percentile(millis, 0.99):.0f} ms "
        f"(mean {statistics.mean(millis):.0f} ms, {len(millis)} messages)"
    )


async def sync_forever(client: MatrixTestClient, room_id: str, seen: Arrivals) -> None:
    """Note when each text message of the room reaches this client's sync."""
    query = {"timeout": "0", "filter": json.dumps({"room": {"timeline": {"limit": 100}}})}
    while True:
        response = await client.api.api.request(Method.GET, MatrixPath.v3.sync, query_params=query)
        query |= {"since": response["next_batch"], "timeout": "30000"}
        now = time.monotonic()
        room = response.get("rooms", {}).get("join", {}).get(room_id, {})
        for event in room.get("timeline", {}).get("events", []):
            if event.get("type") == "m.room.message":
                seen.setdefault(event["content"].get("body", ""), now)


async def paced(count: int, rate: float, send: Callable[[int], Any]) -> Arrivals:
    """Call ``send(n)`` ``count`` times at ``rate`` per second; when each started."""
    started: Arrivals = {}
    for number in range(count):
        started[str(number)] = time.monotonic()
        await send(number)
        await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - started[str(number)])))
    return started


async def wait_for(seen: Arrivals, bodies: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not all(body in seen for body in bodies):
        if time.monotonic() > deadline:
            missing = [body for body in bodies if body not in seen]
            raise TimeoutError(f"{len(missing)} messages never arrived, e.g. {missing[:3]}")
        await asyncio.sleep(0.05)


def latencies(started: Arrivals, seen: Arrivals, prefix: str) -> list[float]:
    return [(seen[f"{prefix}{n}"] - at) * 1000 for n, at in started.items()]


async def main(count: int, rate: float) -> None:
    folder, port, config_path, registration = bench_setup("bridge-latency-")
    pushed: Arrivals = {}  # Matrix → Discord: when the homeserver's push reached the bridge
    original = BridgeAppService.handle_transaction

    async def noting(self: BridgeAppService, txn_id: str, **kwargs: Any) -> dict:
        for event in kwargs.get("events") or []:
            pushed.setdefault(str(event.get("content", {}).get("body", "")), time.monotonic())
        return await original(self, txn_id, **kwargs)

    BridgeAppService.handle_transaction = noting  # type: ignore[method-assign]
    emulator = DiscordEmulator()
    # Everything started is stopped again in reverse order, also after an error or Ctrl-C.
    async with contextlib.AsyncExitStack() as stack:
        await emulator.start()
        stack.push_async_callback(emulator.stop)
        synapse = await stack.enter_async_context(
            LocalSynapse(folder / "synapse", registrations=[registration])
        )
        store = emulator.store
        owner = store.create_user("owner")
        bot, _, token = store.create_bot("Latency Bridge")
        guild = store.create_guild("Latency", owner.id, system_channel=False)
        store.add_member(guild.id, bot.id)
        talker = store.create_user("talker")
        store.add_member(guild.id, talker.id, join_message=False)
        channel = store.create_channel(guild.id, "chat")
        on_discord: Arrivals = {}
        store.events.subscribe(
            lambda e: (
                on_discord.setdefault(e.data.get("content", ""), time.monotonic())
                if e.name == "MESSAGE_CREATE"
                else None
            )
        )
        environ = {
            "DISCORD_BRIDGE__HOMESERVER__ADDRESS": synapse.url,
            "DISCORD_BRIDGE__APPSERVICE__DATABASE__URL": f"sqlite:{folder}/bridge.db",
            "DISCORD_BRIDGE__DISCORD__API_URL": emulator.api_url,
            "DISCORD_BRIDGE__DISCORD__GATEWAY_URL": emulator.gateway_url,
            "DISCORD_BRIDGE__DISCORD__CDN_URL": emulator.cdn_url,
            "DISCORD_BRIDGE__DISCORD__BOT_TOKEN": token,
            "DISCORD_BRIDGE__BRIDGE__GUILDS": f"[{guild.id}]",
        }
        config = load_config(config_path, require=("tokens", "discord"), environ=environ)
        bridge = Bridge(config)
        stack.push_async_callback(bridge.stop)  # safe after a failed start, and twice
        await bridge.start()
        assert bridge.database is not None
        tables = bridge.database.tables
        guild_row, portal = await tables.guilds.get(guild.id), await tables.portals.get(channel.id)
        assert guild_row is not None and guild_row.space_room_id and portal and portal.room_id
        room_id = portal.room_id
        user_id, user_token = await synapse.register_user(
            f"reader_{secrets.token_hex(3)}", secrets.token_urlsafe(12)
        )
        reader = MatrixTestClient(synapse.url, user_token, user_id)
        stack.push_async_callback(reader.close)
        await reader.join(guild_row.space_room_id)
        await reader.join(room_id)
        seen: Arrivals = {}
        syncing = asyncio.create_task(sync_forever(reader, room_id, seen))
        stack.callback(syncing.cancel)
        await asyncio.sleep(1)  # the first sync is in place

        async def from_discord(n: int) -> None:
            store.create_message(channel.id, talker.id, f"d2m {n}")

        d2m = await paced(count, rate, from_discord)
        await wait_for(seen, [f"d2m {n}" for n in range(count)])

        async def from_matrix(n: int) -> None:
            await reader.send_text(room_id, f"m2d {n}")

        m2d = await paced(count, rate, from_matrix)
        await wait_for(on_discord, [f"m2d {n}" for n in range(count)])
        await bridge.stop()

        # The baseline: plain appservice sends into the same room, seen by the same sync.
        as_token = YAML(typ="safe").load(registration)["as_token"]
        sink = await transaction_sink(port)
        stack.push_async_callback(sink.cleanup)
        ghost = MatrixTestClient(synapse.url, as_token, as_user_id=f"@discord_latency:{SERVER}")
        stack.push_async_callback(ghost.close)
        await ghost.api.api.request(
            Method.POST,
            MatrixPath.v3.register,
            {"type": "m.login.application_service", "username": "discord_latency"},
        )
        bot_client = MatrixTestClient(synapse.url, as_token, as_user_id=f"@discordbot:{SERVER}")
        stack.push_async_callback(bot_client.close)
        await bot_client.api.api.request(
            Method.POST, MatrixPath.v3.rooms[room_id].invite, {"user_id": ghost.user_id}
        )
        await ghost.join(room_id)

        async def bare(n: int) -> None:
            await ghost.send_text(room_id, f"bare {n}")

        baseline = await paced(count, rate, bare)
        await wait_for(seen, [f"bare {n}" for n in range(count)])

    d2m_ms = latencies(d2m, seen, "d2m ")
    bare_ms = latencies(baseline, seen, "bare ")
    m2d_ms = [(on_discord[f"m2d {n}"] - pushed[f"m2d {n}"]) * 1000 for n in range(count)]
    print(describe("Discord → Matrix, post to sync", d2m_ms))
    print(describe("baseline: appservice send to sync", bare_ms))
    print(describe("Matrix → Discord, send to channel", latencies(m2d, on_discord, "m2d ")))
    print(describe("  of which the bridge: push to channel", m2d_ms))
    added = percentile(d2m_ms, 0.5) - percentile(bare_ms, 0.5)
    print(f"the bridge adds about {added:.0f} ms at p50 to Discord → Matrix ({rate:g} messages/s)")
    ratio = percentile(d2m_ms, 0.5) / percentile(bare_ms, 0.5)
    print(f"headline: Discord → Matrix p50 / appservice send p50 = {ratio:.2f} (no target)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages",
        type=positive_int,
        default=60,
        help="messages each way, and as many baseline sends (60; one channel)",
    )
    parser.add_argument("--rate", type=positive_float, default=2.0, help="messages per second (2)")
    add_keep(parser)
    arguments = parser.parse_args()
    run_bench(main(arguments.messages, arguments.rate), arguments.keep)
