"""Small helpers shared by the reliability tests: the bridge as a process, or in this process
(``Restarts``, for the catch-up tests)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bridge.app import Bridge
from bridge.sandbox.discord.gateway import get_hub
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, eventually, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig

#: A webhook execute (Matrix → Discord), as a fault rule's pattern.
EXECUTE = r"^POST /webhooks/\d+/[^/]+$"


def message_payload(**fields: Any) -> dict[str, Any]:
    """A MESSAGE_CREATE's data as Discord sends it: a plain message (not edited, no mentions,
    attachments or embeds) with ``fields`` (id, channel_id, author, content, timestamp…) set;
    a field given as ``...`` is left out."""
    data: dict[str, Any] = {
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not ...}


def query(database: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the bridge's SQLite database (read while the bridge runs)."""
    with sqlite3.connect(database) as connection:
        return list(connection.execute(sql, args))


def logging_at(level: str) -> str:
    """A ``logging`` config (JSON, for an environment override): everything at ``level``,
    discord.py's HTTP log and aiosqlite's queries included, to the process's output."""
    return json.dumps(
        {
            "version": 1,
            "formatters": {
                "normal": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"}
            },
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "normal"}},
            "loggers": {name: {"level": level} for name in ("discord", "aiosqlite", "mau")},
            "root": {"level": level, "handlers": ["console"]},
        }
    )


def secrets_of_the_run(
    bridge_config_path: Path, sandbox: SandboxGuild, extra: dict[str, str]
) -> dict[str, str]:
    """Every secret the bridge held: appservice tokens, the bot token, the webhook tokens the
    emulator issued in the test's guild, and ``extra`` (name → value, e.g. the provisioning
    secret)."""
    config = YAML(typ="safe").load(bridge_config_path)
    channels = set(sandbox.guild.channel_ids)
    hooks = [h for h in sandbox.emulator.store.webhooks.values() if h.channel_id in channels]
    return {
        "appservice.as_token": config["appservice"]["as_token"],
        "appservice.hs_token": config["appservice"]["hs_token"],
        "discord.bot_token": sandbox.bot_token,
        **{f"webhook {hook.id} token": hook.token for hook in hooks if hook.token},
        **extra,
    }


def leaked(output: str, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets that show in ``output``."""
    return [name for name, secret in secrets.items() if secret and secret in output]


class Restarts:
    """The bridge (in this process) on the test guild, started and stopped at will."""

    def __init__(
        self,
        make_config: MakeConfig,
        community: Community,
        sandbox: SandboxGuild,
        viewer: MatrixTestClient,
    ) -> None:
        self.make_config, self.community, self.viewer = make_config, community, viewer
        self.store = sandbox.emulator.store
        self.hub = get_hub(sandbox.emulator.app)
        self.channel_id = community.channels["lounge"]
        self.bridge: Bridge | None = None
        self.room = ""

    async def start(
        self,
        overrides: dict[str, object] | None = None,
        prepare: Callable[[Bridge], None] | None = None,
    ) -> Bridge:
        """Start the bridge; ``prepare`` sees it before it starts."""
        config = self.make_config(
            {"bridge.guilds": f"[{self.community.guild_id}]", **(overrides or {})}
        )
        self.bridge = Bridge(config)
        if prepare is not None:
            prepare(self.bridge)
        await self.bridge.start()
        self.room = await room_of(self.bridge, self.channel_id)
        return self.bridge

    async def stop(self) -> None:
        if self.bridge is not None:
            bridge, self.bridge = self.bridge, None
            await bridge.stop()

    def post(self, who: str, text: str) -> int:
        return self.store.create_message(self.channel_id, self.community.users[who], text).id

    async def bodies(self) -> Counter[str]:
        """How many times each body shows in the room (edits and redacted events aside)."""
        events = await self.viewer.timeline(self.room, types=["m.room.message"])
        return Counter(
            e["content"]["body"]
            for e in events
            if "body" in e.get("content", {})
            and e["content"].get("m.relates_to", {}).get("rel_type") != "m.replace"
        )

    async def order(self, wanted: list[str]) -> list[str]:
        events = await self.viewer.timeline(self.room, types=["m.room.message"])
        return [e["content"]["body"] for e in events if e["content"].get("body") in wanted]

    async def all_arrive(self, wanted: list[str], timeout: float = 30) -> Counter[str]:
        async def arrived() -> Counter[str] | None:
            seen = await self.bodies()
            return seen if all(seen[body] for body in wanted) else None

        try:
            return await eventually(arrived, f"{len(wanted)} messages", timeout=timeout)
        except (AssertionError, TimeoutError):
            seen = await self.bodies()
            lost = [body for body in wanted if not seen[body]]
            pytest.fail(f"sent {len(wanted)} → lost {len(lost)}: {lost}")

    async def event_of(self, message_id: int) -> str:
        async def mapped() -> str | None:
            assert self.bridge is not None and self.bridge.database is not None
            parts = await self.bridge.database.tables.message_parts_of(message_id)
            return parts[0].event_id if parts else None

        return await eventually(mapped, f"the event of Discord message {message_id}")

    async def redacted(self, event_id: str) -> bool:
        event = await self.viewer.event(self.room, event_id)
        return "redacted_because" in event.get("unsigned", {})

    async def relations(self, event_id: str, event_type: str) -> list[dict[str, Any]]:
        """Live (unredacted) events of a type relating to ``event_id``."""
        events = await self.viewer.timeline(self.room, types=[event_type])
        return [
            e
            for e in events
            if e.get("content", {}).get("m.relates_to", {}).get("event_id") == event_id
            and "redacted_because" not in e.get("unsigned", {})
        ]

    async def idle_after_new_session(self) -> None:
        """Force a new session (non-resumable INVALID_SESSION) and wait for its catch-up."""
        assert self.bridge is not None and self.bridge.catch_up is not None
        assert self.bridge.relay is not None
        before = self.bridge.catch_up.sessions_caught_up
        self.hub.invalidate_sessions(resumable=False)
        catch_up = self.bridge.catch_up

        async def new_session() -> bool | None:
            return True if catch_up.sessions_caught_up > before else None

        await eventually(new_session, "a new gateway session")
        await asyncio.wait_for(self.bridge.relay.queues.idle(), 30)


async def human_in(restarts: Restarts, make_matrix_user: Callable[..., Awaitable[Any]]) -> Any:
    """Marie, a Matrix user, in the lounge's room."""
    assert restarts.bridge is not None and restarts.bridge.guilds is not None
    space = (await restarts.bridge.guilds.bridge_guild(restarts.community.guild_id)).space_room_id
    marie = await make_matrix_user(displayname="Marie")
    await marie.join(space)
    await marie.join(restarts.room)
    return marie


async def from_matrix_on_discord(restarts: Restarts, body: str) -> int:
    """The Discord message a Matrix message became, once recorded by the bridge."""

    async def recorded() -> int | None:
        assert restarts.bridge is not None and restarts.bridge.database is not None
        rows = await restarts.bridge.database.tables.message_parts.find(
            "channel_id = $1 AND kind LIKE 'matrix:%'", restarts.channel_id
        )
        for row in rows:
            message = restarts.store.messages.get(row.discord_message_id)
            if message is not None and message.content == body:
                return row.discord_message_id
        return None

    return await eventually(recorded, f"{body!r} on Discord, recorded")
