"""A trivial discord.py client: when each MESSAGE_CREATE reaches it (the gateway's own part).

Usage (a child of ``relay_load.py``): PROBE_API_URL=... PROBE_GATEWAY_URL=... PROBE_CDN_URL=...
PROBE_TOKEN=... python bench/gateway_probe.py [--max-seconds 120]

Connects with the bridge's intents, prints ``ready`` once the guilds are in, then one line
``<time.monotonic() s> <content>`` per message received (``on_message``: discord.py has parsed
it and built its ``Message``, nothing more); stops on SIGTERM/SIGINT or after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import time

import discord

from bridge.discord.client import bridge_intents, point_discord_py_at


class Probe(discord.Client):
    async def on_ready(self) -> None:
        print("ready", flush=True)

    async def on_message(self, message: discord.Message) -> None:
        print(f"{time.monotonic():.6f} {message.content}", flush=True)


async def main(max_seconds: float) -> None:
    point_discord_py_at(
        os.environ["PROBE_API_URL"], os.environ["PROBE_GATEWAY_URL"], os.environ["PROBE_CDN_URL"]
    )
    client = Probe(intents=bridge_intents())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(client.start(os.environ["PROBE_TOKEN"]))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max_seconds)
    await client.close()
    with contextlib.suppress(Exception):
        await task


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=120)
    asyncio.run(main(parser.parse_args().max_seconds))
