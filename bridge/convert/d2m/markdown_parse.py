"""Parse Discord's markdown the way Discord's client does, not the way CommonMark would.

Discord's rules (simple-markdown's, adapted): formatting is regex-based and may span lines;
code blocks may start mid-line; quotes, headings, subtext and lists only at the start of a
line; underscores italicise only at word boundaries; there are no paragraphs, only line breaks.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .markdown_nodes import (
    CodeBlock,
    Heading,
    InlineCode,
    LineBreak,
    Link,
    ListBlock,
    Node,
    Quote,
    RoomMention,
    Span,
    Styled,
    Subtext,
    Text,
)
from .markdown_tokens import Source, angle_token

# Deeper nesting than this is shown as typed: real messages never get near it, and it keeps
# hostile input (thousands of `||`) from exhausting the stack.
MAX_DEPTH = 24

_ESCAPE = re.compile(r"\\([^0-9A-Za-z\s])")
_TEXT_RUN = re.compile(r"(?:[^\\`<\[*_~|@\nh]+|h(?!ttps?://))+")
_BACKTICKS = re.compile(r"`+")
_CODE_LANGUAGE = re.compile(r"([A-Za-z0-9_+\-.#]+)\n")

_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
_MASKED_LINK = re.compile(
    r"\[((?:\[[^\[\]]*\]|[^\[\]])*)\]"
    r"\(\s*<?(https?://(?:\([^()\s]*\)|[^\s()<>])+)>?\s*\)"
)

_ROOM = re.compile(r"@(everyone|here)")

_STRONG = re.compile(r"\*\*([\s\S]+?)\*\*(?!\*)")
_UNDERLINE = re.compile(r"__([\s\S]+?)__(?!_)")
_EM_STAR = re.compile(
    r"\*(?=\S)((?:\*\*|\\[\s\S]|\s+(?:\\[\s\S]|[^\s*\\]|\*\*)|[^\s*\\])+?)\*(?!\*)"
)
_EM_UNDERSCORE = re.compile(r"\b_((?:__|\\[\s\S]|[^\\_])+?)_\b")
_STRIKE = re.compile(r"~~([\s\S]+?)~~")
_SPOILER = re.compile(r"\|\|([\s\S]+?)\|\|")
# simple-markdown resolves em/strong/u by the longest match, ties going to em, then strong.
_EMPHASIS = {
    "*": (("em", _EM_STAR, 0.2), ("strong", _STRONG, 0.1)),
    "_": (("em", _EM_UNDERSCORE, 0.2), ("u", _UNDERLINE, 0.0)),
}

_QUOTE_ALL = re.compile(r" *>>> ")
_QUOTE_LINE = re.compile(r" *>(?!>>) ([^\n]*)")
_HEADING = re.compile(r"(#{1,3})[ \t]+(?=\S)([^\n]*)")
_SUBTEXT = re.compile(r"(-#)[ \t]+(?=\S)([^\n]*)")
_LIST_ITEM = re.compile(r"( *)([-*]|[0-9]{1,9}\.)[ \t]+(?=\S)([^\n]*)")


@lru_cache(maxsize=64)
def parse(text: str) -> list[Node]:
    """The tree of one message (cached: the action asks for tokens, then converts)."""
    return _parse(Source(text), 0, len(text), blocks=True, quotes=True, links=True, depth=0)


class _Out:
    """Nodes being collected, with adjacent text merged."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self._text: list[str] = []

    def text(self, text: str) -> None:
        self._text.append(text)

    def node(self, node: Node) -> None:
        self._flush()
        self.nodes.append(node)

    def done(self) -> list[Node]:
        self._flush()
        return self.nodes

    def _flush(self) -> None:
        if self._text:
            self.nodes.append(Text("".join(self._text)))
            self._text.clear()


def _parse(
    src: Source, start: int, end: int, *, blocks: bool, quotes: bool, links: bool, depth: int
) -> list[Node]:
    text = src.text
    out = _Out()
    pos = start
    while pos < end:
        if blocks and (pos == start or text[pos - 1] == "\n"):
            block = _block(src, pos, end, quotes=quotes, depth=depth)
            if block is not None:
                out.node(block[0])
                pos = block[1]
                continue
        char = text[pos]
        if char == "\n":
            out.node(LineBreak())
            pos += 1
            continue
        found = _inline(src, pos, end, links=links, depth=depth)
        if found is not None:
            result, pos = found
            if isinstance(result, str):
                out.text(result)
            else:
                out.node(result)
            continue
        run = _TEXT_RUN.match(text, pos, end)
        out.text(run.group() if run else char)
        pos = run.end() if run else pos + 1
    return out.done()


