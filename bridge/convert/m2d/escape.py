"""Making literal text inert on Discord: markdown characters, mentions, @everyone.

A Matrix user's text is text: nothing they type may turn into Discord formatting, a mention
or a ping. Discord drops a backslash before any punctuation, so escaping with one is invisible.
"""

from __future__ import annotations

import re

# Discord links bare http(s) URLs itself; a backslash inside one would break the link.
_URL = re.compile(r"https?://[^\s<>]+", re.IGNORECASE)
# Characters that start inline markdown, mentions (`<@…>`, `<#…>`, `<:e:…>`) or masked links.
_INLINE = re.compile(r"([\\*_~`|<\[\]])")
_PINGS = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
_ROOM = re.compile(r"@room\b", re.IGNORECASE)
ZWSP = "\u200b"  # after "@": reads the same, pings nobody

# Markup that only counts at the start of a line (after optional indentation).
_LINE_START = re.compile(r"(?:#{1,3}|-#|>(?:>>)?|[-+*])(?=[ \t])")
_ORDERED = re.compile(r"(\d+)\.(?=[ \t])")
# Candidates the HTML parser cannot judge yet: the text may or may not start a line.
_MAYBE_LINE_START = re.compile(r"[#>\-+0-9]")
# Noncharacters, never in interchange text: mark where a line-start escape may be needed.
LINE_MARK = "\ufdd0"
_MARKS = re.compile("[\ufdd0-\ufdd2]")
# A line's prefix of markup the converter wrote itself (quotes, list markers, indentation).
_MARKED_LINE = re.compile(
    r"^((?:[ \t]*(?:>|[-*]|\d+\.)[ \t]+)*[ \t]*)" + LINE_MARK + r"(.*)$", re.MULTILINE
)


def escape_inline(text: str, *, allow_everyone: bool = False) -> tuple[str, bool]:
    """Escape inline markdown outside URLs; (text, whether it now pings @everyone/@here).

    With `allow_everyone`, "@room" becomes "@everyone" and a typed @everyone/@here stays;
    otherwise all three get a zero-width space after the "@".
    """
    pieces: list[str] = []
    pings = False
    position = 0
    for match in _URL.finditer(text):
        piece, pinged = _escape_words(text[position : match.start()], allow_everyone)
        pieces += [piece, match.group()]
        pings = pings or pinged
        position = match.end()
    piece, pinged = _escape_words(text[position:], allow_everyone)
    pieces.append(piece)
    return "".join(pieces), pings or pinged


def escape_text(text: str) -> str:
    """Escape a name or excerpt shown inline: never a ping, never markup."""
    return escape_inline(strip_marks(text))[0]


def escape_line_start(line: str) -> str:
    """Escape block markup (heading, quote, list item) at the start of a line."""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    rest = line[len(indent) :]
    if _LINE_START.match(rest):
        return indent + "\\" + rest
    ordered = _ORDERED.match(rest)
    if ordered:
        return indent + ordered.group(1) + "\\" + rest[len(ordered.group(1)) :]
    return line


def escape_plain(text: str, *, allow_everyone: bool = False) -> tuple[str, bool]:
    """A plain-text body, line by line: (escaped text, whether it pings @everyone/@here)."""
    lines: list[str] = []
    pings = False
    for line in strip_marks(text).split("\n"):
        escaped, pinged = escape_inline(line, allow_everyone=allow_everyone)
        lines.append(escape_line_start(escaped))
        pings = pings or pinged
    return "\n".join(lines), pings


def mark_line_start(escaped: str) -> str:
    """Put LINE_MARK before text that would be block markup if it started a line."""
    stripped = escaped.lstrip(" ")
    if not _MAYBE_LINE_START.match(stripped):
        return escaped
    cut = len(escaped) - len(stripped)
    return escaped[:cut] + LINE_MARK + stripped


def resolve_line_marks(text: str) -> str:
    """Escape marked text that ended up at a line start; drop the other marks."""

    def resolve(match: re.Match[str]) -> str:
        return match.group(1) + escape_line_start(match.group(2))

    return _MARKS.sub("", _MARKED_LINE.sub(resolve, text))


def strip_marks(text: str) -> str:
    return _MARKS.sub("", text)


def _escape_words(text: str, allow_everyone: bool) -> tuple[str, bool]:
    escaped = _INLINE.sub(r"\\\1", text)
    if not allow_everyone:
        return _ROOM.sub("@" + ZWSP + "room", _PINGS.sub("@" + ZWSP, escaped)), False
    escaped = _ROOM.sub("@everyone", escaped)
    return escaped, _PINGS.search(escaped) is not None
