"""One Matrix event's way to Discord through a webhook, safe against a crash mid-request.

discord.py returns from a webhook ``send`` only after waiting out the bucket's reset, so a
message can be on Discord while the bridge has not recorded it yet. The event is still in the
bridge's inbox then (``matrix_inbox``: kept from its arrival until it is relayed), so it is
relayed again at the next start, before anything new. Only such a replay reads the channel
first: the messages its webhook posted since the event's arrival, matched in order by username
and content, are recorded instead of posted again. A live event costs no lookup at all.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from .recovery import same_message
from .services import M2DServices

log = logging.getLogger("bridge.m2d.delivery")


class Delivery:
    """The Discord messages of one Matrix event: those posted now and those found posted.

    ``sent`` holds each message in order (None for one posted whose id is unknown).
    ``replay_since_ms`` is the arrival (ms since the epoch) of an event relayed again from the
    inbox at start-up; None for a live event."""

    def __init__(
        self,
        services: M2DServices,
        event: Any,
        channel_id: int,
        replay_since_ms: int | None = None,
    ) -> None:
        self.services = services
        self.event_id = str(event.event_id)
        self.channel_id = channel_id  # the channel or thread the messages go to
        self.replay_since_ms = replay_since_ms
        self.sent: list[discord.Message | None] = []
        self._found: list[discord.Message] = []

    async def begin(self) -> None:
        """For a replayed event, look for what the attempt before the restart posted."""
        if self.replay_since_ms is None:
            return  # live: nothing of it can be on Discord yet
        self._found = await self._posted_since(self.replay_since_ms)
        if self._found:
            log.info(
                "%s may have been sent to Discord before the restart; %d of the webhook's "
                "unrecorded messages since its arrival found there",
                self.event_id,
                len(self._found),
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

    async def _posted_since(self, since_ms: int) -> list[discord.Message]:
        try:
            return await self.services.webhooks.find_posted(self.channel_id, since_ms)
        except discord.HTTPException as error:
            # Unreadable history: sending again risks a double, but losing it is worse.
            log.warning(
                "Could not read channel %s to find %s: %s", self.channel_id, self.event_id, error
            )
            return []
