"""Fixtures for bot-command tests: a bridge with an admin, a user and a relay-level user, and
a direct chat with the bridge bot for each (a management room)."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from bridge.app import Bridge
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import SERVER, eventually
from tests.fixtures.inprocess import MakeConfig

BOT = f"@discordbot:{SERVER}"


class Chat:
    """A Matrix user's room with the bridge bot: send a command, read the bot's reply."""

    def __init__(self, client: MatrixTestClient, room_id: str) -> None:
        self.client, self.room_id = client, room_id

    async def command(self, body: str, timeout: float = 20) -> dict[str, Any]:
        """Send ``body``; the bot's reply to it (its content, latest edit applied)."""
        event_id = await self.client.send_text(self.room_id, body)
        return await self.reply_to(event_id, timeout)

    async def reply_to(self, event_id: str, timeout: float = 20) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            for event in await self.client.timeline(self.room_id, types=["m.room.message"]):
                relates = event["content"].get("m.relates_to") or {}
                if (
                    event["sender"] == BOT
                    and (relates.get("m.in_reply_to") or {}).get("event_id") == event_id
                ):
                    return event
            return None

        reply = await eventually(check, f"the bot's reply to {event_id}", timeout)
        return {**reply["content"], "event_id": reply["event_id"]}

    async def latest_text(self, event_id: str) -> str:
        """The text of a bot message after its edits (``m.replace``)."""
        events = await self.client.timeline(self.room_id, types=["m.room.message"])
        text = next(e["content"]["body"] for e in events if e["event_id"] == event_id)
        for event in events:
            relates = event["content"].get("m.relates_to") or {}
            if relates.get("rel_type") == "m.replace" and relates.get("event_id") == event_id:
                text = event["content"]["m.new_content"]["body"]
        return text


@dataclass(frozen=True)
class People:
    """Matrix user IDs with each level (any other user of the server has none)."""

    admin: str
    user: str
    relay: str

    @property
    def permissions(self) -> dict[str, str]:
        return {self.admin: "admin", self.user: "user", self.relay: "relay"}


@pytest.fixture
def people() -> People:
    tag = secrets.token_hex(3)
    return People(*(f"@{name}_{tag}:{SERVER}" for name in ("boss", "member", "talker")))


@pytest_asyncio.fixture(loop_scope="session")
async def command_bridge(make_bridge_config: MakeConfig, people: People) -> AsyncIterator[Bridge]:
    """The bridge, in this process, with the permissions of ``people``."""
    bridge = Bridge(make_bridge_config({"bridge.permissions": json.dumps(people.permissions)}))
    try:
        await bridge.start()
        yield bridge
    finally:
        await bridge.stop()


async def open_chat(client: MatrixTestClient) -> Chat:
    """A direct chat with the bot, as Element makes one: invite, wait for the bot to join."""
    room_id = await client.create_room(invite=[BOT], is_direct=True)

    async def joined() -> bool | None:
        members = await client.api.get_joined_members(room_id)  # type: ignore[arg-type]
        return True if BOT in members else None

    await eventually(joined, "the bot joining the direct chat")
    return Chat(client, room_id)


@pytest_asyncio.fixture(loop_scope="session")
async def admin_chat(command_bridge: Bridge, make_matrix_user: Any, people: People) -> Chat:
    """The admin in a direct chat with the bot."""
    return await open_chat(await make_matrix_user(localpart=localpart(people.admin)))


def localpart(mxid: str) -> str:
    return mxid[1:].split(":", 1)[0]
