"""Matrix message text (HTML or plain body) → Discord markdown, and what it may ping.

mautrix's `MatrixParser` walks the HTML; the subclass below writes Discord's flavour of
markdown, escapes every piece of literal text, and resolves pills from the context. The result
says exactly which users it mentions, so `allowed_mentions` can permit those and nothing else.
Nothing here raises on bad input: an unparsable body falls back to the escaped plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mautrix.types import RoomAlias, RoomID, UserID
from mautrix.util.formatter import MarkdownString, MatrixParser
from mautrix.util.formatter.formatted_string import EntityType
from mautrix.util.formatter.html_reader import HTMLNode
from mautrix.util.formatter.parser import RecursionContext

from .context import M2DContext
from .escape import (
    ZWSP,
    escape_inline,
    escape_plain,
    escape_text,
    mark_line_start,
    resolve_line_marks,
    strip_marks,
)
from .links import LinkText, masked_link, plain_link, unmasked_link
from .names import visible_name

HTML_FORMAT = "org.matrix.custom.html"
RULE = "─" * 10  # Discord has no horizontal rule
_SUB_OPEN, _SUB_CLOSE = "\ufdd1", "\ufdd2"
# Discord's subtext ("-# ") is a whole line; a <sub> inside a line stays plain text.
_SUB_LINE = re.compile(
    r"^((?:[ \t]*(?:>|[-*]|\d+\.)[ \t]+)*[ \t]*)"
    + _SUB_OPEN
    + r"([^\n]*?)"
    + _SUB_CLOSE
    + r"[ \t]*$",
    re.MULTILINE,
)
_INLINE_TAGS = frozenset(
    {"b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "span", "font", "sub"}
)
# Blocks that a blank line parts from a block after them (a <p> ends with one already).
_SPACED_BLOCKS = frozenset({"blockquote", "ul", "ol", "pre", "table"})
_LANGUAGE = re.compile(r"[\w+#.-]{1,32}")
_BACKTICK_RUN = re.compile(r"`{3,}")
_HTTP = re.compile(r"https?://", re.IGNORECASE)
# What a link's text may hold as link text; anything else makes it fall back to `text (<url>)`.
_LINK_TEXT_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "del", "strike", "span", "font", "br"}
)
_MARKER_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "del", "strike"})


@dataclass(frozen=True)
class DiscordText:
    content: str
    mentioned_user_ids: tuple[int, ...] = ()
    mention_everyone: bool = False


def allowed_mentions(text: DiscordText) -> dict[str, Any]:
    """Discord's allowed_mentions: exactly the pings the converter made, never parsed ones."""
    return {
        "parse": ["everyone"] if text.mention_everyone else [],
        "users": [str(user_id) for user_id in dict.fromkeys(text.mentioned_user_ids)],
        "roles": [],
        "replied_user": False,
    }


async def matrix_to_discord(content: dict[str, Any], ctx: M2DContext) -> DiscordText:
    """Convert an m.text / m.notice / m.emote content to Discord text."""
    allow_everyone = _room_ping_allowed(content, ctx)
    html = content.get("formatted_body") if content.get("format") == HTML_FORMAT else None
    converted: tuple[str, list[int], bool] | None = None
    if isinstance(html, str) and html.strip():
        try:
            converted = await _convert_html(html, ctx, allow_everyone)
        except Exception:  # a message must not be lost over its formatting
            converted = None
    if converted is None:
        body = content.get("body")
        body = body if isinstance(body, str) else ""
        if _in_reply_to(content):
            body = strip_reply_fallback(body)
        text, pings = escape_plain(body.strip("\n"), allow_everyone=allow_everyone)
        converted = (text.rstrip(), [], pings)
    text, user_ids, pings = converted
    sender = visible_name(ctx.sender_name)
    if content.get("msgtype") == "m.emote" and sender:
        text = f"*{escape_text(sender)}* {text}"
    return DiscordText(text, tuple(dict.fromkeys(user_ids)), pings)