def _inline(
    src: Source, pos: int, end: int, *, links: bool, depth: int
) -> tuple[Node | str, int] | None:
    """The inline element starting at pos, or None to read on as text."""
    text = src.text
    char = text[pos]
    if char == "\\":
        escape = _ESCAPE.match(text, pos, end)
        return (escape.group(1), escape.end()) if escape else None
    if char == "`":
        return _code(text, pos, end)
    if char == "<":
        return angle_token(src, pos, end, links=links)
    if char == "@":
        room = _ROOM.match(text, pos, end)
        return (RoomMention(room.group(1), src.span(pos, room.end())), room.end()) if room else None
    if char == "h":
        return _url(text, pos, end) if links else None
    if char == "[":
        return _masked_link(src, pos, end, depth=depth) if links else None
    if depth >= MAX_DEPTH:
        return None
    if char in _EMPHASIS:
        best: tuple[str, re.Match[str]] | None = None
        best_quality = 0.0
        for style, pattern, bonus in _EMPHASIS[char]:
            match = pattern.match(text, pos, end)
            if match and match.end() - pos + bonus > best_quality:
                best, best_quality = (style, match), match.end() - pos + bonus
        return _styled(src, best[0], best[1], links=links, depth=depth) if best else None
    if char == "~":
        strike = _STRIKE.match(text, pos, end)
        return _styled(src, "del", strike, links=links, depth=depth) if strike else None
    if char == "|":
        spoiler = _SPOILER.match(text, pos, end)
        return _styled(src, "spoiler", spoiler, links=links, depth=depth) if spoiler else None
    return None


def _styled(
    src: Source, style: str, match: re.Match[str], *, links: bool, depth: int
) -> tuple[Node, int]:
    children = _parse(
        src, match.start(1), match.end(1), blocks=False, quotes=False, links=links, depth=depth + 1
    )
    return Styled(style, children), match.end()


def _code(text: str, pos: int, end: int) -> tuple[Node | str, int]:
    """A fenced block, inline code, or (unclosed) the backticks as typed."""
    if text.startswith("```", pos):
        close = text.find("```", pos + 3, end)
        if close != -1:
            block = _code_block(text[pos + 3 : close])
            if block is not None:
                stop = close + 3
                # The block is a block: the line break after it is its own end.
                return block, stop + 1 if text.startswith("\n", stop) and stop < end else stop
    fence = _BACKTICKS.match(text, pos, end)
    assert fence is not None
    closing = _closing_fence(fence.end() - pos).search(text, fence.end(), end)
    if closing is None:
        return fence.group(), fence.end()
    return InlineCode(_trim_inline_code(text[fence.end() : closing.start()])), closing.end()


@lru_cache(maxsize=16)
def _closing_fence(width: int) -> re.Pattern[str]:
    """A run of exactly this many backticks: what closes an inline code span."""
    return re.compile(rf"(?<!`)`{{{width}}}(?!`)")


def _code_block(content: str) -> CodeBlock | None:
    language = None
    first_line = _CODE_LANGUAGE.match(content)
    if first_line and content[first_line.end() :].strip("\n"):
        language, content = first_line.group(1), content[first_line.end() :]
    code = content.strip("\n")
    return CodeBlock(code, language) if code else None


def _trim_inline_code(code: str) -> str:
    """One space next to a backtick is padding (`` `` `x` `` ``), as in simple-markdown."""
    if code.startswith(" ") and code.lstrip(" ").startswith("`"):
        code = code[1:]
    if code.endswith(" ") and code.rstrip(" ").endswith("`"):
        code = code[:-1]
    return code


def _url(text: str, pos: int, end: int) -> tuple[Node, int] | None:
    match = _URL.match(text, pos, end)
    if match is None:
        return None
    url, stop = match.group(), match.end()
    # Wikipedia-style URLs end in a parenthesis that belongs to them.
    while stop < end and text[stop] == ")" and url.count("(") > url.count(")"):
        url, stop = url + ")", stop + 1
    return Link(url, [Text(url)]), stop


