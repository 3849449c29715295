"""Counting things in replies: "1 room", "2 rooms" (pure)."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``count`` followed by the right form: ``counted(1, "room")`` is ``"1 room"``,
    ``counted(3, "room")`` ``"3 rooms"``; ``plural`` when adding an "s" is wrong
    (``counted(2, "room or space", "rooms and spaces")``)."""
    word = singular if count == 1 else (plural or f"{singular}s")
    return f"{count} {word}"


def rooms_and_spaces(count: int) -> str:
    """The rooms of a bridged guild or channel, sub-spaces included: "1 room", "4 rooms and
    spaces" (a single one is nearly always a room: a channel's)."""
    return counted(count, "room", "rooms and spaces")