def strip_reply_fallback(body: str) -> str:
    """Drop the "> <@user> quoted" lines (and the blank line after) of an old reply body."""
    lines = body.split("\n")
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    if index and index < len(lines) and not lines[index].strip():
        index += 1
    return "\n".join(lines[index:]) if index else body


def code_block(code: str, language: str = "") -> str:
    """A fenced block; a run of backticks inside is broken up so it cannot close the fence."""
    code = _BACKTICK_RUN.sub(lambda run: ZWSP.join(run.group()), code)
    language = language if _LANGUAGE.fullmatch(language) else ""
    return f"```{language}\n{code}\n```"


def inline_code(code: str) -> str:
    if not code:
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", code)), default=0) + 1)
    padding = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{fence}{padding}{code}{padding}{fence}"


def _room_ping_allowed(content: dict[str, Any], ctx: M2DContext) -> bool:
    """@room pings Discord only when allowed and, with intentional mentions, intended."""
    if not ctx.allow_everyone:
        return False
    mentions = content.get("m.mentions")
    return not isinstance(mentions, dict) or mentions.get("room") is True


def _in_reply_to(content: dict[str, Any]) -> bool:
    relates_to = content.get("m.relates_to")
    return isinstance(relates_to, dict) and isinstance(relates_to.get("m.in_reply_to"), dict)


async def _convert_html(
    html: str, ctx: M2DContext, allow_everyone: bool
) -> tuple[str, list[int], bool]:
    parser = _DiscordParser(ctx, allow_everyone)
    text = str(await parser.parse(html))
    text = _SUB_LINE.sub(lambda line: f"{line.group(1)}-# {line.group(2).strip()}", text)
    text = resolve_line_marks(text)
    text = text.strip()
    return text, parser.user_ids, parser.pings


def _wrap(text: str, marker: str) -> str:
    """Wrap in an inline marker, keeping edge whitespace outside (Discord needs it so)."""
    core = text.strip()
    if not core:
        return text
    start = text.index(core[0])
    end = start + len(core)
    return f"{text[:start]}{marker}{core}{marker}{text[end:]}"


class DiscordMarkdown(MarkdownString):
    """mautrix's MarkdownString speaking Discord: `*` italics, `__` underline, no colours."""

    def format(self, entity_type: EntityType, **kwargs: Any) -> DiscordMarkdown:
        match entity_type:
            case EntityType.BOLD:
                self.text = _wrap(self.text, "**")
            case EntityType.ITALIC:
                self.text = _wrap(self.text, "*")
            case EntityType.UNDERLINE:
                self.text = _wrap(self.text, "__")
            case EntityType.STRIKETHROUGH:
                self.text = _wrap(self.text, "~~")
            case EntityType.SPOILER:
                self.text = _wrap(self.text, "||")
            case EntityType.INLINE_CODE:
                self.text = inline_code(self.text)
            case EntityType.PREFORMATTED:
                self.text = code_block(self.text, kwargs.get("language", ""))
            case EntityType.BLOCKQUOTE:
                lines = self.text.strip().split("\n")
                self.text = "\n".join(f"> {line}" for line in lines) if self.text.strip() else ""
            case EntityType.HEADER:
                flat = " ".join(self.text.split("\n")).strip()
                size = kwargs.get("size", 1)
                self.text = f"{'#' * size} {flat}" if size <= 3 else _wrap(flat, "**")
            case EntityType.EMAIL:
                self.text = escape_text(self.text)
            case EntityType.URL:
                self.text = masked_link(self.text, kwargs["url"])
        return self


