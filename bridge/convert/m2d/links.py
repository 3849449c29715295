"""Masked links `[text](url)` on Discord, and when a text may be one's.

Discord applies no backslash escapes inside a masked link's text: the backslashes show
(discord-api-docs#6185, Discord staff: "Escaping is disabled in masked links"), yet it still
applies formatting there, and it shows a masked link whose text contains a URL as literal
text (discord-api-docs#7721). So literal text goes into a link only as written, and only when
as written it can form no markup, mention, ping or URL, nor break the `[…](…)` syntax.
Otherwise it stays outside the link, escaped like any other text, followed by the URL:
`text (<url>)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from .escape import escape_text

_URL_UNSAFE = re.compile(r"[\s<>]")
# What literal link text must not contain, since no escape works there.
_NOT_PLAIN = re.compile(
    r"[\[\]]"  # the link's own syntax (a `]` or a `](` would end the text early)
    r"|[`\\*]"  # code spans; backslashes (shown as typed); emphasis, which pairs across the link
    r"|~~|\|\|"  # strikethrough, spoiler
    r"|<\S"  # <@user>, <#channel>, <:emoji:id>, <t:timestamp>, <url>
    r"|(?<![^\W_])_|_(?![^\W_])"  # an underscore not inside a word (snake_case stays plain)
    r"|@(?:everyone|here|room)"  # pings: the text outside the link knows how to treat them
    r"|https?://\S",  # a URL in the text: Discord shows the whole link as typed
    re.IGNORECASE,
)
# Literal characters that would join a formatting marker written next to them.
_MARKER_CHARS = frozenset("*_~|")


def link_url(url: str) -> str:
    """The URL made safe for Discord's parser: no spaces or angle brackets, balanced parens."""
    url = _URL_UNSAFE.sub(lambda char: quote(char.group(), safe=""), url)
    if url.count("(") != url.count(")"):
        url = url.replace("(", "%28").replace(")", "%29")
    return url


def masked_link(text: str, url: str, *, embed: bool = True) -> str:
    """`[text](url)`, `text` already fit for link text (see `is_plain_link_text`).

    Without `embed`, the URL goes in angle brackets: Discord then shows no preview.
    """
    url = link_url(url)
    return f"[{text}]({url})" if embed else f"[{text}](<{url}>)"


def unmasked_link(escaped_text: str, url: str) -> str:
    """`text (<url>)`: the fallback when a text cannot be a link's; `escaped_text` is already
    escaped as text outside a link is."""
    return f"{escaped_text} (<{link_url(url)}>)"


def is_plain_link_text(text: str) -> bool:
    """Whether `text` (one line) shows exactly as written inside `[…]` on Discord."""
    return "\n" not in text and _NOT_PLAIN.search(text) is None


def plain_link(text: str, url: str, *, embed: bool = True) -> str:
    """Literal text (a file name, an image's alt text) linked to `url`.

    `[text](url)` when the text shows as written there; the bare URL when the text is the
    URL; otherwise `text (<url>)` with the text escaped.
    """
    text = " ".join(text.split())
    if text == url:
        return url
    if text and is_plain_link_text(text):
        return masked_link(text, url, embed=embed)
    return unmasked_link(escape_text(text), url)


@dataclass
class LinkText:
    """What the HTML parser saw while writing a link's text as link text.

    `pieces` are the literal texts as written; `formatted` says formatting markers were put
    around some of them; `unsafe` says something that cannot be in link text was met (code,
    a pill, an image, a spoiler, a block).
    """

    pieces: list[str] = field(default_factory=list)
    formatted: bool = False
    unsafe: bool = False

    def result(self, markdown: str) -> str | None:
        """`markdown` (what the parser wrote) as the link's text, or None if it cannot be."""
        literal = " ".join("".join(self.pieces).split())
        if self.unsafe or not literal or not is_plain_link_text(literal):
            return None
        if self.formatted and any(
            piece.strip() and {piece.strip()[0], piece.strip()[-1]} & _MARKER_CHARS
            for piece in self.pieces
        ):
            return None
        return " ".join(markdown.split())
