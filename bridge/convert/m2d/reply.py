"""Small pieces of Discord text: reply quotes, locations, files that could not be uploaded."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..d2m.attachments import CONTENT_WARNING_KEY, SPOILER_KEY
from .escape import escape_text
from .formatting import masked_link
from .links import plain_link
from .names import visible_name

EXCERPT_LENGTH = 100
_WHITESPACE = re.compile(r"\s+")
_GEO = re.compile(r"geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_HTTP = re.compile(r"https?://", re.IGNORECASE)


def reply_line(author_name: str, excerpt: str, jump_url: str | None) -> str:
    """The quote line a webhook message starts with, since webhooks cannot reply natively.

    `> **Author**: excerpt… [↪](<url>)`: one line, the excerpt cut to 100 characters and
    escaped; the angle brackets stop Discord from embedding the jumped-to message. The caller
    puts the message on the next line.
    """
    line = f"> **{escape_text(visible_name(author_name)) or 'someone'}**"
    short = _shorten(_one_line(excerpt), EXCERPT_LENGTH)
    if short:
        line += f": {escape_text(short)}"
    if jump_url and _HTTP.match(jump_url):
        line += " " + masked_link("↪", jump_url, embed=False)
    return line


def location_text(content: dict[str, object]) -> str:
    """An m.location as its description and an OpenStreetMap link (Discord has no map pin)."""
    body = content.get("body")
    description = escape_text(_one_line(body)) if isinstance(body, str) else ""
    geo_uri = content.get("geo_uri")
    match = _GEO.match(geo_uri) if isinstance(geo_uri, str) else None
    if match is None:
        return f"📍 {description}" if description else "📍 (location)"
    lat, lon = match.groups()
    if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
        return f"📍 {description}" if description else "📍 (location)"
    url = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
    return f"📍 {description}: {url}" if description else f"📍 {url}"


def media_is_spoiler(content: Mapping[str, object]) -> bool:
    """A Matrix file marked as a spoiler (MSC4193, or MSC3725's content warning)."""
    return bool(content.get(SPOILER_KEY)) or bool(content.get(CONTENT_WARNING_KEY))


def media_fallback(filename: str, url: str | None) -> str:
    """A file too large to upload to Discord: its name, linked when there is a URL."""
    name = _one_line(filename) or "file"
    if url and _HTTP.match(url):
        return "📎 " + plain_link(name, url)
    return f"📎 {escape_text(name)}"


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _shorten(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    cut = text.rfind(" ", length // 2, length)
    return text[: cut if cut > 0 else length].rstrip() + "…"
