"""Embeds, polls and forwards of a Discord message as quoted text of its Matrix text event.

Every piece of Discord markdown goes through ``markdown.discord_to_matrix``; titles, author
names and footers are plain text on Discord and are only escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import unquote

from ..message_model import AttachmentSnapshot, EmbedSnapshot, ForwardedSnapshot, PollSnapshot
from .attachments import attachment_link, safe_url
from .context import MessageContext
from .markdown import Formatted, discord_to_matrix, neutralise_room_mentions

# Link previews Discord makes from URLs in the content; "rich" embeds are written by bots.
PREVIEW_TYPES = frozenset({"link", "article", "image", "video", "gifv"})
# Embeds that carry data rather than something to show (a poll result is a system message).
HIDDEN_TYPES = frozenset({"poll_result"})
PREVIEW_DESCRIPTION_CHARS = 300

_BLOCK_TAG = re.compile(r"<(p|pre|ul|ol|blockquote|h[1-6]|table|div|hr)\b")


def html_of(piece: Formatted) -> str:
    """A piece's HTML, or its plain body escaped, with line breaks kept."""
    if piece.html is not None:
        return piece.html
    return escape(piece.body).replace("\n", "<br>")


def block(html: str) -> str:
    """Wrap inline HTML in a paragraph; block HTML is left as it is."""
    return html if _BLOCK_TAG.search(html) else f"<p>{html}</p>"


def join(pieces: Iterable[Formatted]) -> Formatted | None:
    """Pieces one after the other, as paragraphs; HTML only if some piece has HTML."""
    parts = [p for p in pieces if p.body or p.html]
    if len(parts) < 2:
        return parts[0] if parts else None
    body = "\n\n".join(p.body for p in parts)
    if all(p.html is None for p in parts):
        return Formatted(body, None)
    return Formatted(body, "".join(block(html_of(p)) for p in parts))


def quote(piece: Formatted) -> Formatted:
    body = "\n".join(f"> {line}" if line else ">" for line in piece.body.split("\n"))
    return Formatted(body, f"<blockquote>{block(html_of(piece))}</blockquote>")


def _link(text: str, url: str | None) -> str:
    href = safe_url(url)
    return f'<a href="{escape(href)}">{escape(text)}</a>' if href else escape(text)


def url_in_content(url: str, content: str) -> bool:
    """Whether Discord made this preview from a link the content already shows."""
    candidates = {url, url.rstrip("/"), unquote(url), unquote(url).rstrip("/")}
    return any(candidate and candidate in content for candidate in candidates)


def render_embeds(
    embeds: Sequence[EmbedSnapshot], content: str, ctx: MessageContext
) -> list[Formatted]:
    """Embeds to show after the content, skipping previews of links already in it."""
    rendered = []
    for embed in embeds:
        if embed.type in HIDDEN_TYPES:
            continue
        if embed.type in PREVIEW_TYPES:
            if embed.url and url_in_content(embed.url, content):
                continue
            preview = render_preview(embed)
            if preview is not None:
                rendered.append(preview)
        else:
            rendered.append(render_rich(embed, ctx))
    return rendered


