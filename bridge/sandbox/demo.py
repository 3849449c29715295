"""``make demo``: a sample community migrated to Matrix on this machine, nothing to set up.

Starts a real Synapse and the Discord emulator (with a sample community and its history),
writes a config for the bridge (embedded SQLite), imports the history, bridges the guild live,
then plays a short conversation both ways and prints what arrives on each side. Without
``--headless`` it keeps running until Ctrl-C so you can look for yourself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import shutil
import signal
import sys
import time
from pathlib import Path

from ..app import Bridge
from ..config import Config, load_config
from ..importer.command import ImportRequest, run_import
from .bridge_config import write_sandbox_config
from .demo_script import Conversation, Stage
from .discord.sample import build_sample_community
from .discord.server import DiscordEmulator
from .homeserver import LocalSynapse, free_port

SERVER = "sandbox.local"
USER, PASSWORD = "demo", "demo-password"


def _say(text: str) -> None:
    print(text, flush=True)


def _write_config(folder: Path, emulator: DiscordEmulator, token: str, secret: str) -> Path:
    port = free_port()
    discord = {
        "bot_token": token,
        "api_url": emulator.api_url,
        "gateway_url": emulator.gateway_url,
        "cdn_url": emulator.cdn_url,
    }
    bridge = {
        "public_address": f"http://127.0.0.1:{port}",
        "permissions": {"*": "relay", SERVER: "admin"},
        "provisioning": {"shared_secret": secret},
    }
    return write_sandbox_config(folder, port, {"discord": discord, "bridge": bridge})


def _fresh(folder: Path) -> None:
    """Each demo starts afresh: the previous run's homeserver and database are removed."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


async def run(folder: Path, headless: bool) -> int:
    started = time.monotonic()
    _fresh(folder)
    emulator = DiscordEmulator()
    sample = build_sample_community(emulator.store)
    await emulator.start()
    _say(f"Discord emulator: {emulator.api_url} (guild {sample.guild_id}, a sample community)")
    secret = secrets.token_urlsafe(24)  # the provisioning API's, shown at the end
    config_path = _write_config(folder, emulator, sample.bot_token, secret)
    synapse = LocalSynapse(folder / "synapse", registrations=[folder / "registration.yaml"])
    await synapse.start()
    _say(f"Synapse: {synapse.url} (server name {SERVER})")
    await synapse.register_user(USER, PASSWORD, displayname="Demo User")
    environ = {"DISCORD_BRIDGE__HOMESERVER__ADDRESS": synapse.url}

    def config() -> Config:
        return load_config(config_path, require=("tokens", "discord"), environ=environ)

    bridge: Bridge | None = None
    try:
        _say("\n== Importing the community's history ==")
        status = await run_import(config(), ImportRequest(sample.guild_id))
        if status != 0:
            _say("The import did not finish cleanly.")
            return 1
        _say("\n== Bridging live ==")
        bridge = Bridge(config())
        await bridge.start()
        conversation = Conversation(bridge, emulator, sample, synapse, USER, PASSWORD)
        stages: list[Stage] = await conversation.play(_say)
        failed = [stage for stage in stages if not stage.arrived]
        summary = await conversation.summary(time.monotonic() - started)
        _say("\n== Summary ==\n" + summary)
        if headless:
            return 1 if failed else 0
        _say(
            "\nLook for yourself: log in to "
            f"{synapse.url} with any Matrix client as @{USER}:{SERVER} / {PASSWORD}.\n"
            f"Run the bridge from chat: start a direct chat with @discordbot:{SERVER} and send "
            "help (you are an admin here).\n"
            "Or over HTTP, the provisioning API:\n"
            f"  curl -H 'Authorization: Bearer {secret}' "
            f"http://127.0.0.1:{config()['appservice.port']}/_matrix/provision/v1/status\n"
            f"Act as a Discord user through the emulator's control API, e.g.:\n"
            f"  curl -X POST {emulator.api_url.rsplit('/api', 1)[0]}/_control/channels/"
            f"{sample.channels['general']}/messages -H 'Content-Type: application/json' "
            f'-d \'{{"user_id": "{sample.users["chloe"]}", "content": "hello from curl"}}\'\n'
            "Press Ctrl-C to stop."
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        return 0
    finally:
        if bridge is not None:
            await bridge.stop()
        await synapse.stop()
        await emulator.stop()
        _say("Stopped: nothing is left running. Run it again to start afresh.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridge.sandbox.demo", description=__doc__)
    parser.add_argument("--headless", action="store_true", help="play the script and exit")
    parser.add_argument("--dir", type=Path, default=Path(".demo"), help="working folder")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(args.dir.resolve(), args.headless))
    return 0


if __name__ == "__main__":
    sys.exit(main())
