"""Reading DiscordChatExporter JSON exports (``--markdown false --utc``) for the import.

:func:`find_exports` picks the export files out of files and folders, parents before their
threads; :func:`read_export` reads one into an :class:`ExportedChannel` whose messages are
the same snapshots the live relay makes, so that the same converters send them. Bad input
is an :class:`ExportError` that names the file and says what is wrong, never a traceback.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .export_fields import channel_info, guild_info, import_item, pinned_ids
from .export_values import InvalidField, MediaFiles, obj, opt_snowflake
from .model import ExportedChannel, ImportItem

log = logging.getLogger(__name__)

# What marks a DCE JSON export: these top-level keys, written before the messages.
EXPORT_KEYS = ("guild", "channel", "messages")
# DCE writes guild, channel, dateRange and exportedAt before the messages: a few KB.
HEADER_BYTES = 256 * 1024
MEDIA_FOLDER_SUFFIX = "_Files"
_DIGITS = re.compile(r"(\d+)")


class ExportError(Exception):
    """A file that is not a usable DiscordChatExporter JSON export."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class _Header:
    channel_id: int
    parent_id: int | None


def read_export(path: Path, *, media_roots: Iterable[Path] = ()) -> ExportedChannel:
    """One export file; messages oldest first, each with its reactions and local files.

    Local paths (``--media``) count only inside the file's folder or ``media_roots`` (give
    the ``--media-dir`` folder there when it was outside the export's folder); others are
    listed in ``unresolved_files`` and their text is left where the URL was.
    """
    data = _load(path)
    media = MediaFiles(path.parent, tuple(media_roots))
    try:
        guild = guild_info(obj(data["guild"], "guild"), media)
        channel = channel_info(obj(data["channel"], "channel"), guild.id or None)
        raw_messages: list[Any] = data["messages"]
        del data  # only the messages' dicts stay, and each goes once converted
        items: list[ImportItem] = []
        for index in range(len(raw_messages)):
            raw, raw_messages[index] = raw_messages[index], None
            where = f"messages[{index}]"
            items.append(import_item(obj(raw, where), where, channel, media))
    except InvalidField as error:
        raise ExportError(path, str(error)) from None
    items.sort(key=lambda item: item.message.id)
    if media.unresolved:
        first = next(iter(media.unresolved))
        log.warning(
            "%s: %d local file(s) missing or outside the export's folder (first: %s)",
            path,
            len(media.unresolved),
            first,
        )
    return ExportedChannel(
        guild=guild,
        channel=channel,
        items=tuple(items),
        pinned_ids=pinned_ids(items),
        source=path,
        unresolved_files=tuple(media.unresolved),
    )


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("r", encoding="utf-8-sig") as file:
            data = json.load(file)
    except FileNotFoundError:
        raise ExportError(path, "no such file") from None
    except IsADirectoryError:
        raise ExportError(path, "a folder, not an export file") from None
    except OSError as error:
        raise ExportError(path, f"cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ExportError(path, "not UTF-8 text, so not a JSON export") from None
    except json.JSONDecodeError as error:
        raise ExportError(
            path, f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise ExportError(path, "JSON nested too deeply") from None
    problem = _export_problem(data)
    if problem is not None:
        raise ExportError(path, problem)
    return data


def _export_problem(data: Any) -> str | None:
    """Why top-level JSON is not a DCE export, or None if it looks like one."""
    if not isinstance(data, dict):
        return "not a DiscordChatExporter JSON export (the top level is not an object)"
    missing = [key for key in EXPORT_KEYS if key not in data]
    if missing:
        return (
            "not a DiscordChatExporter JSON export (no "
            + ", ".join(f'"{key}"' for key in missing)
            + "; export with --format Json)"
        )
    for key, kind, name in (("guild", dict, "an object"), ("channel", dict, "an object")):
        if not isinstance(data[key], kind):
            return f'"{key}" is not {name}'
    if not isinstance(data["messages"], list):
        return '"messages" is not an array'
    return None


# --- finding exports ---------------------------------------------------------------------


def find_exports(paths: Iterable[Path]) -> list[Path]:
    """The export files among ``paths`` (files, and folders searched for ``*.json``).

    Folders: ``*_Files`` media folders and JSON files that are not exports (told by their
    top-level keys) are skipped. A file named directly must be an export (ExportError).
    Order: every channel before the threads whose parent (``channel.categoryId``) is also
    among the exports; otherwise by path, numbers in names compared as numbers, so that
    ``[part 2]`` comes before ``[part 10]`` of a partitioned export. Each file once.
    """
    found: dict[Path, _Header] = {}
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*.json")):
                relative = candidate.relative_to(path).parts[:-1]
                if any(part.endswith(MEDIA_FOLDER_SUFFIX) for part in relative):
                    continue
                if candidate.resolve() in found or not candidate.is_file():
                    continue
                try:
                    found[candidate.resolve()] = _read_header(candidate)
                except ExportError as error:
                    log.info("Skipping %s", error)
        elif path.resolve() not in found:
            if not path.exists():
                raise ExportError(path, "no such file or folder")
            found[path.resolve()] = _read_header(path)
    exported = {header.channel_id for header in found.values()}

    def order(item: tuple[Path, _Header]) -> tuple[bool, list[str | int]]:
        path, header = item
        is_child = header.parent_id in exported and header.parent_id != header.channel_id
        return is_child, _natural(str(path))

    return [path for path, _ in sorted(found.items(), key=order)]


def _natural(text: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(text)]


def _read_header(path: Path) -> _Header:
    """The channel and parent ids of an export, from the top of the file when it is laid
    out as DCE writes it (messages last), else from the whole file."""
    try:
        with path.open("rb") as file:
            head = file.read(HEADER_BYTES)
    except OSError as error:
        raise ExportError(path, f"cannot be read: {error.strerror or error}") from None
    fields = _scan_top_level(head)
    data: Mapping[str, Any] = fields if fields is not None else _load(path)
    problem = _export_problem(data)
    if problem is not None:
        raise ExportError(path, problem)
    try:
        channel = obj(data["channel"], "channel")
        channel_id = opt_snowflake(channel, "id", "channel")
        if channel_id is None:
            raise InvalidField("channel.id", "missing")
        return _Header(channel_id, opt_snowflake(channel, "categoryId", "channel"))
    except InvalidField as error:
        raise ExportError(path, str(error)) from None


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _scan_top_level(head: bytes) -> dict[str, Any] | None:
    """The top-level fields before ``"messages"`` (which stands for an empty array), read
    from the first bytes of a file.

    None when that is not possible (messages before the guild or channel, a cut value, not
    JSON): the caller then reads the whole file. An object that ends without ``"messages"`` gives its
    fields, which the export check then refuses.
    """
    decoder = json.JSONDecoder()
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    fields: dict[str, Any] = {}
    position = _skip(text, 0)
    if not text.startswith("{", position):
        return None
    position += 1
    try:
        while True:
            position = _skip(text, position)
            if text.startswith("}", position):
                return fields
            key, position = decoder.raw_decode(text, position)
            position = _skip(text, position)
            if not isinstance(key, str) or not text.startswith(":", position):
                return None
            position = _skip(text, position + 1)
            if key == "messages":
                if not text.startswith("[", position) or not {"guild", "channel"} <= set(fields):
                    return None  # not laid out as DCE does: the whole file tells
                fields["messages"] = []
                return fields
            fields[key], position = decoder.raw_decode(text, position)
            position = _skip(text, position)
            if text.startswith(",", position):
                position += 1
            elif not text.startswith("}", position):
                return None
    except (json.JSONDecodeError, RecursionError):
        return None
