"""Executors of the commands that bridge and sync guilds and invite users."""

from __future__ import annotations

import argparse

from ..actions.admin import bridging
from . import run_import
from .context import CommandContext
from .render import Reply
from .run_info import matrix_to


async def run_bridge(context: CommandContext, arguments: argparse.Namespace) -> Reply | None:
    if arguments.import_history:
        return await run_import.bridge_and_import(context, arguments.guild)
    outcome = await bridging.bridge_guild(context.services, arguments.guild, context.actor)
    server = context.services.config["homeserver.domain"]
    link = f"[{outcome.space_room_id}]({matrix_to(outcome.space_room_id, server)})"
    if outcome.already_bridged:
        text = f"**{outcome.name}** was already bridged; synced it again. Its space: {link}."
    else:
        text = (
            f"Bridged **{outcome.name}** as the space {link}: {outcome.rooms_created} rooms "
            "and spaces created."
        )
    if outcome.invited:
        text += " Invited to the space: " + ", ".join(outcome.invited) + "."
    return Reply(text)


async def run_sync(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    outcome = await bridging.sync_guild(context.services, arguments.guild)
    return Reply(
        f"Synced **{outcome.name}**: {outcome.rooms_created} rooms created, "
        f"{outcome.state_events_sent} state events sent."
    )


async def run_invite(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    outcome = await bridging.invite(context.services, arguments.user, arguments.guild)
    return Reply(
        f"Invited {outcome.user} to the space of **{outcome.name}** and its public rooms "
        f"({outcome.rooms} in all)."
    )
