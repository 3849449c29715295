"""Helpers shared by the control API's handler modules."""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors, payloads_messages
from .appkeys import EMULATOR
from .events import PRIVILEGED_INTENTS, Intents
from .rest.common import json_response
from .store import Attachment, Store

if TYPE_CHECKING:
    from .server import DiscordEmulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Route = tuple[str, str, Handler]


def control_handler(func: Handler) -> Handler:
    """Loopback only; Discord errors and bad input become JSON error answers."""

    @functools.wraps(func)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        remote = request.remote or ""
        try:
            loopback = ipaddress.ip_address(remote).is_loopback
        except ValueError:
            loopback = remote == ""  # unix sockets / test clients
        if not loopback:
            return json_response({"message": "control API is loopback-only"}, 403)
        try:
            return await func(request)
        except errors.DiscordError as exc:
            return json_response(exc.body(), exc.status)
        except (KeyError, ValueError, TypeError) as exc:
            return json_response({"message": f"bad request: {exc!r}", "code": 0}, 400)

    return wrapper


def emulator_of(request: web.Request) -> DiscordEmulator:
    return request.config_dict[EMULATOR]


def store_of(request: web.Request) -> Store:
    return emulator_of(request).store


async def body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    raw = await request.read()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def ok(data: Any = None, status: int = 200) -> web.Response:
    return json_response({} if data is None else data, status)


def path_id(request: web.Request, name: str) -> int:
    return int(request.match_info[name])


def b64(value: str | None) -> bytes | None:
    """Decode base64 (or a ``data:`` URI); None stays None."""
    if value is None:
        return None
    if value.startswith("data:"):
        value = value.split(",", 1)[1]
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64: {exc}") from None


def when(value: Any) -> datetime | None:
    """An ISO 8601 string or Unix seconds → aware datetime."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def optional_id(data: dict[str, Any], key: str) -> int | None:
    """``data[key]`` as a snowflake; None when it is absent, null or empty."""
    return int(data[key]) if data.get(key) else None


def parse_intents(value: Any) -> Intents:
    """An int, or a list of names such as ``["GUILD_MEMBERS", "MESSAGE_CONTENT"]``."""
    if value is None:
        return PRIVILEGED_INTENTS
    if isinstance(value, int):
        return Intents(value)
    result = Intents(0)
    for name in value:
        result |= Intents[str(name).upper()]
    return result


def attachments_from(store: Store, items: list[dict[str, Any]] | None) -> list[Attachment]:
    return [
        Attachment(
            store.ids.next(),
            item["filename"],
            b64(item["data"]) or b"",
            content_type=item.get("content_type"),
            description=item.get("description"),
            width=item.get("width"),
            height=item.get("height"),
        )
        for item in items or []
    ]


def message_out(store: Store, channel_id: int, message_id: int) -> dict[str, Any]:
    return payloads_messages.message_event(store, store.get_message(channel_id, message_id))
