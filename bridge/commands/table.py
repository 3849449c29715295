"""Every bot command: its name, the level it needs, its one-line summary and its arguments.

Levels come from ``bridge.permissions`` (see ``bridge/permissions.py``). ``help`` shows a
sender only the commands their level allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..permissions import Level
from .arguments import CommandArgumentParser, date, mxid, snowflake


@dataclass(frozen=True)
class CommandSpec:
    """One command. ``arguments`` adds its arguments to a fresh parser."""

    name: str
    level: Level
    summary: str
    arguments: Callable[[CommandArgumentParser], None] = lambda parser: None
    # Acts on the room it is sent in (so not from a management room about another room).
    in_room: bool = False

    def parser(self, prefix: str = "") -> CommandArgumentParser:
        """A parser for this command; ``prefix`` (e.g. ``!discord``) shows in its usage."""
        prog = f"{prefix} {self.name}".strip()
        parser = CommandArgumentParser(prog=prog, description=self.summary)
        self.arguments(parser)
        return parser


def _guild(parser: CommandArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "guild",
        type=snowflake,
        nargs=None if required else "?",
        help="the Discord guild (server) ID; see `guilds`",
    )


def _bridge(parser: CommandArgumentParser) -> None:
    _guild(parser)
    parser.add_argument(
        "--import", dest="import_history", action="store_true", help="import its history first"
    )


def _bridge_room(parser: CommandArgumentParser) -> None:
    parser.add_argument("channel", type=snowflake, help="the Discord channel ID to link here")


def _unbridge(parser: CommandArgumentParser) -> None:
    parser.add_argument("target", type=snowflake, help="a guild ID or a channel ID")
    parser.add_argument(
        "--delete-rooms",
        action="store_true",
        help="empty the rooms and remove their aliases instead of keeping them as archives",
    )


def _import(parser: CommandArgumentParser) -> None:
    parser.add_argument("target", type=snowflake, help="a guild ID or a channel ID")
    parser.add_argument(
        "--since", type=date, metavar="DATE", help="only messages from this date on (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--replace-rooms",
        action="store_true",
        help="give channels whose rooms already have live messages a new room (tombstone)",
    )


def _cancel(parser: CommandArgumentParser) -> None:
    parser.add_argument(
        "target", type=snowflake, nargs="?", help="the guild or channel whose import to stop"
    )


def _link(parser: CommandArgumentParser) -> None:
    parser.add_argument(
        "code",
        nargs="?",
        help="a code from /matrix link on Discord; leave out (in a direct chat) for a code to "
        "type there",
    )


def _cutover(parser: CommandArgumentParser) -> None:
    _guild(parser)
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="also deny @everyone Send Messages (and threads) on Discord; Matrix still relays",
    )
    parser.add_argument(
        "--message", metavar="TEXT", help="your own words, first in the announcement"
    )
    parser.add_argument(
        "--undo",
        action="store_true",
        help="restore @everyone's permissions exactly and unpin the announcements",
    )


def _invite(parser: CommandArgumentParser) -> None:
    parser.add_argument("user", type=mxid, help="the Matrix user to invite")
    _guild(parser, required=False)


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("help", Level.RELAY, "Show the commands you may use"),
        CommandSpec("version", Level.RELAY, "Show the bridge's version"),
        CommandSpec(
            "link",
            Level.RELAY,
            "Link your Matrix account to your Discord account with a one-time code",
            _link,
        ),
        CommandSpec("unlink", Level.RELAY, "Unlink your Matrix account from your Discord account"),
        CommandSpec(
            "ping", Level.USER, "Round trips to Discord's gateway, the homeserver and the database"
        ),
        CommandSpec("guilds", Level.USER, "List the guilds the bot is in, bridged or not"),
        CommandSpec("bridge", Level.ADMIN, "Bridge a guild as a Matrix space", _bridge),
        CommandSpec(
            "bridge-room",
            Level.ADMIN,
            "Link this Matrix room to a Discord channel instead of creating a room",
            _bridge_room,
            in_room=True,
        ),
        CommandSpec("unbridge", Level.ADMIN, "Stop bridging a guild or a channel", _unbridge),
        CommandSpec(
            "handover",
            Level.ADMIN,
            "Give a guild's rooms and spaces to bridge.room_owners (room upgrade or power 100)",
            _guild,
        ),
        CommandSpec(
            "sync", Level.ADMIN, "Sync a guild's space, rooms and power levels now", _guild
        ),
        CommandSpec("import", Level.ADMIN, "Import a guild's or a channel's history", _import),
        CommandSpec("cancel", Level.ADMIN, "Stop a running import (resumable later)", _cancel),
        CommandSpec(
            "status",
            Level.ADMIN,
            "Rooms, relayed messages, errors, imports and the gateway, per guild",
            lambda parser: _guild(parser, required=False),
        ),
        CommandSpec(
            "migration",
            Level.ADMIN,
            "How far a guild moved to Matrix: linked members, messages from Matrix, the trend",
            _guild,
        ),
        CommandSpec(
            "cutover",
            Level.ADMIN,
            "Announce the Matrix space in every bridged Discord channel and pin it; "
            "optionally make Discord read-only",
            _cutover,
        ),
        CommandSpec(
            "invite",
            Level.ADMIN,
            "Invite a Matrix user to a guild's space and its public rooms",
            _invite,
        ),
        CommandSpec(
            "set-relay",
            Level.ADMIN,
            "Relay this room's Matrix messages to Discord (the default)",
            in_room=True,
        ),
        CommandSpec(
            "unset-relay",
            Level.ADMIN,
            "Stop relaying this room's Matrix messages to Discord (Discord still reaches Matrix)",
            in_room=True,
        ),
        CommandSpec(
            "delete-portal",
            Level.ADMIN,
            "Unbridge this room, empty it and remove its aliases",
            in_room=True,
        ),
    )
}

# Below this level every command is refused (the sender may not use the bridge at all).
LOWEST_LEVEL = min(spec.level for spec in COMMANDS.values())
