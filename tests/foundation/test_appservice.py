"""The appservice HTTP server: token checks, and transactions handled once across restarts."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest

from bridge.config import load_config
from bridge.db.connect import open_database
from bridge.db.url import resolve_database_url
from bridge.matrix.appservice import BridgeAppService

MESSAGE = {
    "type": "m.room.message",
    "room_id": "!room:example.org",
    "sender": "@alice:example.org",
    "event_id": "$event1",
    "origin_server_ts": 1700000000000,
    "content": {"msgtype": "m.text", "body": "hello"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_appservice(config_path: Path, port: int, seen: list[str]) -> tuple:
    config = load_config(config_path, require=("tokens",), environ={})
    database = await open_database(
        resolve_database_url(config["appservice.database.url"], config.directory)
    )
    appservice = BridgeAppService(config, database)

    async def record(event) -> None:  # noqa: ANN001
        seen.append(event.event_id)

    appservice.matrix_event_handler(record)
    await appservice.start("127.0.0.1", port)
    return config, database, appservice


async def put_transaction(port: int, txn_id: str, token: str | None) -> aiohttp.ClientResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        response = await session.put(
            f"http://127.0.0.1:{port}/_matrix/app/v1/transactions/{txn_id}",
            json={"events": [MESSAGE]},
            headers=headers,
        )
        await response.read()
        return response


@pytest.fixture
def port() -> int:
    return free_port()


async def test_tokens_are_checked(ready_config: Path, port: int) -> None:
    seen: list[str] = []
    config, database, appservice = await start_appservice(ready_config, port, seen)
    try:
        assert (await put_transaction(port, "t0", None)).status == 401
        assert (await put_transaction(port, "t1", "wrong-token")).status == 403
        assert seen == []
        assert (await put_transaction(port, "t2", config["appservice.hs_token"])).status == 200
        assert seen == ["$event1"]
    finally:
        await appservice.stop()
        await database.close()


async def test_a_retried_transaction_is_handled_once_even_after_a_restart(
    ready_config: Path, port: int
) -> None:
    seen: list[str] = []
    config, database, appservice = await start_appservice(ready_config, port, seen)
    token = config["appservice.hs_token"]
    try:
        assert (await put_transaction(port, "txn-a", token)).status == 200
        assert (await put_transaction(port, "txn-a", token)).status == 200
    finally:
        await appservice.stop()
        await database.close()
    assert seen == ["$event1"]
    # A new process on the same database: the homeserver retries the same transaction.
    _, database, appservice = await start_appservice(ready_config, port, seen)
    try:
        assert (await put_transaction(port, "txn-a", token)).status == 200
        assert seen == ["$event1"]
        assert (await put_transaction(port, "txn-b", token)).status == 200
        assert seen == ["$event1", "$event1"]
    finally:
        await appservice.stop()
        await database.close()
