"""Cutting Discord text longer than one message into several, without breaking code blocks.

Cuts fall on a blank line, else a line break, else a space, else anywhere (a single huge word).
A cut inside a code block closes the fence at the end of one piece and reopens it, with the
same language, at the start of the next, so both render as code. Only the whitespace at a cut
is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DISCORD_LIMIT = 2000
MIN_LIMIT = 64  # room for a fence to close and reopen around some text
FENCE = "```"
_FENCE = re.compile("```")
_LANGUAGE = re.compile(r"([\w+#.-]{1,32})\n")
_SEPARATORS = ("\n\n", "\n", " ")
_BLANK = re.compile(r"\s*")
# Beyond the limit, what a window shows: a fence and a language right after a cut.
_LOOKAHEAD = 64


@dataclass(frozen=True)
class _Block:
    """A code block: its opening fence, where its code starts, its language, its closing fence."""

    start: int
    code_start: int
    language: str
    close: int | None  # None: never closed, runs to the end
    end: int


def split_for_discord(content: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters; [] for a message with nothing but whitespace.

    Linear in the length of `content`: each cut looks only at a window of about `limit`
    characters from where the last one left off.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT}")
    if not content.strip():
        return []
    pieces: list[str] = []
    cursor = _Cursor(content)
    while cursor.remaining > limit:
        piece = _cut(cursor, limit)
        if piece.strip():
            pieces.append(piece)
    rest = cursor.head + content[cursor.offset :]
    if rest.strip():
        pieces.append(rest)
    return pieces


class _Cursor:
    """What is left to split: a reopened fence (`head`), then `content` from `offset` on."""

    def __init__(self, content: str) -> None:
        self.content = content
        self.head = ""
        self.offset = 0
        self._blank_run = (0, 0)  # the last run of whitespace measured: [start, end)

    @property
    def remaining(self) -> int:
        return len(self.head) + len(self.content) - self.offset

    def window(self, limit: int) -> str:
        """The next `limit` characters and enough beyond to see any fence around a cut."""
        return self.head + self.content[self.offset : self.offset + limit + _LOOKAHEAD]

    def at(self, index: int) -> int:
        """A position in the window as one in `content` (past the head: cuts never fall in it)."""
        return self.offset + index - len(self.head)

    def skip_newlines(self, position: int) -> int:
        while position < len(self.content) and self.content[position] == "\n":
            position += 1
        return position

    def blank_until(self, position: int) -> int:
        """Where the whitespace starting at `position` ends (each run is measured once)."""
        start, end = self._blank_run
        if not start <= position < end:
            match = _BLANK.match(self.content, position)
            end = match.end() if match else position
            self._blank_run = (position, end)
        return end


def _blocks(text: str) -> list[_Block]:
    """Code blocks the way Discord pairs fences: each "```" opens or closes, in turn."""
    blocks: list[_Block] = []
    opening: tuple[int, int, str] | None = None
    for fence in _FENCE.finditer(text):
        if opening is None:
            language = _LANGUAGE.match(text, fence.end())
            if language:
                opening = (fence.start(), language.end(), language.group(1))
            else:
                opening = (fence.start(), fence.end(), "")
        elif fence.start() >= opening[1]:
            blocks.append(_Block(*opening, close=fence.start(), end=fence.end()))
            opening = None
    if opening is not None:
        blocks.append(_Block(*opening, close=None, end=len(text)))
    return blocks


def _cut(cursor: _Cursor, limit: int) -> str:
    """The next piece; the cursor moves past it (to a reopened fence, if in a code block)."""
    text = cursor.window(limit)
    blocks = _blocks(text)
    position, skip = _position(text, limit, blocks)
    block = _inside(position, blocks)
    if block is not None and position + len(FENCE) + 1 > limit:
        position, skip = _position(text, limit - len(FENCE) - 1, blocks)
        block = _inside(position, blocks)
    after = cursor.at(position + skip)
    if block is None:
        cursor.head, cursor.offset = "", cursor.skip_newlines(after)
        return text[:position].rstrip()
    piece = text[:position].rstrip("\n") + "\n" + FENCE
    blank_end = cursor.blank_until(after)
    if cursor.content.startswith(FENCE, blank_end):  # the block's close: nothing of it is left
        cursor.head, cursor.offset = "", cursor.skip_newlines(blank_end + len(FENCE))
    else:
        cursor.head, cursor.offset = f"{FENCE}{block.language}\n", after
    return piece


def _position(text: str, budget: int, blocks: list[_Block]) -> tuple[int, int]:
    """Where to cut so the piece fits in `budget`, and how many separator characters to drop."""
    for minimum in (budget // 2, 1):
        for separator in _SEPARATORS:
            found = text.rfind(separator, minimum, budget + len(separator))
            if found >= minimum:
                position = _outside_fence_tokens(found, blocks)
                if position > 0:
                    return position, len(separator) if position == found else 0
    position = _outside_fence_tokens(budget, blocks)
    if position <= 0:
        position = budget
    backslashes = len(text[:position]) - len(text[:position].rstrip("\\"))
    if backslashes % 2:  # never separate an escape from what it escapes
        position -= 1
    return position, 0


def _outside_fence_tokens(position: int, blocks: list[_Block]) -> int:
    """Move a cut that falls within a fence (or an opening fence's language) before it."""
    for block in blocks:
        if block.start < position <= block.code_start:  # at code_start: an empty piece of code
            return block.start
        if block.close is not None and block.close < position < block.end:
            return block.close
    return position


def _inside(position: int, blocks: list[_Block]) -> _Block | None:
    for block in blocks:
        end = block.close if block.close is not None else block.end + 1
        if block.code_start < position <= end:
            return block
    return None
