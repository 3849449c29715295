"""Finding a command in a Matrix message and parsing its arguments (pure).

In a management room (a direct chat with the bridge bot) every message is a command; in any
other room a command starts with ``bridge.command_prefix`` (``!discord`` by default).
"""

from __future__ import annotations

import argparse
import difflib
import shlex
from dataclasses import dataclass

from .arguments import UsageError
from .table import COMMANDS, CommandSpec


@dataclass(frozen=True)
class Invocation:
    """A command as typed: its name (lower case) and its arguments, split like a shell."""

    name: str
    argv: list[str]


class UnknownCommand(Exception):
    """No such command; ``suggestion`` is the nearest known name, if any is close."""

    def __init__(self, name: str, suggestion: str | None) -> None:
        super().__init__(name)
        self.name = name
        self.suggestion = suggestion


def find_invocation(body: str, *, prefix: str, management_room: bool) -> Invocation | None:
    """The command in a message body, or None if the message is not a command.

    Raises :class:`UsageError` for an unclosed quote.
    """
    text = body.strip()
    lowered = text.lower()
    prefix = prefix.strip()
    if prefix and lowered.startswith(prefix.lower()):
        rest = text[len(prefix) :]
        if rest and not rest[0].isspace():
            return None  # "!discordx" is not ours
        text = rest.strip()
    elif not management_room:
        return None
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise UsageError(f"cannot read the arguments: {error}", "") from error
    if not words:
        return Invocation("help", [])
    return Invocation(words[0].lower(), words[1:])


def command_spec(name: str) -> CommandSpec:
    """The spec of a command; raises :class:`UnknownCommand` with the nearest name."""
    spec = COMMANDS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.6)
        raise UnknownCommand(name, close[0] if close else None)
    return spec


def parse_arguments(spec: CommandSpec, argv: list[str], prefix: str = "") -> argparse.Namespace:
    """The command's arguments; raises ``UsageError`` (naming the bad argument) or
    ``HelpRequested`` (for ``--help``)."""
    return spec.parser(prefix).parse_args(argv)
