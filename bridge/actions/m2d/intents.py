"""One Matrix event's way to Discord through a webhook, recorded before the first request.

discord.py returns from a webhook ``send`` only after waiting out the bucket's reset, so a
message can be on Discord while the bridge has not recorded it yet; killed then, the bridge
gets the event again after its restart (from its inbox, or the homeserver's retry). The intent
row (event, channel, webhook, time; ``m2d_intent``) is written before the first request and
removed once the messages are recorded. An event that comes with an intent but no recorded
message makes the bridge read the channel first: the messages its webhook posted since the
intent, matched in order by username and content, are recorded instead of posted again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import discord

from ...db.rows import M2DIntentRow
from .recovery import same_message
from .services import M2DServices

log = logging.getLogger("bridge.m2d.intents")


class Delivery:
    """The Discord messages of one Matrix event: those posted now and those found posted.

    ``sent`` holds each message in order (None for one posted whose id is unknown)."""

    def __init__(self, services: M2DServices, event: Any, channel_id: int) -> None:
        self.services = services
        self.event_id = str(event.event_id)
        self.room_id = str(event.room_id)
        self.channel_id = channel_id  # the channel or thread the messages go to
        self.sent: list[discord.Message | None] = []
        self._found: list[discord.Message] = []

    async def begin(self) -> None:
        """Record the intent; after a crash, look for what the last attempt posted."""
        table = self.services.tables.m2d_intents
        earlier = await table.get(self.event_id)
        if earlier is not None:
            self._found = await self._posted_since(earlier.created_at)
            log.info(
                "%s was being sent to Discord when the bridge stopped; %d of its messages "
                "found there",
                self.event_id,
                len(self._found),
            )
            return  # the earlier intent (and its time) stays until the messages are recorded
        webhook_id = self.services.webhooks.current_id(self.channel_id)
        now_ms = int(time.time() * 1000)
        await table.upsert(
            M2DIntentRow(self.event_id, self.room_id, self.channel_id, webhook_id, now_ms)
        )

    async def post(self, channel_id: int, **kwargs: Any) -> None:
        """Post one message through the webhook (``webhooks.send``'s arguments), unless the
        earlier attempt already did: then the message found is taken."""
        username, content = str(kwargs.get("username") or ""), str(kwargs.get("content") or "")
        if self._found and same_message(self._found[0], username, content):
            message = self._found.pop(0)
            log.info("Not sending %s again: it is on Discord as %s", self.event_id, message.id)
            self.sent.append(message)
            return
        self._found.clear()  # not in order: the earlier attempt got no further
        self.sent.append(await self.services.webhooks.send(channel_id, **kwargs))

    async def finish(self) -> None:
        """The event's messages are recorded (or it failed for good): forget the intent."""
        await self.services.tables.m2d_intents.delete(self.event_id)

    async def _posted_since(self, since_ms: int) -> list[discord.Message]:
        try:
            return await self.services.webhooks.find_posted(self.channel_id, since_ms)
        except discord.HTTPException as error:
            # Unreadable history: sending again risks a double, but losing it is worse.
            log.warning(
                "Could not read channel %s to find %s: %s", self.channel_id, self.event_id, error
            )
            return []
