"""Replies of the bridge bot, as text (pure): markdown for the plain body, HTML beside it.

Every reply is an ``m.notice``; its body is the markdown source, readable as it is, and its
``formatted_body`` the same rendered to HTML (mautrix's CommonMark renderer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.markdown import render as markdown_to_html

from ..permissions import Level
from .arguments import UsageError
from .parse import UnknownCommand
from .table import COMMANDS, CommandSpec


@dataclass(frozen=True)
class Reply:
    """A reply in markdown; ``content()`` is the Matrix event content for it."""

    markdown: str

    def content(self) -> dict[str, Any]:
        """``{"msgtype": "m.notice", "body", "format", "formatted_body"}``."""
        return {
            "msgtype": "m.notice",
            "body": self.markdown,
            "format": "org.matrix.custom.html",
            "formatted_body": markdown_to_html(self.markdown).strip(),
        }


def command_line(prefix: str, management_room: bool, text: str) -> str:
    """How to type a command where the sender is: bare in a management room."""
    return text if management_room else f"{prefix} {text}"


def help_reply(level: Level, prefix: str, management_room: bool) -> Reply:
    """The commands ``level`` may use, one line each."""
    allowed = [spec for spec in COMMANDS.values() if level >= spec.level]
    if not allowed:
        return refusal_reply(None, level)
    lines = ["**Commands you may use**", ""]
    for spec in allowed:
        lines.append(f"- `{command_line(prefix, management_room, synopsis(spec))}`: {spec.summary}")
    where = (
        "In this direct chat, type commands without a prefix."
        if management_room
        else f"In a direct chat with me, commands need no `{prefix}` prefix."
    )
    lines += ["", f"Add `--help` to any command for its arguments. {where}"]
    return Reply("\n".join(lines))


def synopsis(spec: CommandSpec) -> str:
    """The command with its arguments, as argparse writes its usage (``--help`` left out):
    ``unbridge [--delete-rooms] target``."""
    usage = " ".join(spec.parser().format_usage().split())
    return usage.removeprefix("usage: ").replace(" [-h]", "")


def refusal_reply(spec: CommandSpec | None, level: Level) -> Reply:
    """A sender whose level is too low: what they may not do and what decides it."""
    if level is Level.NONE:
        return Reply(
            "You may not use this bridge: `bridge.permissions` in its config gives you no "
            "level. Ask the bridge's admin to add you."
        )
    needed = spec.level.name.lower() if spec else "user"
    what = f"`{spec.name}`" if spec else "commands"
    return Reply(
        f"You may not use {what}: it needs the `{needed}` level in `bridge.permissions`, and "
        f"yours is `{level.name.lower()}`. Send `help` for what you may use."
    )


def usage_reply(error: UsageError) -> Reply:
    """Bad or missing arguments: the problem, then the command's usage."""
    usage = f"\n\n```\n{error.usage}\n```" if error.usage else ""
    return Reply(f"⚠️ {error}{usage}\n\nAdd `--help` for the details.")


def help_text_reply(text: str) -> Reply:
    """A command's ``--help``, as argparse wrote it."""
    return Reply(f"```\n{text}\n```")


def unknown_reply(error: UnknownCommand, prefix: str, management_room: bool) -> Reply:
    """An unknown command, with the nearest known one if any is close."""
    guess = (
        f" Did you mean `{command_line(prefix, management_room, error.suggestion)}`?"
        if error.suggestion
        else ""
    )
    help_line = command_line(prefix, management_room, "help")
    return Reply(f"Unknown command `{error.name}`.{guess} Send `{help_line}` for the list.")


def error_reply(message: str) -> Reply:
    """An action that could not be done; the message says why and what to do."""
    return Reply(f"⚠️ {message}")
