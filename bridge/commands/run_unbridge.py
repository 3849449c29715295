"""Executors of ``unbridge`` and ``delete-portal``.

A command sent in one of the rooms it unbridges is answered before the work starts, and not
after (the executor returns None): once the bot has left the room, no reply can reach it.
"""

from __future__ import annotations

import argparse

from ..actions.admin import unbridging
from ..actions.admin.unbridging import UnbridgeOutcome
from .context import CommandContext
from .render import Reply


def outcome_text(outcome: UnbridgeOutcome) -> str:
    """The reply to an unbridging, in markdown (pure)."""
    what = "Guild" if outcome.kind == "guild" else "Channel"
    count = f"{outcome.rooms} room{'' if outcome.rooms == 1 else 's'} (spaces included)"
    if outcome.deleted:
        fate = f"{count} emptied, their aliases removed"
    else:
        fate = f"{count} kept as archives, with their members and history"
    text = f"{what} **{outcome.name}** ({outcome.target_id}) is no longer bridged: {fate}."
    if outcome.kind == "channel":
        text += " Syncs of its guild leave it out from now on."
    return text


async def _announce_if_inside(context: CommandContext, target_id: int, delete_rooms: bool) -> bool:
    """Reply now when the command's room is one of those about to be left (True then)."""
    target = await unbridging.find_target(context.services, target_id)
    if context.room_id not in target.room_ids:
        return False
    fate = (
        "emptied (everyone removed, aliases too)"
        if delete_rooms
        else "kept as archives, with their members and history"
    )
    await context.reply(
        Reply(
            f"Unbridging **{target.name}** ({target_id}) now: {len(target.room_ids)} rooms and "
            f"spaces, this one included, will be {fate}, and the bridge will leave them."
        )
    )
    return True


async def run_unbridge(context: CommandContext, arguments: argparse.Namespace) -> Reply | None:
    inside = await _announce_if_inside(context, arguments.target, arguments.delete_rooms)
    outcome = await unbridging.unbridge(
        context.services,
        arguments.target,
        delete_rooms=arguments.delete_rooms,
        actor=context.actor,
    )
    return None if inside else Reply(outcome_text(outcome))


async def run_delete_portal(context: CommandContext, arguments: argparse.Namespace) -> Reply | None:
    target_id = await unbridging.target_of_room(context.services, context.room_id)
    inside = await _announce_if_inside(context, target_id, True)
    outcome = await unbridging.unbridge(
        context.services, target_id, delete_rooms=True, actor=context.actor
    )
    return None if inside else Reply(outcome_text(outcome))
