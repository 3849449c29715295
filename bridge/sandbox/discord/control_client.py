"""A small async client of the emulator's HTTP control API (for the demo and other processes).

In the emulator's own process, call ``emulator.store`` and ``get_hub(emulator.app)`` instead.

    async with Control("http://127.0.0.1:8765/_control") as control:
        state = await control.state()
        await control.post_message(channel_id, user_id, "hello from a Discord user")
"""

from __future__ import annotations

import base64
from types import TracebackType
from typing import Any

import aiohttp


class ControlError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


def encode_file(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Control:
    """``request`` reaches any endpoint; the methods below cover the common ones."""

    def __init__(self, control_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.url = control_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> Control:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        query = {k: str(v) for k, v in params.items() if v is not None}
        async with self._session.request(
            method, self.url + path, json=json, params=query
        ) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                raise ControlError(response.status, body)
            return body

    # -- state and people --------------------------------------------------------------------

    async def state(self) -> dict[str, Any]:
        return await self.request("GET", "/state")

    async def create_user(self, username: str, **fields: Any) -> dict[str, Any]:
        return await self.request("POST", "/users", {"username": username, **fields})

    async def add_member(self, guild_id: int | str, user_id: int | str, **fields: Any) -> Any:
        return await self.request("PUT", f"/guilds/{guild_id}/members/{user_id}", fields)

    async def ban(self, guild_id: int | str, user_id: int | str, **fields: Any) -> Any:
        """Ban as an admin (``reason``, ``delete_message_seconds``); the ban object."""
        return await self.request("PUT", f"/guilds/{guild_id}/bans/{user_id}", fields)

    async def unban(self, guild_id: int | str, user_id: int | str) -> Any:
        return await self.request("DELETE", f"/guilds/{guild_id}/bans/{user_id}")

    async def create_channel(self, guild_id: int | str, name: str, **fields: Any) -> Any:
        return await self.request("POST", f"/guilds/{guild_id}/channels", {"name": name, **fields})

    # -- messages ----------------------------------------------------------------------------

    async def post_message(
        self,
        channel_id: int | str,
        user_id: int | str,
        content: str = "",
        *,
        files: dict[str, bytes] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Post as a user; ``files`` maps file names to bytes (sent base64)."""
        body: dict[str, Any] = {"user_id": str(user_id), "content": content, **fields}
        if files:
            body["attachments"] = [
                {"filename": name, "data": encode_file(data)} for name, data in files.items()
            ]
        return await self.request("POST", f"/channels/{channel_id}/messages", body)

    async def messages(
        self, channel_id: int | str, *, after: int | str | None = None, source: str = "all"
    ) -> list[dict[str, Any]]:
        """Messages oldest first; ``source``: ``all``, ``bots``, ``webhooks`` or ``bridge``."""
        path = f"/channels/{channel_id}/messages"
        return await self.request("GET", path, after=after, limit=1000, **{"from": source})

    async def react(self, channel_id: int | str, message_id: int | str, user_id: int | str, emoji: str) -> Any:  # fmt: skip
        path = f"/channels/{channel_id}/messages/{message_id}/reactions"
        return await self.request("PUT", path, {"user_id": str(user_id), "emoji": emoji})

    async def seed_history(self, channel_id: int | str, **body: Any) -> dict[str, Any]:
        return await self.request("POST", f"/channels/{channel_id}/history", body)

    # -- application commands ----------------------------------------------------------------

    async def run_command(
        self,
        application_id: int | str,
        user_id: int | str,
        channel_id: int | str,
        command: str,
        **options: Any,
    ) -> dict[str, Any]:
        """A user runs a registered command (``"matrix info"``: command, then subcommand) in a
        channel, with ``options`` by name; the INTERACTION_CREATE payload sent to the bot."""
        body = {
            "application_id": str(application_id),
            "user_id": str(user_id),
            "channel_id": str(channel_id),
            "command": command,
            "options": options,
        }
        return await self.request("POST", "/interactions", body)

    async def interaction_messages(self, interaction_id: int | str) -> list[dict[str, Any]]:
        """The bot's answers to an interaction (original, then follow-ups; ephemeral too)."""
        return await self.request("GET", f"/interactions/{interaction_id}/messages")

    # -- faults ------------------------------------------------------------------------------

    async def drop_gateway(self, *, code: int = 4000, abort: bool = False, expire: bool = False) -> Any:  # fmt: skip
        body = {"code": code, "abort": abort, "expire": expire}
        return await self.request("POST", "/faults/gateway/drop", body)

    async def gateway_dispatch(self, t: str, d: Any) -> Any:
        """Send one dispatch as it is (any ``d``, malformed on purpose) to every session."""
        return await self.request("POST", "/gateway/dispatch", {"t": t, "d": d})

    async def fail_rest(self, status: int = 500, count: int | None = 1, pattern: str | None = None) -> Any:  # fmt: skip
        body = {"fail": {"status": status, "count": count, "pattern": pattern}}
        return await self.request("POST", "/faults/rest", body)
