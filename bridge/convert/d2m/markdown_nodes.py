"""The tree a Discord message's markdown parses into: context-free, rendered later.

Tokens that depend on the world (mentions, emoji, timestamps) keep their span in the original
text, so that the plain-text body can be the message as typed with only those tokens replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

Span = tuple[int, int]  # [start, end) in the original message text


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class LineBreak:
    pass


@dataclass(frozen=True, slots=True)
class Styled:
    """Inline formatting: "strong", "em", "u", "del" or "spoiler"."""

    style: str
    children: list[Node]


@dataclass(frozen=True, slots=True)
class InlineCode:
    code: str


@dataclass(frozen=True, slots=True)
class CodeBlock:
    code: str
    language: str | None


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    children: list[Node]
    # Set for `<https://…>`: the body shows the bare URL instead of the bracketed one.
    bracketed: Span | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    children: list[Node]


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    children: list[Node]


@dataclass(frozen=True, slots=True)
class Subtext:
    children: list[Node]


@dataclass(frozen=True, slots=True)
class ListBlock:
    ordered: bool
    start: int
    items: list[list[Node]]


@dataclass(frozen=True, slots=True)
class UserMention:
    user_id: int
    span: Span


@dataclass(frozen=True, slots=True)
class RoleMention:
    role_id: int
    span: Span


@dataclass(frozen=True, slots=True)
class ChannelMention:
    channel_id: int
    span: Span


@dataclass(frozen=True, slots=True)
class RoomMention:
    """`@everyone` or `@here`."""

    word: str
    span: Span


@dataclass(frozen=True, slots=True)
class CommandMention:
    name: str
    command_id: int
    span: Span


@dataclass(frozen=True, slots=True)
class GuildNavigation:
    """`<id:customize>` and friends: links to parts of Discord's client."""

    target: str
    span: Span


@dataclass(frozen=True, slots=True)
class CustomEmoji:
    emoji_id: int
    name: str
    animated: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Timestamp:
    seconds: int
    style: str | None
    source: str  # as typed, shown when the time is out of range
    span: Span


Token = (
    UserMention
    | RoleMention
    | ChannelMention
    | RoomMention
    | CommandMention
    | GuildNavigation
    | CustomEmoji
    | Timestamp
)
Node = (
    Text
    | LineBreak
    | Styled
    | InlineCode
    | CodeBlock
    | Link
    | Quote
    | Heading
    | Subtext
    | ListBlock
    | Token
)


def walk(nodes: list[Node]) -> list[Node]:
    """Every node of the tree, depth first in document order."""
    found: list[Node] = []
    stack: list[Node] = list(reversed(nodes))
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, Styled | Link | Quote | Heading | Subtext):
            stack.extend(reversed(node.children))
        elif isinstance(node, ListBlock):
            for item in reversed(node.items):
                stack.extend(reversed(item))
    return found
