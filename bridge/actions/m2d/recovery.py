"""Finding a message the bridge's webhook posted on Discord but whose id the bridge never got.

Two ways to get there: the bridge was killed after Discord took the message but before the
answer was recorded (discord.py returns from ``send`` only after waiting out the webhook
bucket's reset), or a server answered 204 without a body, ignoring ``wait=true``. Discord's
webhook execute has no ``nonce``, so the channel's messages after the attempt are read (newest
100, by the bot) and matched on webhook, username and content.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

import discord

from ...db.tables import BridgeTables

log = logging.getLogger("bridge.m2d.recovery")
#: How far before the recorded attempt to look (ms): clocks of the bridge and Discord differ.
CLOCK_SLACK_MS = 5_000
HISTORY_LIMIT = 100
#: Looking for a message posted without an answer: tries, and seconds between them.
EMPTY_ANSWER_LOOKUPS = 3
EMPTY_ANSWER_PAUSE = 0.5


def same_message(message: discord.Message, username: str, content: str) -> bool:
    """Whether ``message`` is what a webhook call with this username and content posted."""
    return message.author.name == username and (message.content or "").strip() == content.strip()


async def recent_webhook_messages(
    channel: discord.abc.Messageable,
    since_ms: int,
    is_ours: Callable[[int], bool],
    known: Callable[[list[int]], Awaitable[list[int]]],
) -> list[discord.Message]:
    """The channel's messages from the bridge's webhooks since ``since_ms`` (ms since the
    epoch, minus :data:`CLOCK_SLACK_MS`), oldest first, without those already recorded.

    ``channel`` is a messageable (channel or thread); ``is_ours(webhook_id)`` says whether a
    webhook is the bridge's; ``known(ids)`` (awaited) returns the ids among ``ids`` already
    recorded in ``message_part``."""
    after_ms = max(since_ms - CLOCK_SLACK_MS, discord.utils.DISCORD_EPOCH)
    moment = datetime.fromtimestamp(after_ms / 1000, UTC)
    after = discord.Object(discord.utils.time_snowflake(moment))
    found = [
        message
        async for message in channel.history(limit=HISTORY_LIMIT, after=after, oldest_first=True)
        if message.webhook_id is not None and is_ours(message.webhook_id)
    ]
    recorded = set(await known([message.id for message in found])) if found else set()
    return [message for message in found if message.id not in recorded]


async def recorded_ids(tables: BridgeTables, ids: Iterable[int]) -> list[int]:
    """Which of these Discord message ids the bridge has recorded (``message_part``)."""
    wanted = list(ids)
    if not wanted:
        return []
    marks = ", ".join(f"${index}" for index in range(1, len(wanted) + 1))
    rows = await tables.message_parts.find(f"discord_message_id IN ({marks})", *wanted)
    return [row.discord_message_id for row in rows]


async def find_unanswered(
    find_posted: Callable[[int, int], Awaitable[list[discord.Message]]],
    channel_id: int,
    since_ms: int,
    username: str,
    content: str,
) -> discord.Message | None:
    """The message a webhook execute answered with 204 posted, or None if it is not found.

    ``find_posted(channel_id, since_ms)`` gives the bridge's unrecorded webhook messages there
    since the request (ms since the epoch), oldest first; the newest with this username and
    content is this request's. Looked for :data:`EMPTY_ANSWER_LOOKUPS` times,
    :data:`EMPTY_ANSWER_PAUSE` s apart (Discord's history can lag); ``discord.HTTPException``
    from reading the channel is raised."""
    for attempt in range(EMPTY_ANSWER_LOOKUPS):
        found = await find_posted(channel_id, since_ms)
        for message in reversed(found):  # the newest match: this request's
            if same_message(message, username, content):
                log.info(
                    "Discord answered a webhook message without its id; found it: %s", message.id
                )
                return message
        if attempt + 1 < EMPTY_ANSWER_LOOKUPS:
            await asyncio.sleep(EMPTY_ANSWER_PAUSE)
    log.warning(
        "Discord answered a webhook message in channel %s without its id, and it is not "
        "among the channel's recent messages; later edits of it cannot be relayed",
        channel_id,
    )
    return None
