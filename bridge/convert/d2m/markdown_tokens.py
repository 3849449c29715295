"""Discord's angle-bracket tokens, and the text they are found in.

Mentions, custom emoji, timestamps and `<https://…>` links: matched the same way wherever
they appear outside code, each with its span in the message as typed.
"""

from __future__ import annotations

import re

from .markdown_nodes import (
    ChannelMention,
    CommandMention,
    CustomEmoji,
    GuildNavigation,
    Link,
    Node,
    RoleMention,
    Span,
    Text,
    Timestamp,
    UserMention,
)

_USER = re.compile(r"<@!?([0-9]{1,20})>")
_ROLE = re.compile(r"<@&([0-9]{1,20})>")
_CHANNEL = re.compile(r"<#([0-9]{1,20})>")
_EMOJI = re.compile(r"<(a?):([A-Za-z0-9_]{1,32}):([0-9]{1,20})>")
_TIMESTAMP = re.compile(r"<t:(-?[0-9]{1,17})(?::([tTdDfFR]))?>")
_COMMAND = re.compile(r"</([-\w]{1,32}(?: [-\w]{1,32}){0,2}):([0-9]{1,20})>")
_NAVIGATION = re.compile(r"<id:(customize|browse|guide|linked-roles)>")
_AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>")


class Source:
    """Text being parsed, and where each of its characters sits in the original message.

    Quotes and list items are parsed without their `> ` prefixes and indentation; the mapping
    lets a token found there still name its span in the message as typed.
    """

    __slots__ = ("text", "_origin")

    def __init__(self, text: str, origin: list[int] | None = None) -> None:
        self.text = text
        self._origin = origin

    def orig(self, index: int) -> int:
        return index if self._origin is None else self._origin[index]

    def span(self, start: int, end: int) -> Span:
        return (self.orig(start), self.orig(end - 1) + 1)

    def derive(self, segments: list[Span]) -> Source:
        """These segments of this text, joined by newlines."""
        parts: list[str] = []
        origin: list[int] = []
        for index, (start, end) in enumerate(segments):
            if index:
                parts.append("\n")
                origin.append(max(self.orig(start) - 1, 0))
            parts.append(self.text[start:end])
            if self._origin is None:
                origin.extend(range(start, end))
            else:
                origin.extend(self._origin[start:end])
        return Source("".join(parts), origin)


def angle_token(src: Source, pos: int, end: int, *, links: bool) -> tuple[Node, int] | None:
    """Everything Discord writes in angle brackets: mentions, emoji, timestamps, <links>."""
    text = src.text
    if match := _USER.match(text, pos, end):
        return UserMention(int(match.group(1)), src.span(pos, match.end())), match.end()
    if match := _ROLE.match(text, pos, end):
        return RoleMention(int(match.group(1)), src.span(pos, match.end())), match.end()
    if match := _CHANNEL.match(text, pos, end):
        return ChannelMention(int(match.group(1)), src.span(pos, match.end())), match.end()
    if match := _EMOJI.match(text, pos, end):
        span = src.span(pos, match.end())
        emoji = CustomEmoji(int(match.group(3)), match.group(2), match.group(1) == "a", span)
        return emoji, match.end()
    if match := _TIMESTAMP.match(text, pos, end):
        span = src.span(pos, match.end())
        stamp = Timestamp(int(match.group(1)), match.group(2), match.group(), span)
        return stamp, match.end()
    if match := _COMMAND.match(text, pos, end):
        span = src.span(pos, match.end())
        return CommandMention(match.group(1), int(match.group(2)), span), match.end()
    if match := _NAVIGATION.match(text, pos, end):
        return GuildNavigation(match.group(1), src.span(pos, match.end())), match.end()
    if links and (match := _AUTOLINK.match(text, pos, end)):
        url = match.group(1)
        return Link(url, [Text(url)], src.span(pos, match.end())), match.end()
    return None
