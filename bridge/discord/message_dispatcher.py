"""Routing Discord message events (messages, edits, deletions, reactions, typing, pins).

Each handler queues its action, before any await, in the queue of the event's channel, so
events are handled in the order Discord sent them; a failed action is logged and the queue
goes on, so one bad message never stops the relay.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from ..actions.d2m import channel_events, messages, reactions
from ..actions.d2m.services import RelayServices


def queue_key(client: discord.Client, event: Any) -> int:
    """The queue an event belongs to: its channel's, or for a thread its parent's."""
    channel_id = getattr(event, "channel_id", None)
    if channel_id is None:
        channel = getattr(event, "channel", event)
        channel_id = channel.id
    channel = client.get_channel(channel_id)
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return channel.parent_id
    return channel_id


HANDLERS: dict[str, Callable[..., Awaitable[None]]] = {
    "on_message": messages.on_message,
    "on_raw_message_edit": messages.on_raw_message_edit,
    "on_raw_message_delete": messages.on_raw_message_delete,
    "on_raw_bulk_message_delete": messages.on_raw_bulk_message_delete,
    "on_raw_reaction_add": reactions.on_raw_reaction_add,
    "on_raw_reaction_remove": reactions.on_raw_reaction_remove,
    "on_raw_reaction_clear": reactions.on_raw_reaction_clear,
    "on_raw_reaction_clear_emoji": reactions.on_raw_reaction_clear_emoji,
    "on_raw_typing": channel_events.on_raw_typing,
    "on_guild_channel_pins_update": channel_events.on_guild_channel_pins_update,
}


def register_message_handlers(client: discord.Client, services: RelayServices) -> None:
    """Attach every message handler to the client, bound to the bridge's services."""
    for name, action in HANDLERS.items():

        async def handler(*args: Any, _action: Callable[..., Awaitable[None]] = action) -> None:
            key = queue_key(client, args[0])
            services.queues.submit(key, functools.partial(_action, services, *args))

        handler.__name__ = name
        client.event(handler)
