"""Reading a channel's messages over REST for catching up, one odd message never stopping it.

discord.py's ``history()`` parses each page inside its iterator: one message it cannot parse
(e.g. ``"thread": null``) ends the whole iteration. Here each page is fetched raw and each
message parsed on its own; one that does not parse gets the gateway's repairs
(:mod:`bridge.discord.payload_repairs`), and if none helps it is logged, counted and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from mautrix.errors import MatrixConnectionError, MatrixRequestError

from ...discord.payload_repairs import message_repairs
from ...matrix.homeserver_wait import HomeserverStopped
from ...stats import TO_MATRIX
from .services import RelayServices

log = logging.getLogger("bridge.relay.catch_up")

#: Messages per REST page: Discord's maximum.
PAGE = 100


class UnreadableMessage(Exception):
    """A fetched message that discord.py cannot parse, even repaired."""


def is_transport_error(error: BaseException) -> bool:
    """Whether ``error`` means Discord or the homeserver could not be reached or refused for
    now, or the bridge is stopping (so a catch-up stops and is retried at the next start or
    session, from the newest message relayed), not that one message is odd."""
    if isinstance(error, HomeserverStopped):
        return True
    if isinstance(error, MatrixRequestError):
        return error.http_status >= 500 or error.http_status == 429
    if isinstance(error, discord.HTTPException):
        return error.status >= 500 or error.status in (401, 403, 429)
    return isinstance(
        error,
        (MatrixConnectionError, aiohttp.ClientError, OSError, asyncio.TimeoutError),
    )


def parse_message(
    services: RelayServices, channel: discord.abc.Messageable, raw: Any
) -> discord.Message:
    """One fetched message as discord.py's Message, repaired if need be.

    Raises :class:`UnreadableMessage` when no repair makes it readable."""
    state = channel._state  # type: ignore[attr-defined]  # discord.py's own, as history() uses

    def guild_of(channel_id: int) -> int | None:
        guild = getattr(services.discord.get_channel(channel_id), "guild", None)
        return guild.id if guild is not None else None

    try:
        return state.create_message(channel=channel, data=raw)  # type: ignore[arg-type]
    except Exception as first:
        for repaired in message_repairs(raw, guild_of):
            try:
                return state.create_message(channel=channel, data=repaired)  # type: ignore[arg-type]
            except Exception:
                continue
        raise UnreadableMessage(f"{type(first).__name__}: {first}") from first


def _parsed_page(
    services: RelayServices, channel: discord.abc.Messageable, page: list[Any]
) -> list[discord.Message]:
    """A page's messages, oldest first; the unreadable ones logged, counted and left out."""
    messages = []
    for raw in page:
        try:
            messages.append(parse_message(services, channel, raw))
        except UnreadableMessage as error:
            message_id = raw.get("id") if isinstance(raw, dict) else None
            channel_id = getattr(channel, "id", None)
            log.warning(
                "Catching up in channel %s: skipped unreadable message %s: %s",
                channel_id,
                message_id,
                error,
            )
            guild = getattr(channel, "guild", None)
            services.stats.failed(
                guild.id if guild is not None else None,
                f"catch-up message {message_id} unreadable: {error}",
                direction=TO_MATRIX,
                error=error,
            )
    return sorted(messages, key=lambda m: m.id)


def _raw_id(raw: Any) -> int | None:
    try:
        return int(raw["id"])
    except (TypeError, KeyError, ValueError):
        return None


async def fetch_after(
    services: RelayServices, channel: discord.abc.Messageable, after: int
) -> AsyncIterator[discord.Message]:
    """Every message after the snowflake ``after``, oldest first, a page (100) at a time."""
    http = services.discord.http
    channel_id = channel.id  # type: ignore[attr-defined]
    while True:
        page = await http.logs_from(channel_id, PAGE, after=after)
        ids = [i for i in (_raw_id(raw) for raw in page) if i is not None and i > after]
        for message in _parsed_page(services, channel, page):
            if message.id > after:
                yield message
        if not ids or len(page) < PAGE:
            return
        after = max(ids)


@dataclass
class RecentWindow:
    """A channel's recent messages as Discord has them now.

    ``messages``: those readable, oldest first; ``present``: the id of every message fetched
    at or after ``floor`` (readable or not); ``floor``: the snowflake from which the window
    is complete, so a bridged message at or after it and not ``present`` was deleted."""

    messages: list[discord.Message]
    present: set[int]
    floor: int


async def fetch_recent(
    services: RelayServices, channel: discord.abc.Messageable, limit: int, since: int
) -> RecentWindow:
    """The newest ``limit`` messages no older than the snowflake ``since``."""
    http = services.discord.http
    channel_id = channel.id  # type: ignore[attr-defined]
    found: list[discord.Message] = []
    present: set[int] = set()
    before: int | None = None
    seen = 0
    floor = since
    while seen < limit:
        want = min(PAGE, limit - seen)
        page = await http.logs_from(channel_id, want, before=before)
        ids = [i for i in (_raw_id(raw) for raw in page) if i is not None]
        seen += len(page)
        present.update(i for i in ids if i >= since)
        found.extend(m for m in _parsed_page(services, channel, page) if m.id >= since)
        if not ids or len(page) < want or min(ids) < since:
            break  # the channel's start, or the window's time, reached: complete from since
        before = min(ids)
        if seen >= limit:
            floor = max(since, before)  # older messages in the time may exist: not looked at
    found.sort(key=lambda m: m.id)
    return RecentWindow(found, present, floor)
