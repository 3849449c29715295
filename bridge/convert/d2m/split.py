"""Splitting Discord text that is too long for one Matrix event, on its own line breaks.

The source is split, not the HTML, so each piece is ordinary Discord markdown that converts on
its own; a code block cut in two is closed at the end of one piece and reopened (with its
language) at the start of the next.
"""

from __future__ import annotations

import json
from typing import Any

FENCE = "```"
# Each part's content must fit in an event of 65,536 bytes with its envelope (sender, room,
# hashes, signatures, auth and prev events): 60,000 bytes of content leaves over 5 KB for it.
MAX_CONTENT_BYTES = 60_000


def content_size(content: dict[str, Any]) -> int:
    """Bytes of the content as the homeserver counts them (canonical JSON, UTF-8)."""
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def _toggles_fence(line: str) -> bool:
    """Whether a line opens or closes a code block (an odd number of fences on it)."""
    return line.count(FENCE) % 2 == 1


def _hard_wrap(line: str, limit: int) -> list[str]:
    """A line longer than ``limit``, cut at spaces where it can be, else anywhere."""
    pieces = []
    while len(line) > limit:
        cut = line.rfind(" ", limit // 2, limit)
        cut = cut + 1 if cut > 0 else limit
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def split_source(text: str, max_chars: int) -> list[str]:
    """Pieces of ``text`` of at most about ``max_chars`` characters each.

    Pieces end on a paragraph break (blank line) when one falls in the second half of the
    piece, else on a line break; only a line longer than ``max_chars`` is cut inside.
    A code block open at a cut is closed there and reopened in the next piece (those fence
    lines are the only text added, a few characters over ``max_chars`` at most).
    """
    max_chars = max(max_chars, 16)
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(_hard_wrap(line, max_chars))

    pieces: list[str] = []
    current: list[str] = []  # lines of the piece being filled
    size = 0
    fence: str | None = None  # the opening fence line of the code block we are in
    paragraph_end: tuple[int, str | None] | None = None  # (lines before it, fence there)

    def flush(upto: int, fence_there: str | None) -> None:
        nonlocal current, size, paragraph_end
        taken, rest = current[:upto], current[upto:]
        while taken and not taken[-1].strip() and fence_there is None:
            taken.pop()  # no trailing blank lines
        if taken:
            pieces.append("\n".join(taken + ([FENCE] if fence_there else [])))
        current = ([fence_there] if fence_there else []) + rest
        while current and not current[0].strip():
            current.pop(0)
        size = sum(len(line) + 1 for line in current)
        paragraph_end = None

    for line in lines:
        if current and size + len(line) + 1 > max_chars:
            if paragraph_end is not None and paragraph_end[0] * 2 >= len(current):
                flush(*paragraph_end)
            if current and size + len(line) + 1 > max_chars:
                flush(len(current), fence)
        current.append(line)
        size += len(line) + 1
        if _toggles_fence(line):
            fence = None if fence is not None else line.strip()
        elif not line.strip() and fence is None:
            paragraph_end = (len(current), None)
    flush(len(current), None)
    return pieces or [""]
