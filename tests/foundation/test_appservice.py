"""The appservice HTTP server: token checks, and transactions handled once across restarts."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from bridge.config import load_config
from bridge.db.connect import open_database
from bridge.db.url import resolve_database_url
from bridge.matrix.appservice import BridgeAppService
from bridge.sandbox.homeserver import free_port

MESSAGE = {
    "type": "m.room.message",
    "room_id": "!room:example.org",
    "sender": "@alice:example.org",
    "event_id": "$event1",
    "origin_server_ts": 1700000000000,
    "content": {"msgtype": "m.text", "body": "hello"},
}


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


async def put_transaction(
    port: int, txn_id: str, token: str | None, events: list[dict] | None = None
) -> aiohttp.ClientResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        response = await session.put(
            f"http://127.0.0.1:{port}/_matrix/app/v1/transactions/{txn_id}",
            json={"events": [MESSAGE] if events is None else events},
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


async def test_the_bridges_own_echoes_are_dropped_unparsed_but_its_state_is_kept(
    ready_config: Path, port: int
) -> None:
    """An import's messages all come back from the homeserver: they cost nothing."""
    seen: list[str] = []
    config, database, appservice = await start_appservice(ready_config, port, seen)
    appservice.is_ghost = lambda mxid: mxid.startswith("@discord_")
    raw: list[str] = []
    appservice.raw_event_listeners.append(lambda event: raw.append(event["event_id"]))
    token = config["appservice.hs_token"]
    ghost = "@discord_123:example.org"
    ghost_message = {**MESSAGE, "sender": ghost, "event_id": "$ghost"}
    bot_reaction = {
        **MESSAGE,
        "type": "m.reaction",
        "sender": appservice.bot_mxid,
        "event_id": "$bot",
        "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x", "key": "👍"}},
    }
    ghost_join = {
        "type": "m.room.member",
        "room_id": MESSAGE["room_id"],
        "sender": ghost,
        "state_key": ghost,
        "event_id": "$join",
        "origin_server_ts": 1700000000000,
        "content": {"membership": "join", "displayname": "Alice (Discord)"},
    }
    try:
        response = await put_transaction(port, "own", token, [ghost_message, bot_reaction])
        assert response.status == 200
        assert seen == [] and raw == []
        assert await database.tables.handled_transactions.get("own") is None

        response = await put_transaction(port, "mixed", token, [ghost_message, ghost_join, MESSAGE])
        assert response.status == 200
        assert seen == ["$join", "$event1"] and raw == ["$join", "$event1"]
        assert await database.tables.handled_transactions.get("mixed") is not None
        member = await appservice.state_store.get_member(MESSAGE["room_id"], ghost)
        assert member is not None and member.displayname == "Alice (Discord)"
    finally:
        await appservice.stop()
        await database.close()


async def test_events_to_relay_are_kept_until_their_handler_is_done(
    ready_config: Path, port: int
) -> None:
    """Kept in the inbox before the transaction is acknowledged: a crash after that loses
    nothing (the bridge relays what the inbox holds when it starts again)."""
    seen: list[str] = []
    config, database, appservice = await start_appservice(ready_config, port, seen)
    appservice.keep_until_handled = lambda raw: raw["type"] == "m.room.message"
    topic = {**MESSAGE, "type": "m.room.topic", "state_key": "", "event_id": "$topic"}
    try:
        response = await put_transaction(
            port, "keep", config["appservice.hs_token"], [MESSAGE, topic]
        )
        assert response.status == 200
        [kept] = await database.tables.matrix_inbox.find()
        assert (kept.event_id, kept.room_id) == (MESSAGE["event_id"], MESSAGE["room_id"])
        assert json.loads(kept.event) == MESSAGE
        # The homeserver pushes it again (its transaction retried after a crash): the first
        # arrival stays, since a replay looks on Discord for what was posted since then.
        response = await put_transaction(port, "again", config["appservice.hs_token"], [MESSAGE])
        assert response.status == 200
        [still] = await database.tables.matrix_inbox.find()
        assert still.arrival == kept.arrival
    finally:
        await appservice.stop()
        await database.close()
