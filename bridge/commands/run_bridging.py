"""Executors of the commands that bridge and sync guilds and invite users."""

from __future__ import annotations

import argparse

from ..actions.admin import bridging
from ..plural import counted, rooms_and_spaces
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
            f"Bridged **{outcome.name}** as the space {link}: "
            f"{rooms_and_spaces(outcome.rooms_created)} created."
        )
    if outcome.invited:
        text += " Invited to the space: " + ", ".join(outcome.invited) + "."
    return Reply(text)


async def run_sync(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    outcome = await bridging.sync_guild(context.services, arguments.guild)
    return Reply(
        f"Synced **{outcome.name}**: {counted(outcome.rooms_created, 'room')} created, "
        f"{counted(outcome.state_events_sent, 'state event')} sent."
    )


def places(rooms: tuple[str, ...], space_room_id: str) -> str:
    """ "the space and 3 rooms", "the space", "1 room" (pure)."""
    others = counted(len([r for r in rooms if r != space_room_id]), "room")
    if space_room_id in rooms:
        return "the space" if others.startswith("0 ") else f"the space and {others}"
    return others


def invite_text(outcome: bridging.InviteOutcome) -> str:
    """The reply to ``invite``: where the user was invited now, where they already were."""
    space = outcome.space_room_id
    guild = f"**{outcome.name}**"
    parts = []
    if outcome.invited:
        parts.append(f"Invited {outcome.user} to {places(outcome.invited, space)} of {guild}")
    already = [
        f"{what} {places(rooms, space)}"
        for what, rooms in (
            ("already invited to", outcome.already_invited),
            ("already in", outcome.already_joined),
        )
        if rooms
    ]
    if already:
        who = "they were" if outcome.invited else f"{outcome.user} was"
        where = "" if outcome.invited else f" of {guild}"
        parts.append(f"{who} {' and '.join(already)}{where}")
    text = "; ".join(parts) + "."
    if not outcome.invited:
        text += " Nothing to do."
    return text[:1].upper() + text[1:]


async def run_invite(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    outcome = await bridging.invite(context.services, arguments.user, arguments.guild)
    return Reply(invite_text(outcome))