def _masked_link(src: Source, pos: int, end: int, *, depth: int) -> tuple[Node, int] | None:
    match = _MASKED_LINK.match(src.text, pos, end)
    if match is None or depth >= MAX_DEPTH:
        return None
    href = match.group(2)
    children = _parse(
        src, match.start(1), match.end(1), blocks=False, quotes=False, links=False, depth=depth + 1
    )
    return Link(href, children or [Text(href)]), match.end()


def _block(src: Source, pos: int, end: int, *, quotes: bool, depth: int) -> tuple[Node, int] | None:
    """A quote, heading, subtext line or list starting at this line start."""
    if depth >= MAX_DEPTH:
        return None
    text = src.text
    char = text[pos]
    if quotes and char in "> ":
        if (match := _QUOTE_ALL.match(text, pos, end)) and text[match.end() : end].strip():
            children = _parse(
                src, match.end(), end, blocks=True, quotes=False, links=True, depth=depth + 1
            )
            return Quote(children), end
        if quote := _quote_lines(src, pos, end, depth=depth):
            return quote
    if char == "#" and (match := _HEADING.match(text, pos, end)):
        level = len(match.group(1))
        return Heading(level, _line_content(src, match, end, depth)), _after_line(text, match, end)
    if char == "-" and (match := _SUBTEXT.match(text, pos, end)):
        return Subtext(_line_content(src, match, end, depth)), _after_line(text, match, end)
    if char in "-* 0123456789":
        return _list(src, pos, end, depth=depth)
    return None


def _quote_lines(src: Source, pos: int, end: int, *, depth: int) -> tuple[Node, int] | None:
    text = src.text
    segments: list[Span] = []
    while pos < end and (match := _QUOTE_LINE.match(text, pos, end)):
        segments.append((match.start(1), match.end(1)))
        pos = _after_line(text, match, end)
    if not any(text[start:stop].strip() for start, stop in segments):
        return None  # Discord trims the message: a lone "> " is never a quote
    inner = src.derive(segments)
    children = _parse(
        inner, 0, len(inner.text), blocks=True, quotes=False, links=True, depth=depth + 1
    )
    return Quote(children), pos


def _line_content(src: Source, match: re.Match[str], end: int, depth: int) -> list[Node]:
    """The inline content of a heading or subtext line, without trailing blanks."""
    start, stop = match.start(2), match.end(2)
    while stop > start and src.text[stop - 1].isspace():
        stop -= 1
    return _parse(src, start, stop, blocks=False, quotes=False, links=True, depth=depth + 1)


def _after_line(text: str, match: re.Match[str], end: int) -> int:
    stop = match.end()
    return stop + 1 if stop < end and text[stop] == "\n" else stop


def _list(src: Source, pos: int, end: int, *, depth: int) -> tuple[Node, int] | None:
    """Items at one indentation; deeper items nest in the item before them."""
    text = src.text
    first = _LIST_ITEM.match(text, pos, end)
    if first is None:
        return None
    indent = len(first.group(1))
    ordered = first.group(2)[0].isdigit()
    start_number = int(first.group(2)[:-1]) if ordered else 1
    items: list[tuple[list[Span], list[Node]]] = []
    while pos < end:
        line_end = text.find("\n", pos, end)
        line_end = end if line_end == -1 else line_end
        next_line = min(line_end + 1, end)
        item = _LIST_ITEM.match(text, pos, line_end)
        if item is not None:
            item_indent = len(item.group(1))
            if item_indent == indent and item.group(2)[0].isdigit() == ordered:
                items.append(([(item.start(3), line_end)], []))
                pos = next_line
                continue
            if item_indent > indent and items and depth + 1 < MAX_DEPTH:
                nested = _list(src, pos, end, depth=depth + 1)
                assert nested is not None
                items[-1][1].append(nested[0])
                pos = nested[1]
                continue
            break
        line = text[pos:line_end]
        lead = len(line) - len(line.lstrip(" "))
        if not items or lead <= indent or not line.strip():
            break
        items[-1][0].append((pos + lead, line_end))
        pos = next_line
    rendered = [_list_item(src, segments, nested, depth) for segments, nested in items]
    return ListBlock(ordered, start_number, rendered), pos


def _list_item(src: Source, segments: list[Span], nested: list[Node], depth: int) -> list[Node]:
    if len(segments) == 1:
        (start, stop), inner = segments[0], src
    else:
        inner = src.derive(segments)
        start, stop = 0, len(inner.text)
    content = _parse(inner, start, stop, blocks=False, quotes=False, links=True, depth=depth + 1)
    return content + nested
