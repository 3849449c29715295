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
from ..stats import TO_MATRIX


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


async def counting_failures(
    services: RelayServices, name: str, action: Callable[..., Awaitable[None]], *args: Any
) -> None:
    """Run an action; a failure is counted for the metrics (``on_message`` counts its own,
    with the guild's last error for ``status``), then raised for the queue to log."""
    try:
        await action(services, *args)
    except Exception as error:
        if name != "on_message":
            guild_id = getattr(args[0], "guild_id", None)
            services.stats.failed(guild_id, f"{name}: {error}", direction=TO_MATRIX, error=error)
        raise


def register_message_handlers(client: discord.Client, services: RelayServices) -> None:
    """Attach every message handler to the client, bound to the bridge's services."""
    for name, action in HANDLERS.items():

        async def handler(
            *args: Any, _action: Callable[..., Awaitable[None]] = action, _name: str = name
        ) -> None:
            key = queue_key(client, args[0])
            job = functools.partial(counting_failures, services, _name, _action, *args)
            services.queues.submit(key, job)

        handler.__name__ = name
        client.event(handler)
