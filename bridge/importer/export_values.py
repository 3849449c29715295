"""Typed access to the values of a DiscordChatExporter JSON export, and its local files.

A malformed value raises :class:`InvalidField` with its JSON path, which ``export_reader``
turns into an ``ExportError`` naming the file.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DRIVE = re.compile(r"^[A-Za-z]:/")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MILLISECOND = datetime.timedelta(milliseconds=1)


class InvalidField(Exception):
    """A field of the export is missing or of the wrong kind (``where`` is its JSON path)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where


# --- typed field access ------------------------------------------------------------------


def obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidField(where, "not an object" if value is not None else "missing")
    return value


def items(parent: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """An optional array (DCE always writes them, older versions and other tools may not)."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidField(f"{where}.{key}", "not an array")
    return value


def objects(parent: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    return [obj(v, f"{where}.{key}[{i}]") for i, v in enumerate(items(parent, key, where))]


def snowflake(parent: Mapping[str, Any], key: str, where: str) -> int:
    value = opt_snowflake(parent, key, where)
    if value is None:
        raise InvalidField(f"{where}.{key}", "missing")
    return value


def opt_snowflake(parent: Mapping[str, Any], key: str, where: str) -> int | None:
    """An id written as a string (or a number); empty, null or "0" is none."""
    value = parent.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidField(f"{where}.{key}", "not an id")
    digits = str(value).strip()
    if not digits.isascii() or not digits.isdigit():
        raise InvalidField(f"{where}.{key}", f"not an id: {digits[:40]!r}")
    return int(digits) or None


def text(parent: Mapping[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str):
        raise InvalidField(f"{where}.{key}", "missing" if value is None else "not a string")
    return value


def opt_text(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    """A string, None when missing, null or empty (DCE writes "" for an embed's no title)."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(f"{where}.{key}", "not a string")
    return value or None


def flag(parent: Mapping[str, Any], key: str, where: str) -> bool:
    value = parent.get(key, False)
    if not isinstance(value, bool):
        raise InvalidField(f"{where}.{key}", "not true or false")
    return value


def number(parent: Mapping[str, Any], key: str, where: str) -> int:
    value = parent.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidField(f"{where}.{key}", "not a number")
    return int(value)


def timestamp_ms(parent: Mapping[str, Any], key: str, where: str) -> int | None:
    """Milliseconds since the epoch, exactly (a naive date is taken as UTC: ``--utc``)."""
    value = opt_text(parent, key, where)
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidField(f"{where}.{key}", f"not a date: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return (moment - _EPOCH) // _MILLISECOND


def enum_value(value: Any, names: Mapping[str, int], default: int) -> int:
    """A DCE enum: its name, or the number .NET writes for a value the enum does not name."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in names:
            return int(names[value])  # a plain int, as discord.py's ``.value`` gives
        if value.strip().isascii() and value.strip().isdigit():
            return int(value)
    return int(default)


def color(value: Any) -> int | None:
    """ "#RRGGBB" → 0xRRGGBB."""
    if isinstance(value, str) and re.fullmatch(r"#?[0-9A-Fa-f]{6}", value.strip()):
        return int(value.strip().lstrip("#"), 16)
    return None


# --- local media -------------------------------------------------------------------------


@dataclass
class MediaFiles:
    """Resolves ``--media`` paths: relative to the export's folder, either slash.

    A path counts only if it resolves (symlinks followed) inside the export's folder or one
    of ``extra_roots`` (where ``--media-dir`` put the files, which DCE then writes as
    absolute paths), and names an existing file: an export must not make the importer read
    and publish arbitrary files of this machine. Anything else is left out of
    ``local_files`` (its text stays where the URL was) and noted in ``unresolved``.
    """

    folder: Path
    extra_roots: Sequence[Path] = ()
    # Paths not used, in the order met (a dict as an ordered set).
    unresolved: dict[str, None] = field(default_factory=dict)
    _roots: tuple[Path, ...] = field(init=False, default=())
    # Avatars and emoji recur on every message: one look at the disk per path.
    _seen: dict[str, Path | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._roots = tuple(root.resolve() for root in (self.folder, *self.extra_roots))

    @staticmethod
    def is_local(value: str | None) -> bool:
        return bool(value) and not _URL.match(value or "")

    def local(self, value: str | None) -> Path | None:
        """The file a non-URL names, or None (URLs, refused or missing paths)."""
        if not value or not self.is_local(value):
            return None
        if value not in self._seen:
            self._seen[value] = self._resolve(value)
            if self._seen[value] is None:
                self.unresolved[value] = None
        return self._seen[value]

    def _resolve(self, value: str) -> Path | None:
        normalised = value.strip().replace("\\", "/")
        if _DRIVE.match(normalised) or normalised.startswith("//"):
            return None  # a Windows drive or share: not this machine's
        candidate = Path(normalised)
        if not candidate.is_absolute():
            candidate = self.folder / candidate
        try:
            resolved = candidate.resolve()
            inside = any(resolved.is_relative_to(root) for root in self._roots)
            if inside and resolved.is_file():
                return resolved
        except (OSError, RuntimeError, ValueError):
            pass
        return None

    def url_or_path(self, value: str | None) -> str | None:
        """A web URL as it is, a usable local file as its absolute path, else None."""
        if not value:
            return None
        if not self.is_local(value):
            return value
        path = self.local(value)
        return str(path) if path is not None else None
