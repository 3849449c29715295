"""The event bus between the emulator's state and its gateway connections.

Every change to the emulated state that real Discord announces on the gateway is emitted here
once, whoever made it (a bot over REST or a user through the control API). Gateway sessions
subscribe and decide, from their intents and guilds, whether to deliver it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntFlag
from typing import Any


class Intents(IntFlag):
    """Gateway intents, as Discord numbers them."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1  # privileged
    GUILD_MODERATION = 1 << 2
    GUILD_EXPRESSIONS = 1 << 3
    GUILD_INTEGRATIONS = 1 << 4
    GUILD_WEBHOOKS = 1 << 5
    GUILD_INVITES = 1 << 6
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8  # privileged
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15  # privileged


PRIVILEGED_INTENTS = Intents.GUILD_MEMBERS | Intents.GUILD_PRESENCES | Intents.MESSAGE_CONTENT


@dataclass(frozen=True)
class GatewayEvent:
    """One dispatch (op 0) as it will be sent: ``t`` is ``name``, ``d`` is ``data``.

    ``guild_id`` limits delivery to sessions whose bot is in that guild (``None``: every
    session); ``intent`` is the intent a session needs to receive it (``None``: always sent);
    ``permissions``, if set, are permission bits of which the session's bot needs at least one in
    ``guild_id`` (GUILD_BAN_ADD: BAN_MEMBERS or VIEW_AUDIT_LOG); ``channel_id`` (messages,
    reactions, typing, pins) limits delivery to bots that may view that channel, as Discord does.
    """

    name: str
    data: dict[str, Any]
    guild_id: int | None = None
    intent: Intents | None = None
    permissions: int | None = None
    channel_id: int | None = None


Listener = Callable[[GatewayEvent], None]


class EventBus:
    """Synchronous fan-out of gateway events to subscribed sessions."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns a function that removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def emit(
        self,
        name: str,
        data: dict[str, Any],
        *,
        guild_id: int | None = None,
        intent: Intents | None = None,
        permissions: int | None = None,
        channel_id: int | None = None,
    ) -> None:
        event = GatewayEvent(name, data, guild_id, intent, permissions, channel_id)
        for listener in list(self._listeners):
            listener(event)
