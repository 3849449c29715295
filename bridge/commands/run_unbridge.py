"""Executors of ``unbridge`` and ``delete-portal``.

A command sent in one of the rooms it unbridges is answered before the work starts, and not
after (the executor returns None): once the bot has left the room, no reply can reach it.
"""

from __future__ import annotations

import argparse

from ..actions.admin import unbridging
from ..actions.admin.unbridging import UnbridgeOutcome
from ..plural import rooms_and_spaces
from .context import CommandContext
from .render import Reply


def _fate(rooms: int, deleted: bool) -> str:
    """What happens to the rooms, agreeing with their number (pure)."""
    one = rooms == 1
    if deleted:
        return f"emptied, {'its' if one else 'their'} aliases removed"
    if one:
        return "kept as an archive, with its members and history"
    return "kept as archives, with their members and history"


def outcome_text(outcome: UnbridgeOutcome) -> str:
    """The reply to an unbridging, in markdown (pure)."""
    what = "Guild" if outcome.kind == "guild" else "Channel"
    fate = f"{rooms_and_spaces(outcome.rooms)} {_fate(outcome.rooms, outcome.deleted)}"
    if outcome.deleted and outcome.not_removed:
        fate += (
            f"; Matrix let nobody remove {', '.join(outcome.not_removed)} (a room's creator "
            "stays in it), so the bridge could not empty every room"
        )
    text = f"{what} **{outcome.name}** ({outcome.target_id}) is no longer bridged: {fate}."
    if outcome.bot_stayed:
        text += (
            f" The bridge bot stays in {rooms_and_spaces(outcome.bot_stayed)} that no one else "
            "has joined yet (a room everyone left cannot be joined again, not even with an "
            "invite): accept their invites; the bot's presence there changes nothing else."
        )
    if outcome.kind == "channel":
        text += " Syncs of its guild leave it out from now on."
    return text


def announce_text(name: str, target_id: int, rooms: int, delete_rooms: bool) -> str:
    """The reply sent before unbridging the room the command is in (pure)."""
    fate = _fate(rooms, delete_rooms)
    if rooms == 1:
        return (
            f"Unbridging **{name}** ({target_id}) now: this room will be {fate}, and the bridge "
            "will leave it."
        )
    return (
        f"Unbridging **{name}** ({target_id}) now: {rooms_and_spaces(rooms)}, this one "
        f"included, will be {fate}, and the bridge will leave them."
    )


async def _announce_if_inside(context: CommandContext, target_id: int, delete_rooms: bool) -> bool:
    """Reply now when the command's room is one of those about to be left (True then)."""
    target = await unbridging.find_target(context.services, target_id)
    if context.room_id not in target.room_ids:
        return False
    text = announce_text(target.name, target_id, len(target.room_ids), delete_rooms)
    await context.reply(Reply(text))
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
