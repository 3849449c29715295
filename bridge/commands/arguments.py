"""Argument parsing for bot commands: argparse, made to raise instead of exiting.

argparse gives every command ``--help``, and errors that name the bad argument; here they
become exceptions that the door turns into a reply.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from typing import NoReturn

_MXID = re.compile(r"^@[^:\s]+:[A-Za-z0-9.\-\[\]:]+$")


class UsageError(Exception):
    """The arguments are wrong; ``str()`` says which and how, ``usage`` is the command's."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class HelpRequested(Exception):  # noqa: N818 - a request, not an error
    """``--help`` was given; ``text`` is the command's help."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class CommandArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`UsageError` and :class:`HelpRequested`."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("exit_on_error", False)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.format_usage().strip())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or "invalid arguments", self.format_usage().strip())

    def print_help(self, file: object = None) -> None:
        raise HelpRequested(self.format_help().strip())

    def parse_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def,override]
        try:
            return super().parse_args(args, namespace)
        except argparse.ArgumentError as error:
            raise UsageError(str(error), self.format_usage().strip()) from error


def snowflake(text: str) -> int:
    """A Discord ID (snowflake): a positive decimal number of at most 20 digits."""
    if not text.isdigit() or len(text) > 20 or int(text) == 0:
        raise argparse.ArgumentTypeError(
            f"expected a Discord ID (a number like 1234567890123456789), got {text!r}"
        )
    return int(text)


def mxid(text: str) -> str:
    """A Matrix user ID, ``@localpart:server``."""
    if not _MXID.match(text):
        raise argparse.ArgumentTypeError(
            f"expected a Matrix user ID like @alice:example.com, got {text!r}"
        )
    return text


def date(text: str) -> datetime:
    """A UTC date (``YYYY-MM-DD``) or ISO time."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2024-01-31, got {text!r}"
        ) from error
