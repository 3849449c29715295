"""Finding a message the bridge's webhook posted on Discord but whose id the bridge never got.

Two ways to get there: the bridge was killed after Discord took the message but before the
answer was recorded (discord.py returns from ``send`` only after waiting out the webhook
bucket's reset), or a server answered 204 without a body, ignoring ``wait=true``. Discord's
webhook execute has no ``nonce``, so the channel's messages after the attempt are read (newest
100, by the bot) and matched on webhook, username and content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import discord

log = logging.getLogger("bridge.m2d.recovery")
#: How far before the recorded attempt to look (ms): clocks of the bridge and Discord differ.
CLOCK_SLACK_MS = 5_000
HISTORY_LIMIT = 100


def snowflake_at(ms: int) -> int:
    """The smallest snowflake of the millisecond ``ms`` (ms since the Unix epoch)."""
    return max(ms - discord.utils.DISCORD_EPOCH, 0) << 22


def same_message(message: discord.Message, username: str, content: str) -> bool:
    """Whether ``message`` is what a webhook call with this username and content posted."""
    return message.author.name == username and (message.content or "").strip() == content.strip()


async def recent_webhook_messages(
    channel: Any,
    since_ms: int,
    is_ours: Callable[[int], bool],
    known: Callable[[Iterable[int]], Any],
) -> list[discord.Message]:
    """The channel's messages from the bridge's webhooks since ``since_ms`` (ms since the
    epoch, minus :data:`CLOCK_SLACK_MS`), oldest first, without those already recorded.

    ``channel`` is a messageable (channel or thread); ``is_ours(webhook_id)`` says whether a
    webhook is the bridge's; ``known(ids)`` (awaited) returns the ids among ``ids`` already
    recorded in ``message_part``."""
    after = discord.Object(snowflake_at(max(since_ms - CLOCK_SLACK_MS, 0)))
    found = [
        message
        async for message in channel.history(limit=HISTORY_LIMIT, after=after, oldest_first=True)
        if message.webhook_id is not None and is_ours(message.webhook_id)
    ]
    recorded = set(await known([message.id for message in found])) if found else set()
    return [message for message in found if message.id not in recorded]
