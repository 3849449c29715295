"""Discord message text → Matrix `body` and `formatted_body`.

The HTML uses only tags the Matrix spec allows. The body is the message as typed (markdown
and all, the way Matrix bridges write it), with mentions, emoji and timestamps made readable.
Nothing here raises: a message must never be lost over its formatting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

from .context import MessageContext
from .markdown_nodes import (
    ChannelMention,
    CodeBlock,
    CustomEmoji,
    Heading,
    InlineCode,
    LineBreak,
    Link,
    ListBlock,
    Node,
    Quote,
    RoleMention,
    Styled,
    Subtext,
    Text,
    UserMention,
    walk,
)
from .markdown_parse import parse
from .mentions import render_token

# A literal "@room" in a body would notify the whole room through the legacy push rule.
_ROOM_WORD = re.compile(r"@(?=room)", re.IGNORECASE)
_NEUTRAL_AT = "@\u2060"  # WORD JOINER: looks the same, matches no push rule
_TAGS = re.compile(r"(<[^>]*>)")  # attribute values are escaped: no ">" inside a tag
_STYLE_TAGS = {"strong": "strong", "em": "em", "u": "u", "del": "del"}


@dataclass(frozen=True)
class Formatted:
    body: str
    html: str | None  # None: nothing a plain-text reader would miss


def discord_to_matrix(
    text: str, ctx: MessageContext, *, author_can_mention_everyone: bool = False
) -> Formatted:
    """Convert a message's content; `@everyone`/`@here` ping the room only if both allow it."""
    allow_room = ctx.allow_room_mention and author_can_mention_everyone
    try:
        return _convert(text, ctx, allow_room=allow_room)
    except Exception:  # never seen in fuzzing; the text as typed beats losing the message
        return Formatted(body=neutralise_room_mentions(text), html=None)


def custom_emoji_in(text: str) -> list[tuple[int, str, bool]]:
    """(id, name, animated) of each custom emoji outside code, first appearance first."""
    found: dict[int, tuple[int, str, bool]] = {}
    for node in _nodes(text):
        if isinstance(node, CustomEmoji) and node.emoji_id not in found:
            found[node.emoji_id] = (node.emoji_id, node.name, node.animated)
    return list(found.values())


def mentioned_user_ids(text: str) -> list[int]:
    return _unique(node.user_id for node in _nodes(text) if isinstance(node, UserMention))


def mentioned_role_ids(text: str) -> list[int]:
    return _unique(node.role_id for node in _nodes(text) if isinstance(node, RoleMention))


def mentioned_channel_ids(text: str) -> list[int]:
    return _unique(node.channel_id for node in _nodes(text) if isinstance(node, ChannelMention))


def neutralise_room_mentions(text: str) -> str:
    """Make every "@room" in a plain text inert, whatever its case."""
    return _ROOM_WORD.sub(_NEUTRAL_AT, text)


def _nodes(text: str) -> list[Node]:
    try:
        return walk(parse(text))
    except Exception:  # see discord_to_matrix
        return []


