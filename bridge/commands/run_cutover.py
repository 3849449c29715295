"""Executor of ``cutover``: announce the Matrix space on Discord, make it read-only, undo."""

from __future__ import annotations

import argparse

from ..actions.admin.services import ActionError
from ..migration import cutover
from ..migration.cutover_text import cutover_reply, undo_reply
from .context import CommandContext
from .render import Reply


async def run_cutover(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    guild_id = arguments.guild
    undo = context.line(f"cutover {guild_id} --undo")
    if arguments.undo:
        if arguments.read_only or arguments.message:
            raise ActionError(
                "`--undo` takes no other option: it restores what the cut-over changed."
            )
        outcome = await cutover.undo_cutover(context.services, guild_id, context.actor)
        return Reply(undo_reply(outcome, undo))
    done = await cutover.cutover(
        context.services,
        guild_id,
        read_only=arguments.read_only,
        message=arguments.message or "",
        actor=context.actor,
    )
    again = context.line(f"cutover {guild_id}" + (" --read-only" if arguments.read_only else ""))
    return Reply(cutover_reply(done, again, undo))
