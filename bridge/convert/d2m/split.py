"""Splitting Discord text that is too long for one Matrix event, on its own line breaks.

The source is split, not the HTML, so each piece is ordinary Discord markdown that converts on
its own; a code block cut in two is closed at the end of one piece and reopened (with its
language) at the start of the next.
"""

from __future__ import annotations

import json
import re
from typing import Any

FENCE = "```"
CLOSING = "\n" + FENCE
_LANGUAGE = re.compile(r"[A-Za-z0-9_+\-.#]+")  # as markdown_parse reads a code block's language
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
    start = 0
    while len(line) - start > limit:
        cut = line.rfind(" ", start + limit // 2, start + limit)
        cut = cut + 1 if cut > 0 else start + limit
        pieces.append(line[start:cut])
        start = cut
    pieces.append(line[start:])
    return pieces


def _reopening(line: str, max_language: int) -> str:
    """The fence that reopens the code block this line opens: ``` and its language, if any
    (only a language of at most ``max_language`` characters; else the code shows without)."""
    after = line[line.rfind(FENCE) + len(FENCE) :].strip()
    language = _LANGUAGE.fullmatch(after)
    return FENCE + after if language and len(after) <= max_language else FENCE


def _joined(lines: list[tuple[str, bool]]) -> str:
    """Lines as one text: a wrapped line's parts join again without a line break."""
    return "".join(
        ("" if continues or not index else "\n") + line
        for index, (line, continues) in enumerate(lines)
    )


def split_source(text: str, max_chars: int) -> list[str]:
    """Pieces of ``text`` of at most ``max_chars`` characters each (``max_chars`` ≥ 16).

    Pieces end on a paragraph break (blank line) when one falls in the second half of the
    piece, else on a line break; only a line too long for a piece is cut inside.
    A code block open at a cut is closed there and reopened, with its language, in the next
    piece; room for those fences is kept in every piece, so none is ever over ``max_chars``.
    """
    max_chars = max(max_chars, 16)
    budget = max_chars - len(CLOSING)  # a piece's lines, leaving room to close a code block
    max_language = min(32, (budget - len(FENCE) - 2) // 2)
    # A line must fit after the longest reopening fence ("```" + language + "\n").
    width = budget - len(FENCE) - max_language - 2
    lines: list[tuple[str, bool]] = []  # (line, continues the line before: a wrapped one)
    for line in text.split("\n"):
        lines += [(part, index > 0) for index, part in enumerate(_hard_wrap(line, width))]

    pieces: list[str] = []
    current: list[tuple[str, bool]] = []  # lines of the piece being filled
    size = 0  # characters of current joined, plus one
    fence: str | None = None  # the fence reopening the code block we are in
    paragraph_end: tuple[int, str | None] | None = None  # (lines before it, fence there)

    def flush(upto: int, fence_there: str | None) -> None:
        nonlocal current, size, paragraph_end
        taken, rest = current[:upto], current[upto:]
        while taken and not taken[-1][0].strip() and fence_there is None:
            taken.pop()  # no trailing blank lines
        if taken:
            pieces.append(_joined(taken) + (CLOSING if fence_there else ""))
        current = ([(fence_there, False)] if fence_there else []) + rest
        while current and not current[0][0].strip():
            current.pop(0)
        size = sum(len(line) + 1 for line, _ in current)
        paragraph_end = None

    for line, continues in lines:
        if current and size + len(line) + 1 > budget:
            if paragraph_end is not None and paragraph_end[0] * 2 >= len(current):
                flush(*paragraph_end)
            if current and size + len(line) + 1 > budget:
                flush(len(current), fence)
        current.append((line, continues))
        size += len(line) + 1
        if _toggles_fence(line):
            fence = None if fence is not None else _reopening(line, max_language)
        elif not line.strip() and fence is None:
            paragraph_end = (len(current), None)
    flush(len(current), None)
    return pieces or [""]
