"""Executor of ``migration <guild>``: where the guild's migration to Matrix stands."""

from __future__ import annotations

import argparse

from ..migration.progress import migration_report
from ..migration.progress_text import matrix_reply_text
from .context import CommandContext
from .render import Reply


async def run_migration(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    """Linked vs active members (with the names of those not linked), the share of messages
    sent from Matrix per channel, the week's trend and the cut-over. Raises ActionError (404)
    for a guild not bridged (answered as an error reply)."""
    report = await migration_report(context.services, arguments.guild)
    return Reply(matrix_reply_text(report))
