"""Reading a channel's history from the Discord API, oldest first, threads woven in.

A text channel and its threads share one Matrix room, so their messages are merged into one
stream by message id (a snowflake, so by time): a thread's messages come after the message it
grew from, and the room gets them all in order.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import AsyncIterator
from datetime import datetime

import discord

from ..convert.model import UserSnapshot
from ..discord.message_snapshots import message_snapshot
from ..discord.user_snapshots import user_snapshot
from .model import ImportedReaction, ImportItem

log = logging.getLogger("bridge.importer.api")


async def reactions_of(message: discord.Message) -> tuple[ImportedReaction, ...]:
    """Every reaction with every user who reacted (one request per 100 users)."""
    found = []
    for reaction in message.reactions:
        users: list[UserSnapshot] = [user_snapshot(u) async for u in reaction.users(limit=None)]
        emoji = reaction.emoji
        if isinstance(emoji, str):
            found.append(ImportedReaction(emoji, users=tuple(users)))
        else:
            found.append(
                ImportedReaction(
                    str(emoji.name),
                    emoji_id=emoji.id,
                    animated=bool(emoji.animated),
                    users=tuple(users),
                )
            )
    return tuple(found)


async def channel_items(
    channel: discord.abc.Messageable, since: datetime | None = None
) -> AsyncIterator[ImportItem]:
    """A channel's or thread's messages from the first (or ``since``), 100 per request."""
    async for message in channel.history(limit=None, after=since, oldest_first=True):
        yield ImportItem(message_snapshot(message), await reactions_of(message))


async def threads_of(channel: discord.TextChannel | discord.ForumChannel) -> list[discord.Thread]:
    """Active and archived threads (public, and private where the bot may see them)."""
    threads = {thread.id: thread for thread in channel.threads}
    try:  # active threads over REST too: the gateway's cache may not have them (dry run)
        for thread in await channel.guild.active_threads():
            if thread.parent_id == channel.id:
                threads[thread.id] = thread
    except discord.HTTPException as error:
        log.warning("Active threads of #%s not listed: %s", channel.name, error)
    # Forum posts are public; text channels may also have private threads.
    kinds = (False,) if isinstance(channel, discord.ForumChannel) else (False, True)
    for private in kinds:
        try:
            if isinstance(channel, discord.ForumChannel):
                archived = channel.archived_threads(limit=None)
            else:
                archived = channel.archived_threads(limit=None, private=private)
            async for thread in archived:
                threads[thread.id] = thread
        except discord.Forbidden:
            log.info(
                "Cannot list %s archived threads of #%s",
                "private" if private else "public",
                channel.name,
            )
        except discord.HTTPException as error:
            log.warning("Archived threads of #%s not listed: %s", channel.name, error)
    return sorted(threads.values(), key=lambda thread: thread.id)


async def merged(streams: list[AsyncIterator[ImportItem]]) -> AsyncIterator[ImportItem]:
    """Items of several chronological streams, in one chronological stream."""
    heads: list[tuple[int, int, ImportItem]] = []
    for index, stream in enumerate(streams):
        first = await anext(stream, None)
        if first is not None:
            heapq.heappush(heads, (first.message.id, index, first))
    while heads:
        _, index, item = heapq.heappop(heads)
        yield item
        following = await anext(streams[index], None)
        if following is not None:
            heapq.heappush(heads, (following.message.id, index, following))


async def history_count(
    channel: discord.TextChannel | discord.ForumChannel, since: datetime | None
) -> int:
    """Messages an import of ``channel`` goes through: its own and its threads' (a forum: its
    posts'), each once, read 100 per request (Discord's API has no message count)."""
    sources: list[discord.abc.Messageable] = []
    if isinstance(channel, discord.TextChannel):
        sources.append(channel)
    sources += await threads_of(channel)
    count = 0
    for source in sources:
        async for _ in source.history(limit=None, after=since, oldest_first=True):
            count += 1
    return count
