"""Catching up after a restart: what was said on Discord while the bridge was down.

Each channel (and thread) that has bridged messages continues from its newest bridged one,
in order. Channels with nothing bridged yet are the history import's business, not this; so is
the rest of an unfinished import when that import is queued in this process (it sends the rest
itself, with its reactions, progress and counts).
"""

from __future__ import annotations

import asyncio
import logging

import discord

from ...discord.message_snapshots import message_snapshot
from .messages import can_mention_everyone, is_own, relay_new
from .routing import destination
from .services import RelayServices

log = logging.getLogger("bridge.relay.catch_up")


async def queue_catch_up(services: RelayServices, ready: asyncio.Event) -> None:
    """Queue each channel's catch-up before the gateway connects, in the channel's own queue
    (a thread's is its parent's), so live messages wait behind what was missed."""
    rows = await services.tables.db.fetch(
        "SELECT channel_id, room_id, MAX(discord_message_id) AS last_id FROM message_part"
        " GROUP BY channel_id, room_id ORDER BY channel_id"
    )
    for row in rows:
        portal = await services.tables.portal_by_room(row["room_id"])
        if portal is None:
            continue  # a room since replaced or retired

        async def job(
            channel_id: int = row["channel_id"],
            last_id: int = row["last_id"],
            portal_id: int = portal.discord_id,
        ) -> None:
            await ready.wait()
            if await _left_to_import(services, channel_id, portal_id):
                log.info(
                    "Not catching up with channel %s: its unfinished history import, queued "
                    "now, sends the rest",
                    channel_id,
                )
                return
            relayed = await _catch_up_channel(services, channel_id, last_id)
            if relayed:
                log.info("Caught up with %d message(s) in channel %s", relayed, channel_id)

        services.queues.submit(portal.discord_id, job)


async def _left_to_import(services: RelayServices, channel_id: int, portal_id: int) -> bool:
    """True if an import queued in this process resumes this room's unfinished import (the
    room's checkpoint is keyed by its portal: a channel, or a forum's post)."""
    channel = services.discord.get_channel(channel_id)
    parent_id = getattr(channel, "parent_id", None)
    if not {channel_id, portal_id, parent_id} & services.importing:
        return False
    checkpoint = await services.tables.import_checkpoints.get(portal_id)
    return checkpoint is not None and not checkpoint.finished


async def _catch_up_channel(services: RelayServices, channel_id: int, last_id: int) -> int:
    where = await destination(services.tables, services.discord, channel_id)
    channel = services.discord.get_channel(channel_id)
    if where is None or not isinstance(channel, discord.abc.Messageable):
        return 0
    relayed = 0
    try:
        async for message in channel.history(
            limit=None, after=discord.Object(last_id), oldest_first=True
        ):
            if await is_own(services, message):
                continue
            async with services.room_locks(where.room_id):
                sent = await relay_new(
                    services, message_snapshot(message), where, can_mention_everyone(message)
                )
            relayed += 1 if sent else 0
    except discord.HTTPException as error:
        log.warning("Could not catch up with channel %s: %s", channel_id, error)
    return relayed