class _DiscordParser(MatrixParser[DiscordMarkdown]):
    fs = DiscordMarkdown

    def __init__(self, ctx: M2DContext, allow_everyone: bool) -> None:
        self.ctx = ctx
        self.allow_everyone = allow_everyone
        self.user_ids: list[int] = []
        self.pings = False
        self._links: list[HTMLNode] = []  # the <a> nodes being converted, innermost last
        self._link_text: LinkText | None = None  # set while writing a link's text as such

    def list_bullet(self, depth: int) -> str:
        return "- "

    async def text_to_fstring(
        self, text: str, ctx: RecursionContext, strip_leading_whitespace: bool = False
    ) -> DiscordMarkdown:
        msg = await super().text_to_fstring(strip_marks(text), ctx, strip_leading_whitespace)
        if ctx.preserve_whitespace:
            return msg
        if self._link_text is not None:  # no escapes work in link text: kept as written
            self._link_text.pieces.append(msg.text)
            return msg
        escaped, pings = escape_inline(msg.text, allow_everyone=self.allow_everyone)
        self.pings = self.pings or pings
        return self.fs(mark_line_start(escaped))

    async def node_to_fstring(self, node: HTMLNode, ctx: RecursionContext) -> DiscordMarkdown:
        link_text = self._link_text
        if link_text is not None:
            is_spoiler = "data-mx-spoiler" in node.attrib
            if node.tag not in _LINK_TEXT_TAGS or is_spoiler:
                link_text.unsafe = True
                return self.fs("")
            link_text.formatted = link_text.formatted or node.tag in _MARKER_TAGS
        return await super().node_to_fstring(node, ctx)

    async def link_to_fstring(self, node: HTMLNode, ctx: RecursionContext) -> DiscordMarkdown:
        self._links.append(node)
        try:
            return await super().link_to_fstring(node, ctx)
        finally:
            self._links.pop()

    async def _as_link_text(self, node: HTMLNode) -> str | None:
        """The node's content written as masked-link text, or None if it cannot be."""
        self._link_text = state = LinkText()
        try:
            markdown = await self.tag_aware_parse_node(node, RecursionContext())
        finally:
            self._link_text = None
        return state.result(markdown.text)

    async def tag_aware_parse_node(self, node: HTMLNode, ctx: RecursionContext) -> DiscordMarkdown:
        """Inline formatting keeps its edge spaces, which `_wrap` moves outside the markers;
        blocks are joined by :meth:`_join_blocks`."""
        tagged = await self.node_to_tagged_fstrings(node, ctx)
        if node.tag in _INLINE_TAGS and not any(tag in self.block_tags for _, tag in tagged):
            return self.fs("".join(msg.text for msg, _ in tagged))
        return self._join_blocks(tagged)

    def _join_blocks(self, tagged: list[tuple[DiscordMarkdown, str]]) -> DiscordMarkdown:
        """Children in order, each block on lines of its own (as mautrix joins them), and a
        blank line between a quote, list, code block or table and a block after it.

        Discord's quote is only its ">" lines (no lazy continuation as in CommonMark), so
        `<blockquote>quoted</blockquote><p>and after</p>` as `> quoted\nand after` would lose
        the paragraph break; it becomes `> quoted\n\nand after`. Bare text or a `<br>` after
        the block is how Discord's own `> quoted\nand after` (and `…\n\nand after`) reads in
        HTML, so those stay as they are.
        """
        present = [(msg.text, tag) for msg, tag in tagged if msg.text or tag in self.block_tags]
        output: list[str] = []
        line_start = True
        for index, (text, tag) in enumerate(present):
            if tag in self.block_tags:
                following = present[index + 1][1] if index + 1 < len(present) else None
                spaced = tag in _SPACED_BLOCKS and following in self.block_tags
                output += ["" if line_start else "\n", text, "\n\n" if spaced else "\n"]
                line_start = True
            else:
                output.append(text)
                line_start = text.endswith("\n")
        return self.fs("".join(output).strip())

    async def custom_node_to_fstring(
        self, node: HTMLNode, ctx: RecursionContext
    ) -> DiscordMarkdown | None:
        if node.tag == "pre":
            return self._pre(node)
        if node.tag == "code":
            return self.fs(inline_code(strip_marks(_raw_text(node))))
        if node.tag == "strike":  # mautrix knows <s> and <del> only
            return (await self.tag_aware_parse_node(node, ctx)).format(EntityType.STRIKETHROUGH)
        if node.tag == "sub":
            inner = await self.tag_aware_parse_node(node, ctx)
            return self.fs(f"{_SUB_OPEN}{inner.text}{_SUB_CLOSE}") if inner.text else inner
        return None

    def _pre(self, node: HTMLNode) -> DiscordMarkdown:
        target, language = node, ""
        if len(node) == 1 and node[0].tag == "code" and not node.text.strip():
            target = node[0]
            classes = target.attrib.get("class", "").split()
            language = next((c[9:] for c in classes if c.startswith("language-")), "")
        code = strip_marks(_raw_text(target))
        return self.fs(code_block(code.removesuffix("\n"), language))

    async def hr_to_fstring(self, node: HTMLNode, ctx: RecursionContext) -> DiscordMarkdown:
        return self.fs(RULE)

    async def color_to_fstring(self, msg: DiscordMarkdown, color: str) -> DiscordMarkdown:
        return msg

    async def spoiler_to_fstring(self, msg: DiscordMarkdown, reason: str) -> DiscordMarkdown:
        msg = msg.format(EntityType.SPOILER)
        reason = (reason or "").strip()  # a bare attribute parses as None
        return self.fs(f"{escape_text(reason)} {msg.text}") if reason else msg

    async def url_to_fstring(self, msg: DiscordMarkdown, url: str) -> DiscordMarkdown | None:
        text = " ".join(msg.text.split())
        if not _HTTP.match(url):
            return self.fs(f"{text} ({escape_text(url)})" if text else escape_text(url))
        if not text or strip_marks(text) == url:
            return self.fs(url)
        if _HTTP.match(strip_marks(text)):  # Discord refuses masked links that show a URL
            return self.fs(f"{text} ({url})")
        link_text = await self._as_link_text(self._links[-1]) if self._links else None
        if link_text is None:
            return self.fs(unmasked_link(text, url))
        return self.fs(masked_link(link_text, url))

    async def user_pill_to_fstring(
        self, msg: DiscordMarkdown, user_id: UserID
    ) -> DiscordMarkdown | None:
        discord_id = self.ctx.ghost_user_ids.get(user_id)
        if discord_id is not None:
            self.user_ids.append(discord_id)
            return self.fs(f"<@{discord_id}>")
        name = visible_name(self.ctx.display_names.get(user_id) or "")
        return self.fs(escape_text("@" + (name or user_id.removeprefix("@").split(":")[0])))

    async def room_pill_to_fstring(
        self, msg: DiscordMarkdown, room_alias: RoomAlias
    ) -> DiscordMarkdown | None:
        return self._room(msg, room_alias)

    async def room_id_link_to_fstring(
        self, msg: DiscordMarkdown, room_id: RoomID
    ) -> DiscordMarkdown | None:
        return self._room(msg, room_id)

    def _room(self, msg: DiscordMarkdown, room: str) -> DiscordMarkdown:
        channel_id = self.ctx.room_channels.get(room)
        if channel_id is not None:
            return self.fs(f"<#{channel_id}>")
        return msg if msg.text.strip() else self.fs(escape_text(room))

    async def img_to_fstring(self, node: HTMLNode, ctx: RecursionContext) -> DiscordMarkdown:
        src = node.attrib.get("src", "")
        alt = node.attrib.get("alt") or node.attrib.get("title") or ""
        if "data-mx-emoticon" in node.attrib:
            name = alt.strip().strip(":")
            emoji = self.ctx.emoji_by_mxc.get(src) or self.ctx.emoji_by_name.get(name)
            if emoji is not None:
                return self.fs(f"<{'a' if emoji.animated else ''}:{emoji.name}:{emoji.id}>")
            return self.fs(escape_text(f":{name}:") if name else "")
        if _HTTP.match(src):
            return self.fs(plain_link(alt, src) if alt.strip() else src)
        return self.fs(escape_text(alt))


def _raw_text(node: HTMLNode) -> str:
    """The text of a node as written (code keeps its whitespace; `<br>` is a newline)."""
    parts = [node.text]
    for child in node:
        parts.append("\n" if child.tag == "br" else _raw_text(child))
        parts.append(child.tail)
    return "".join(parts)
