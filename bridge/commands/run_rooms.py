"""Executors of the commands that act on the room they are sent in: ``bridge-room``,
``set-relay`` and ``unset-relay``."""

from __future__ import annotations

import argparse

from ..actions.admin import relay, rooms
from .context import CommandContext
from .render import Reply


async def run_bridge_room(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    outcome = await rooms.bridge_room(
        context.services, arguments.channel, context.room_id, context.actor
    )
    guild = context.services.discord.get_guild(outcome.guild_id)
    where = f" of **{guild.name}**" if guild else ""
    if outcome.already_bridged:
        return Reply(
            f"This room was already bridged to **#{outcome.name}** (`{outcome.channel_id}`)"
            f"{where}; synced it again."
        )
    return Reply(
        f"This room is now bridged to **#{outcome.name}** (`{outcome.channel_id}`){where}: "
        "Discord's messages arrive here and yours go there. Its members stay; Discord users "
        "join as they speak."
    )


async def run_set_relay(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    outcome = await relay.set_relay(context.services, context.room_id)
    text = (
        f"Matrix messages in this room go to **#{outcome.name}** on Discord again."
        if outcome.changed
        else f"Matrix messages in this room already go to **#{outcome.name}** on Discord."
    )
    return Reply(text)


async def run_unset_relay(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    outcome = await relay.unset_relay(context.services, context.room_id)
    state = "No longer relaying" if outcome.changed else "Already not relaying"
    return Reply(
        f"{state} Matrix messages from this room to **#{outcome.name}** on Discord; Discord's "
        f"messages still arrive here. `{context.line('set-relay')}` turns it back on."
    )
