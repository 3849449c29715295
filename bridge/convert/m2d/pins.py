"""Which messages a change of a room's ``m.room.pinned_events`` pins and unpins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PinChanges:
    """Event ids newly pinned and no longer pinned, each in the order of its list."""

    pinned: tuple[str, ...]
    unpinned: tuple[str, ...]


def pinned_ids(content: Any) -> list[str]:
    """The ``pinned`` event ids of an ``m.room.pinned_events`` content (dict or None); a
    malformed list counts as empty, non-string entries are skipped."""
    pinned = content.get("pinned") if isinstance(content, dict) else None
    return [e for e in pinned if isinstance(e, str) and e] if isinstance(pinned, list) else []


def pin_changes(before: Iterable[str], after: Iterable[str]) -> PinChanges:
    """The difference between two pinned lists (``m.room.pinned_events.pinned``, oldest pin
    first). Reordering pins is no change; duplicates count once."""
    old, new = dict.fromkeys(before), dict.fromkeys(after)
    return PinChanges(tuple(e for e in new if e not in old), tuple(e for e in old if e not in new))
