"""The executor of each command: parse done, level checked; runs the action, renders."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from . import run_bridging, run_import, run_info, run_link, run_rooms, run_status, run_unbridge
from .context import CommandContext
from .render import Reply
from .run_cutover import run_cutover
from .run_handover import run_handover
from .run_migration import run_migration

# None: the executor posted its reply itself (``context.reply``), to edit it as it goes.
Executor = Callable[[CommandContext, argparse.Namespace], Awaitable[Reply | None]]

EXECUTORS: dict[str, Executor] = {
    "help": run_info.run_help,
    "version": run_info.run_version,
    "ping": run_info.run_ping,
    "guilds": run_info.run_guilds,
    "link": run_link.run_link,
    "unlink": run_link.run_unlink,
    "bridge": run_bridging.run_bridge,
    "sync": run_bridging.run_sync,
    "invite": run_bridging.run_invite,
    "bridge-room": run_rooms.run_bridge_room,
    "set-relay": run_rooms.run_set_relay,
    "unset-relay": run_rooms.run_unset_relay,
    "unbridge": run_unbridge.run_unbridge,
    "delete-portal": run_unbridge.run_delete_portal,
    "handover": run_handover,
    "cutover": run_cutover,
    "status": run_status.run_status,
    "migration": run_migration,
    "import": run_import.run_import,
    "cancel": run_import.run_cancel,
}
