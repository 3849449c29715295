"""The executor of each command: parse done, level checked; runs the action, renders."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from . import run_bridging, run_info
from .context import CommandContext
from .render import Reply

Executor = Callable[[CommandContext, argparse.Namespace], Awaitable[Reply]]

EXECUTORS: dict[str, Executor] = {
    "help": run_info.run_help,
    "version": run_info.run_version,
    "ping": run_info.run_ping,
    "guilds": run_info.run_guilds,
    "bridge": run_bridging.run_bridge,
    "sync": run_bridging.run_sync,
    "invite": run_bridging.run_invite,
}
