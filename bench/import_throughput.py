"""History import throughput against what the homeserver accepts (not a test: prints figures).

Usage: .venv/bin/python bench/import_throughput.py [--channels 4] [--messages 50]

Starts a throwaway Synapse and the Discord emulator, seeds ``channels × messages`` past
messages, imports them with the real importer, then sends the same number of plain events
straight through the appservice API (ghosts, ``ts``, the same concurrency: one sender per room).
The last line is the headline ratio: import rate ÷ bare appservice rate (1.0 = the bridge adds
nothing; the homeserver is the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import socket
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from mautrix.api import Method
from mautrix.api import Path as MatrixPath
from ruamel.yaml import YAML

from bridge.app import Bridge
from bridge.config import load_config, write_example
from bridge.importer.command import ImportRequest, ImportRun
from bridge.registration import generate_registration
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient

SERVER = "sandbox.local"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(folder: Path, port: int) -> Path:
    path = folder / "config.yaml"
    write_example(path)
    yaml = YAML()
    data = yaml.load(path)
    data["homeserver"]["domain"] = SERVER
    data["appservice"]["address"] = f"http://127.0.0.1:{port}"
    data["appservice"]["port"] = port
    data["logging"]["root"]["level"] = "WARNING"
    with path.open("w") as stream:
        yaml.dump(data, stream)
    return path


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


async def bare_sends(synapse: LocalSynapse, as_token: str, rooms: int, per_room: int) -> float:
    """Events per second for plain ghost sends with ts, one sender per room in parallel."""
    bot = MatrixTestClient(synapse.url, as_token, as_user_id=f"@discordbot:{SERVER}")
    ghosts, room_ids = [], []
    for index in range(rooms):
        ghost = f"@discord_bench{index}_{secrets.token_hex(3)}:{SERVER}"
        await bot.api.api.request(
            Method.POST,
            MatrixPath.v3.register,
            {"type": "m.login.application_service", "username": ghost[1:].split(":")[0]},
        )
        room_id = await bot.create_room(name=f"bare {index}", invite=[ghost])
        client = MatrixTestClient(synapse.url, as_token, as_user_id=ghost)
        await client.join(room_id)
        ghosts.append(client)
        room_ids.append(room_id)
    base = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)

    async def one_room(client: MatrixTestClient, room_id: str) -> None:
        for number in range(per_room):
            await client.api.api.request(
                Method.PUT,
                MatrixPath.v3.rooms[room_id].send["m.room.message"][f"bench{number}"],
                {"msgtype": "m.text", "body": f"bare {number}"},
                query_params={"ts": str(base + number)},
            )

    started = time.monotonic()
    await asyncio.gather(*(one_room(c, r) for c, r in zip(ghosts, room_ids, strict=True)))
    elapsed = time.monotonic() - started
    for client in [bot, *ghosts]:
        await client.close()
    return rooms * per_room / elapsed


async def main(channels: int, messages: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="bridge-bench-"))
    port = free_port()
    config_path = write_config(folder, port)
    registration = folder / "registration.yaml"
    generate_registration(load_config(config_path, environ={}), registration)
    emulator = DiscordEmulator()
    await emulator.start()
    async with LocalSynapse(folder / "synapse", registrations=[registration]) as synapse:
        store = emulator.store
        owner = store.create_user("owner")
        bot, application, token = store.create_bot("Bench Bridge")
        guild = store.create_guild("Bench", owner.id, system_channel=False)
        store.add_member(guild.id, bot.id)
        authors = [store.create_user(f"user{i}").id for i in range(5)]
        for author in authors:
            store.add_member(guild.id, author, join_message=False)
        base = datetime(2024, 1, 1, tzinfo=UTC)
        for index in range(channels):
            channel = store.create_channel(guild.id, f"channel-{index}")
            store.seed_history(
                channel.id,
                [
                    {
                        "author_id": authors[n % len(authors)],
                        "timestamp": base + timedelta(seconds=n),
                        "content": f"message {n} in **channel {index}**",
                    }
                    for n in range(messages)
                ],
            )
        environ = {
            "DISCORD_BRIDGE__HOMESERVER__ADDRESS": synapse.url,
            "DISCORD_BRIDGE__DISCORD__API_URL": emulator.api_url,
            "DISCORD_BRIDGE__DISCORD__GATEWAY_URL": emulator.gateway_url,
            "DISCORD_BRIDGE__DISCORD__CDN_URL": emulator.cdn_url,
            "DISCORD_BRIDGE__DISCORD__BOT_TOKEN": token,
            "DISCORD_BRIDGE__BRIDGE__LIMITS__IMPORT_CONCURRENCY": str(channels),
            "DISCORD_BRIDGE__APPSERVICE__DATABASE__MIN_SIZE": "4",
        }
        config = load_config(config_path, require=("tokens", "discord"), environ=environ)
        holder: list[ImportRun] = []

        async def queue() -> None:
            await holder[0].queue_channels()

        bridge = Bridge(config, before_connect=queue)
        run = ImportRun(ImportRequest(guild.id), bridge)
        holder.append(run)
        started = time.monotonic()
        await bridge.start()
        await asyncio.gather(*run.done)
        await bridge.stop()
        import_seconds = time.monotonic() - started
        total = channels * messages
        import_rate = run.progress.sending_rate()
        as_token = YAML(typ="safe").load(registration)["as_token"]
        sink = await transaction_sink(port)
        try:
            bare_rate = await bare_sends(synapse, as_token, channels, messages)
        finally:
            await sink.cleanup()
    await emulator.stop()
    print(
        f"import: {total} messages, {import_seconds:.1f} s in all (start-up, bridging the guild "
        f"and creating rooms included); {import_rate:.1f} messages/s while sending"
    )
    print(f"bare appservice sends: {bare_rate:.1f} events/s ({channels} rooms in parallel)")
    print(f"headline: import/bare = {import_rate / bare_rate:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--messages", type=int, default=50)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.channels, arguments.messages))
