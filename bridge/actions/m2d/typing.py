"""Matrix users typing in a portal room → the bridge bot typing in the Discord channel.

The homeserver pushes ``m.typing`` (an ephemeral event, MSC2409; only when the registration
asks for them, ``appservice.ephemeral_events``) with everyone typing in the room now. The bot
types on Discord when a real Matrix user allowed to relay (``bridge.permissions`` level
relay or more; never the bot or a ghost) starts typing. Discord shows the indicator for
about 10 s after POST /channels/{channel.id}/typing ("Trigger Typing Indicator", Discord API
docs), so one channel gets at most one every TYPING_INTERVAL seconds; stopping sends nothing
(Discord has no call for it: the indicator ends by itself or with the message).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import discord
from mautrix.types import TypingEvent

from ...permissions import Level, permission_level
from .services import M2DServices

log = logging.getLogger("bridge.m2d.typing")
# Seconds between two typing calls for one channel (Discord shows each for ~10 s).
TYPING_INTERVAL = 8.0
# Channel types whose room nobody types in: category (4), forum (15), media (16).
NO_TYPING_CHANNEL_TYPES = frozenset({4, 15, 16})


def started_typing(
    before: Iterable[str], now: Iterable[str], may_type: Callable[[str], bool]
) -> list[str]:
    """The users of ``now`` (user IDs typing in a room) who were not typing ``before`` and
    whose typing goes to Discord (``may_type``); sorted. Pure."""
    earlier = set(before)
    return sorted(user for user in set(now) if user not in earlier and may_type(user))


class ChannelThrottle:
    """At most one call per channel every ``interval`` seconds of ``clock`` (monotonic)."""

    def __init__(
        self, interval: float = TYPING_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._last: dict[int, float] = {}

    def allow(self, channel_id: int) -> bool:
        """Whether a call for ``channel_id`` may go now; if so, it counts as made."""
        now = self.clock()
        last = self._last.get(channel_id)
        if last is not None and now - last < self.interval:
            return False
        self._last[channel_id] = now
        return True


class TypingRelay:
    """Relays the start of Matrix typing in portal rooms to their Discord channels."""

    def __init__(self, services: M2DServices, throttle: ChannelThrottle | None = None) -> None:
        self.services = services
        self.throttle = throttle or ChannelThrottle()
        # Room ID → the users typing there at the room's last m.typing.
        self._typing: dict[str, frozenset[str]] = {}

    def may_type(self, user_id: str) -> bool:
        """A real Matrix user with level relay or more (not the bridge's bot or ghosts)."""
        services = self.services
        if user_id == services.bot.mxid or services.puppets.is_ghost(user_id):
            return False
        return permission_level(user_id, services.options.permissions) >= Level.RELAY

    async def handle(self, event: TypingEvent) -> bool:
        """Handle one ``m.typing``; returns whether the bot typed on Discord.

        Discord errors (no permission in the channel, rate limits) are logged, never raised.
        """
        room_id = str(event.room_id)
        now = frozenset(str(user) for user in event.content.user_ids or [])
        before = self._typing.get(room_id, frozenset())
        if now:
            self._typing[room_id] = now
        else:
            self._typing.pop(room_id, None)
        starters = started_typing(before, now, self.may_type)
        if not starters:
            return False
        portal = await self.services.tables.portal_by_room(room_id)
        if portal is None or not portal.relay_enabled:
            return False
        if portal.channel_type in NO_TYPING_CHANNEL_TYPES:
            return False
        if not self.throttle.allow(portal.discord_id):
            return False
        try:
            await self.services.discord.http.send_typing(portal.discord_id)
        except discord.HTTPException as error:
            log.debug("Could not type in channel %s: %s", portal.discord_id, error)
            return False
        log.debug("%s typing in %s → channel %s", ", ".join(starters), room_id, portal.discord_id)
        return True