def render_rich(embed: EmbedSnapshot, ctx: MessageContext) -> Formatted:
    """A rich embed as a quote: author, linked title, description, fields, images, footer."""
    lines: list[str] = []
    blocks: list[str] = []
    if embed.author_name:
        lines.append(embed.author_name)
        blocks.append(f"<p>{_link(embed.author_name, embed.author_url)}</p>")
    if embed.title:
        url = safe_url(embed.url)
        lines.append(f"{embed.title} ({url})" if url else embed.title)
        blocks.append(f"<p><strong>{_link(embed.title, embed.url)}</strong></p>")
    if embed.description:
        description = discord_to_matrix(embed.description, ctx)
        lines.append(description.body)
        blocks.append(block(html_of(description)))
    for field in embed.fields:
        value = discord_to_matrix(field.value, ctx)
        separator = "\n" if "\n" in value.body else ": "
        lines.append(f"{field.name}{separator}{value.body}")
        value_html = html_of(value)
        name_html = f"<strong>{escape(field.name)}</strong>"
        if _BLOCK_TAG.search(value_html):
            blocks.append(f"<p>{name_html}</p>{value_html}")
        else:
            blocks.append(f"<p>{name_html}<br>{value_html}</p>")
    for label, url in (
        ("Image", embed.image_url),
        ("Thumbnail", embed.thumbnail_url),
        ("Video", embed.video_url),
    ):
        if safe_url(url) and not (label == "Thumbnail" and url == embed.image_url):
            lines.append(f"{label}: {url}")
            blocks.append(f"<p>{_link(label, url)}</p>")
    if embed.footer_text:
        lines.append(embed.footer_text)
        blocks.append(f"<p><sub>{escape(embed.footer_text)}</sub></p>")
    if not lines:  # an embed with nothing readable (only a colour)
        return Formatted("", None)
    body = "\n".join(lines)
    quoted = quote(Formatted(neutralise_room_mentions(body), None))
    return Formatted(quoted.body, f"<blockquote>{''.join(blocks)}</blockquote>")


def render_preview(embed: EmbedSnapshot) -> Formatted | None:
    """A link preview whose link is not in the content: its title (linked) and a short
    description, quoted."""
    url = safe_url(embed.url) or safe_url(embed.image_url) or safe_url(embed.video_url)
    title = embed.title or embed.provider_name or url
    if title is None:
        return None
    description = (embed.description or "").strip()
    if len(description) > PREVIEW_DESCRIPTION_CHARS:
        description = description[: PREVIEW_DESCRIPTION_CHARS - 1].rstrip() + "…"
    lines = [f"{title} ({url})" if url and url != title else title]
    blocks = [f"<p><strong>{_link(title, url)}</strong></p>"]
    if description:
        lines.append(description)
        blocks.append(f"<p>{escape(description).replace(chr(10), '<br>')}</p>")
    quoted = quote(Formatted(neutralise_room_mentions("\n".join(lines)), None))
    return Formatted(quoted.body, f"<blockquote>{''.join(blocks)}</blockquote>")


def _votes(count: int) -> str:
    return "1 vote" if count == 1 else f"{count} votes"


def render_poll(poll: PollSnapshot, ctx: MessageContext) -> Formatted:
    """A poll as its question and numbered answers; vote counts once it has closed (before,
    they change with every vote and an edit per vote would flood the room)."""
    question = discord_to_matrix(poll.question, ctx)
    header = "Poll (closed)" if poll.finished else "Poll"
    lines = [f"📊 {header}: {question.body}"]
    items = []
    for number, answer in enumerate(poll.answers, start=1):
        text = discord_to_matrix(answer.text, ctx)
        prefix = f"{answer.emoji} " if answer.emoji else ""
        votes = f" ({_votes(answer.votes)})" if poll.finished and answer.votes is not None else ""
        lines.append(f"{number}. {prefix}{text.body}{votes}")
        items.append(f"<li>{escape(prefix)}{html_of(text)}{escape(votes)}</li>")
    html = f"<p>📊 <strong>{header}:</strong> {html_of(question)}</p><ol>{''.join(items)}</ol>"
    if poll.multiple and not poll.finished:
        lines.append("(several answers allowed)")
        html += "<p><em>(several answers allowed)</em></p>"
    return Formatted("\n".join(lines), html)


def render_forward(
    forwarded: ForwardedSnapshot,
    ctx: MessageContext,
    linked: Sequence[AttachmentSnapshot] = (),
) -> Formatted:
    """A forwarded message as a quote: "Forwarded message:", its content, links to its files
    that were not uploaded (``linked``) and its embeds."""
    pieces = [Formatted("Forwarded message:", "<p><em>Forwarded message:</em></p>")]
    if forwarded.content:
        pieces.append(discord_to_matrix(forwarded.content, ctx))
    pieces.extend(attachment_link(attachment) for attachment in linked)
    pieces.extend(render_embeds(forwarded.embeds, forwarded.content, ctx))
    joined = join(pieces)
    assert joined is not None  # the heading is always there
    return quote(joined)
