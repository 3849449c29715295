"""Run the Discord emulator on its own, with the sample community.

``python -m bridge.sandbox.discord --port 8765 [--host 127.0.0.1] [--bot-token T]`` prints one
JSON line (``api_url``, ``gateway_url``, ``cdn_url``, ``bot_token``, ``application_id``,
``guild_id``, ``control_url``, and the sample's ids) and serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys

from .sample import build_sample_community
from .server import DiscordEmulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bridge.sandbox.discord", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--bot-token", default=None, help="token for the sample bot")
    parser.add_argument("--empty", action="store_true", help="start without the sample community")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    emulator = DiscordEmulator()
    info: dict[str, object] = {}
    if not args.empty:
        ids = build_sample_community(emulator.store, bot_token=args.bot_token)
        info = {
            "bot_token": ids.bot_token,
            "application_id": str(ids.application_id),
            "guild_id": str(ids.guild_id),
            "sample": ids.as_json(),
        }
    await emulator.start(args.host, args.port)
    line = {
        "api_url": emulator.api_url,
        "gateway_url": emulator.gateway_url,
        "cdn_url": emulator.cdn_url,
        "control_url": f"{emulator.base_url}/_control",
        **info,
    }
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Only once the handlers are in place: a parent may signal as soon as it reads the line.
    print(json.dumps(line), flush=True)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
