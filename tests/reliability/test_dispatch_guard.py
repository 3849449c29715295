"""The dispatch guard on its own: discord.py's real parsers, fed malformed data directly."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from discord.utils import snowflake_time

from bridge.actions.ordering import ChannelQueues
from bridge.discord.client import BridgeDiscordClient
from bridge.discord.dispatch_guard import DispatchGuard
from bridge.discord.payload_repairs import repairs_for, role_ids, unusable
from tests.reliability.shared import message_payload

AUTHOR = {"id": "42", "username": "mallory", "discriminator": "0", "avatar": None}


def message(**fields: Any) -> dict[str, Any]:
    """A direct message (no guild, so no cache needed) with ``fields`` changed."""
    return message_payload(
        **{
            "id": "1234567890123456789",
            "channel_id": "99",
            "author": AUTHOR,
            "content": "hello",
            "timestamp": "2026-01-02T03:04:05+00:00",
            **fields,
        }
    )


@pytest.fixture
async def client() -> BridgeDiscordClient:
    client = BridgeDiscordClient()
    await client._async_setup_hook()  # what login() does first: the client's event loop
    return client


def parse(client: BridgeDiscordClient, event: str, data: Any) -> None:
    client._connection.parsers[event](data)


async def test_every_parser_is_guarded_once(client: BridgeDiscordClient) -> None:
    parsers = client._connection.parsers
    guarded = {name for name, p in parsers.items() if getattr(p, "__dispatch_guarded__", False)}
    assert guarded == set(parsers) - {"READY", "RESUMED"}
    before = dict(parsers)
    client.dispatch_guard.install(parsers)  # a second install wraps nothing twice
    assert parsers == before


async def test_a_malformed_dispatch_is_logged_once_counted_and_skipped(
    client: BridgeDiscordClient, caplog: pytest.LogCaptureFixture
) -> None:
    counted: list[str] = []
    client.dispatch_guard.listeners.append(counted.append)
    caplog.set_level(logging.INFO, "bridge.discord.gateway")
    for _ in range(3):
        parse(client, "MESSAGE_CREATE", message(id=...))  # never raises
    parse(client, "MESSAGE_DELETE", {"channel_id": "99"})
    assert counted == ["MESSAGE_CREATE"] * 3 + ["MESSAGE_DELETE"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith("Malformed MESSAGE_CREATE from the Discord gateway (KeyError")
    assert "skipped" in warnings[0]
    assert warnings[1].startswith("Malformed MESSAGE_DELETE")


async def test_a_message_with_malformed_fields_still_arrives_with_its_text(
    client: BridgeDiscordClient,
) -> None:
    received: list[Any] = []

    async def on_message(msg: Any) -> None:
        received.append(msg)

    client.event(on_message)
    cases = {
        "attachments": message(id="1234567890123456781", attachments="x.png"),
        "embeds": message(id="1234567890123456782", embeds={"title": "t"}),
        "timestamp": message(id="1234567890123456783", timestamp="yesterday"),
        "thread": message(id="1234567890123456784", thread=None, mentions=[None]),
    }
    for data in cases.values():
        parse(client, "MESSAGE_CREATE", data)
    await asyncio.sleep(0.05)  # discord.py runs handlers as tasks
    assert [m.content for m in received] == ["hello"] * len(cases)
    assert received[0].attachments == []
    # The time of a message with an unreadable timestamp is its id's.
    assert received[2].created_at == snowflake_time(1234567890123456783)


async def test_a_failing_handler_never_reaches_the_gateway(
    client: BridgeDiscordClient, caplog: pytest.LogCaptureFixture
) -> None:
    counted: list[str] = []
    client.dispatch_guard.listeners.append(counted.append)

    async def on_message(msg: Any) -> None:
        raise RuntimeError("a bug in the bridge")

    client.event(on_message)
    caplog.set_level(logging.DEBUG, "bridge.discord.gateway")
    parse(client, "MESSAGE_CREATE", message())
    parse(client, "MESSAGE_CREATE", message(id="1234567890123456780"))
    await asyncio.sleep(0.05)
    assert counted == ["on_message", "on_message"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "on_message" in errors[0].getMessage()


def test_a_parser_that_already_dispatched_is_not_run_again() -> None:
    guard = DispatchGuard()
    runs: list[Any] = []

    def parser(data: Any) -> None:
        runs.append(data)
        guard.dispatched += 1  # the handlers have it
        raise ValueError("after the dispatch")

    guard.guarded("MESSAGE_CREATE", parser)(message(attachments="x"))
    assert len(runs) == 1
    assert guard.errors == {"MESSAGE_CREATE": 1}


def test_repairs_keep_what_is_sound_and_never_invent_identities() -> None:
    no_guild = lambda channel_id: None  # noqa: E731
    assert list(repairs_for("MESSAGE_CREATE", message(id="abc"), no_guild)) == []
    assert list(repairs_for("MESSAGE_CREATE", message(author=None), no_guild)) == []
    assert list(repairs_for("MESSAGE_CREATE", None, no_guild)) == []
    sound = next(repairs_for("MESSAGE_CREATE", message(guild_id="x"), lambda c: 7))
    assert sound["guild_id"] == "7"
    assert role_ids([{"id": "1", "name": "Admin"}, "2"]) == ["1", "2"]
    assert role_ids("12") is None
    member = {"user": AUTHOR, "guild_id": "7", "roles": "12"}
    assert list(repairs_for("GUILD_MEMBER_UPDATE", member, no_guild)) == []
    channel = next(repairs_for("CHANNEL_CREATE", {"id": "5", "type": 0}, no_guild))
    assert channel["position"] == 0


async def test_a_message_discord_py_reads_without_an_author_is_skipped_before_parsing(
    client: BridgeDiscordClient, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[Any] = []

    async def on_message(msg: Any) -> None:
        received.append(msg)

    client.event(on_message)
    counted: list[str] = []
    client.dispatch_guard.listeners.append(counted.append)
    caplog.set_level(logging.INFO, "bridge.discord.gateway")
    for _ in range(3):
        parse(client, "MESSAGE_CREATE", message(author=...))  # discord.py alone accepts it
    parse(client, "MESSAGE_CREATE", message(id="1234567890123456771", author={}))
    parse(client, "MESSAGE_CREATE", message(id="1234567890123456772", author="mallory"))
    await asyncio.sleep(0.05)
    assert received == []
    assert counted == ["MESSAGE_CREATE"] * 5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "Malformed MESSAGE_CREATE from the Discord gateway (MalformedPayload: no author and no"
        " member.user): skipped; later ones are logged at DEBUG"
    ]


async def test_an_author_sent_only_as_member_user_is_used(client: BridgeDiscordClient) -> None:
    received: list[Any] = []

    async def on_message(msg: Any) -> None:
        received.append(msg)

    client.event(on_message)
    parse(client, "MESSAGE_CREATE", message(author=..., member={"roles": [], "user": AUTHOR}))
    await asyncio.sleep(0.05)
    assert [(m.content, m.author.id) for m in received] == [("hello", 42)]


async def test_an_edit_without_an_author_never_reaches_the_handlers(
    client: BridgeDiscordClient,
) -> None:
    edits: list[Any] = []

    async def on_raw_message_edit(payload: Any) -> None:
        edits.append(payload)

    client.event(on_raw_message_edit)
    edit = message(author=..., edited_timestamp="2026-01-02T03:05:05+00:00")
    parse(client, "MESSAGE_UPDATE", edit)
    await asyncio.sleep(0.05)
    assert edits == []
    assert client.dispatch_guard.errors == {"MESSAGE_UPDATE": 1}


@pytest.mark.parametrize(
    ("event", "data", "reason"),
    [
        ("MESSAGE_CREATE", message(author=...), "no author and no member.user"),
        ("MESSAGE_CREATE", message(author=None), "author is not a user object"),
        ("MESSAGE_CREATE", message(author={"id": "x"}), "author is not a user object"),
        ("MESSAGE_CREATE", message(author=..., member={"user": AUTHOR}), None),
        ("MESSAGE_CREATE", message(), None),
        ("MESSAGE_CREATE", None, None),  # discord.py rejects it itself
        ("MESSAGE_UPDATE", {"id": "5", "channel_id": "99", "embeds": []}, None),  # partial
        (
            "MESSAGE_UPDATE",
            message(author=..., edited_timestamp="2026-01-02T03:05:05Z"),
            "no author and no member.user",
        ),
        ("GUILD_MEMBER_UPDATE", {"guild_id": "7", "roles": []}, "no user object"),
        ("GUILD_MEMBER_ADD", {"guild_id": "7", "roles": [], "user": {}}, "no user object"),
        ("GUILD_MEMBER_ADD", {"guild_id": "7", "roles": [], "user": AUTHOR}, None),
        ("MESSAGE_DELETE", {"channel_id": "99"}, None),  # no check: discord.py rejects it
    ],
)
def test_unusable_payloads(event: str, data: Any, reason: str | None) -> None:
    assert unusable(event, data) == reason


def test_a_failing_relay_job_is_logged_once_per_kind(caplog: pytest.LogCaptureFixture) -> None:
    queues = ChannelQueues()
    caplog.set_level(logging.DEBUG, "bridge.relay.order")

    async def broken() -> None:
        raise AttributeError("'Message' object has no attribute 'author'")

    async def other() -> None:
        raise KeyError("x")

    async def run() -> None:
        for job in (broken, broken, other, broken):
            queues.submit(1, job)
        await queues.idle()

    asyncio.run(run())
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all(r.exc_info for r in errors)
    assert len([r for r in caplog.records if r.levelno == logging.DEBUG]) == 2
