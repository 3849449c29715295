"""Executor of ``handover <guild>``: the community's own admins get its rooms."""

from __future__ import annotations

import argparse

from ..migration.handover import HandedRoom, HandoverOutcome, handover
from .context import CommandContext
from .render import Reply
from .run_info import matrix_to

CREATORS_CAN = (
    "In rooms where they are creators (room version 12 and later) they have every power, "
    "for good, like the bridge bot: change any power level (the bot's ghosts' too), the "
    "settings, upgrade the room; nobody can lower theirs, and the rooms stay theirs when the "
    "bridge leaves."
)
POWER_CAN = (
    "In rooms at power level 100 (room versions before 12) they can do what the bridge bot "
    "does there: settings, kicks, bans, power levels up to 100, except lowering the bot or "
    "others at 100."
)
WHILE_BRIDGED = (
    "While the guild is bridged, Discord users' levels follow their Discord roles: a change "
    "to a ghost's level is set back at the next sync. After `unbridge`, nothing needs the bridge."
)


def room_line(room: HandedRoom, server: str) -> str:
    """One room's line of the reply, in markdown (pure)."""
    name = f"**{room.name}**"
    if room.method == "upgrade" and room.new_room_id:
        link = f"[{room.new_room_id}]({matrix_to(room.new_room_id, server)})"
        return (
            f"{name}: upgraded to a new room (version {room.version}) with the owners as "
            f"creators: {link}; the old room points to it"
        )
    if room.method == "power":
        return f"{name}: the owners got power level 100 (room version {room.version})"
    if room.method == "creators":
        return f"{name}: the owners are its creators already"
    if room.method == "done":
        how = "upgraded" if room.earlier == "upgrade" else "power level 100"
        return f"{name}: handed over before ({how}), nothing to do"
    return f"{name}: not handed over: {room.error}"


def outcome_text(outcome: HandoverOutcome, server: str) -> str:
    """The reply to ``handover``, in markdown (pure)."""
    lines = [
        f"Handed the rooms of **{outcome.guild_name}** ({outcome.guild_id}) over to "
        f"{', '.join(outcome.owners)}:"
    ]
    lines += [f"- {room_line(room, server)}" for room in outcome.rooms]
    methods = {room.earlier or room.method for room in outcome.rooms}
    if methods & {"upgrade", "creators"}:
        lines.append(CREATORS_CAN)
    if methods & {"power", "failed"}:
        lines.append(POWER_CAN)
    if "failed" in methods:
        lines.append("Send `handover` again to retry the rooms not handed over.")
    lines.append(WHILE_BRIDGED)
    return "\n".join(lines)


async def run_handover(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    outcome = await handover(context.services, arguments.guild, context.actor)
    return Reply(outcome_text(outcome, context.services.config["homeserver.domain"]))