def _unique(ids: Iterator[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def _convert(text: str, ctx: MessageContext, *, allow_room: bool) -> Formatted:
    renderer = _Renderer(ctx, allow_room=allow_room)
    renderer.render(parse(text))
    html = "".join(renderer.html)
    pieces = _body_pieces(text, renderer.replacements)
    safe_body = "".join(
        piece if deliberate else neutralise_room_mentions(piece)
        for piece, deliberate in _merge(pieces)
    )
    # Both are neutralised alike, so a plain "@room" made inert needs no HTML to show right.
    plain = escape(safe_body, quote=False).replace("\n", "<br>")
    return Formatted(body=safe_body, html=None if html == plain else html)


def _body_pieces(
    text: str, replacements: list[tuple[int, int, str, bool]]
) -> list[tuple[str, bool]]:
    """The text as typed with each token's span replaced: (piece, is a deliberate @room)."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for start, end, replacement, deliberate in sorted(replacements):
        if start < position:
            continue
        pieces.append((text[position:start], False))
        pieces.append((replacement, deliberate))
        position = end
    pieces.append((text[position:], False))
    return pieces


def _merge(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Join neighbours that are not deliberate, so an "@room" split across them is found."""
    merged: list[tuple[str, bool]] = []
    for piece, deliberate in pieces:
        if merged and not deliberate and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + piece, False)
        else:
            merged.append((piece, deliberate))
    return merged


def _inert_html(html: str) -> str:
    """A token's HTML with "@room" inert in its text (a user or role named "room"); tags and
    their attributes (a matrix.to link to "@room:server") are left as they are."""
    return "".join(
        part if part.startswith("<") else neutralise_room_mentions(part)
        for part in _TAGS.split(html)
    )


def _starts_block(following: list[Node]) -> bool:
    """Whether what follows (one node or none) is a block in HTML, or nothing at all."""
    return not following or isinstance(following[0], (Quote, Heading, ListBlock, CodeBlock))


class _Renderer:
    """Walks the tree once, writing HTML and noting the body's replacements."""

    def __init__(self, ctx: MessageContext, *, allow_room: bool) -> None:
        self.ctx = ctx
        self.allow_room = allow_room
        self.html: list[str] = []
        self.replacements: list[tuple[int, int, str, bool]] = []
        # The text written last ends in "@" (only formatting tags since): a "room" starting
        # the next text would read "@room" across the tags, as in "@**room**".
        self._after_at = False

    def render(self, nodes: list[Node], *, in_link: bool = False) -> None:
        for index, node in enumerate(nodes):
            if not isinstance(node, (Text, Styled, Link)):
                self._after_at = False
            self._node(node, in_link=in_link)
            if isinstance(node, Subtext) and not _starts_block(nodes[index + 1 : index + 2]):
                # The subtext's line break was part of its line; <sub> is inline in HTML.
                self.html.append("<br>")

    def _text(self, text: str) -> None:
        """Literal text, with every "@room" made inert as in the body."""
        safe = neutralise_room_mentions(text)
        if self._after_at and safe[:4].lower() == "room":
            safe = _NEUTRAL_AT[1:] + safe
        if text:
            self._after_at = text.endswith("@")
        self.html.append(escape(safe, quote=False))

    def _wrap(self, open_tag: str, close_tag: str, nodes: list[Node], *, in_link: bool) -> None:
        self.html.append(open_tag)
        self.render(nodes, in_link=in_link)
        self.html.append(close_tag)

    def _node(self, node: Node, *, in_link: bool) -> None:
        match node:
            case Text(text=text):
                self._text(text)
            case LineBreak():
                self.html.append("<br>")
            case Styled(style="spoiler", children=children):
                self._wrap("<span data-mx-spoiler>", "</span>", children, in_link=in_link)
            case Styled(style=style, children=children):
                tag = _STYLE_TAGS[style]
                self._wrap(f"<{tag}>", f"</{tag}>", children, in_link=in_link)
            case InlineCode(code=code):
                self.html.append(f"<code>{escape(code, quote=False)}</code>")
            case CodeBlock(code=code, language=language):
                attribute = f' class="language-{escape(language)}"' if language else ""
                self.html.append(f"<pre><code{attribute}>{escape(code, quote=False)}</code></pre>")
            case Link(href=href, children=children, bracketed=bracketed):
                if bracketed is not None:
                    self.replacements.append((bracketed[0], bracketed[1], href, False))
                if in_link:
                    self.render(children, in_link=True)
                else:
                    self._wrap(f'<a href="{escape(href)}">', "</a>", children, in_link=True)
            case Quote(children=children):
                self._wrap("<blockquote>", "</blockquote>", children, in_link=in_link)
            case Heading(level=level, children=children):
                self._wrap(f"<h{level}>", f"</h{level}>", children, in_link=in_link)
            case Subtext(children=children):
                self._wrap("<sub>", "</sub>", children, in_link=in_link)
            case ListBlock(ordered=ordered, start=start, items=items):
                tag = "ol" if ordered else "ul"
                start_attribute = f' start="{start}"' if ordered and start != 1 else ""
                self.html.append(f"<{tag}{start_attribute}>")
                for item in items:
                    self._wrap("<li>", "</li>", item, in_link=in_link)
                self.html.append(f"</{tag}>")
            case _:
                rendered = render_token(node, self.ctx, allow_room=self.allow_room, in_link=in_link)
                html = rendered.html if rendered.room_mention else _inert_html(rendered.html)
                self.html.append(html)
                start, end = node.span
                self.replacements.append((start, end, rendered.body, rendered.room_mention))
