"""Discord attachments and stickers as Matrix media events (or links when not uploaded)."""

from __future__ import annotations

import mimetypes
from html import escape
from typing import Any

from ..message_model import AttachmentSnapshot, StickerFormat, StickerSnapshot
from .context import UploadedMedia
from .markdown import Formatted, neutralise_room_mentions

# Media spoilers: MSC4193 (what mautrix-discord writes since v0.7.4, read by Element, FluffyChat
# and Cinny) and the older MSC3725 content warning (mautrix-telegram, gomuks).
SPOILER_KEY = "page.codeberg.everypizza.msc4193.spoiler"
CONTENT_WARNING_KEY = "town.robin.msc3725.content_warning"
SPOILER_FIELDS: dict[str, Any] = {
    SPOILER_KEY: True,
    CONTENT_WARNING_KEY: {"type": "town.robin.msc3725.spoiler"},
}
# MSC3245 voice messages: clients show a voice player for m.audio events with these keys.
VOICE_KEY = "org.matrix.msc3245.voice"
AUDIO_KEY = "org.matrix.msc1767.audio"

# Discord renders stickers at 160×160; the files are 320×320.
STICKER_SIZE = 160
STICKER_MIMETYPES = {
    StickerFormat.PNG: "image/png",
    StickerFormat.APNG: "image/apng",
    StickerFormat.GIF: "image/gif",
}


def safe_url(url: str | None) -> str | None:
    """The URL if it is a web link (http or https, any case), else None: only those become
    hrefs (never a file:, javascript: or data: URL from a payload)."""
    return url if url and url[:8].lower().startswith(("https://", "http://")) else None


def human_size(size: int) -> str:
    """A byte count as people read it: 512 B, 1.5 KB, 24.0 MB."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def mimetype_of(attachment: AttachmentSnapshot, media: UploadedMedia | None = None) -> str | None:
    """Discord's content type, else the uploaded one, else a guess from the file name."""
    if attachment.content_type:
        return attachment.content_type.split(";")[0].strip()
    if media is not None and media.mimetype:
        return media.mimetype
    return mimetypes.guess_type(attachment.filename)[0]


def msgtype_of(attachment: AttachmentSnapshot, mimetype: str | None) -> str:
    if attachment.voice_message:
        return "m.audio"
    major = (mimetype or "").split("/")[0]
    return {"image": "m.image", "video": "m.video", "audio": "m.audio"}.get(major, "m.file")


def attachment_content(
    attachment: AttachmentSnapshot, media: UploadedMedia, caption: Formatted | None = None
) -> dict[str, Any]:
    """An uploaded attachment as m.image/m.video/m.audio/m.file content.

    With a caption, ``body`` (and ``formatted_body``) is the caption and ``filename`` the file
    name, which is how Matrix tells a captioned file from a plain one.
    """
    mimetype = mimetype_of(attachment, media)
    msgtype = msgtype_of(attachment, mimetype)
    info: dict[str, Any] = {"size": media.size if media.size is not None else attachment.size}
    if mimetype:
        info["mimetype"] = mimetype
    if msgtype in ("m.image", "m.video") and attachment.width and attachment.height:
        info["w"], info["h"] = attachment.width, attachment.height
    duration_ms = (
        round(attachment.duration_seconds * 1000)
        if attachment.duration_seconds is not None
        else None
    )
    if msgtype in ("m.video", "m.audio") and duration_ms is not None:
        info["duration"] = duration_ms
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": caption.body if caption else attachment.filename,
        "filename": attachment.filename,
        "url": media.mxc,
        "info": info,
    }
    if caption is not None and caption.html is not None:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = caption.html
    if attachment.voice_message:
        content[VOICE_KEY] = {}
        content[AUDIO_KEY] = {"duration": duration_ms} if duration_ms is not None else {}
    if attachment.spoiler:
        content.update(SPOILER_FIELDS)
    return content


def attachment_link(attachment: AttachmentSnapshot) -> Formatted:
    """A file that is not in the media repository (too big, download failed): a link to
    Discord's copy, with the name and size, spoiler-hidden when Discord hides it."""
    size = human_size(attachment.size)
    url = safe_url(attachment.url)  # a file:, javascript: or data: URL is never shown as a link
    name = neutralise_room_mentions(attachment.filename)
    body = f"📎 {name} ({size})" + (f": {url}" if url else "")
    link = escape(attachment.filename)
    if url is not None:
        link = f'<a href="{escape(url)}">{link}</a>'
    if attachment.spoiler:
        link = f"<span data-mx-spoiler>{link}</span>"
    return Formatted(body, f"📎 {link} ({size})")


def sticker_event(
    sticker: StickerSnapshot, media: UploadedMedia | None
) -> tuple[str, dict[str, Any]]:
    """(event type, content) of a sticker: an m.sticker when an image was uploaded, else a
    text placeholder (Lottie stickers are JSON animations Matrix clients cannot show)."""
    mimetype = STICKER_MIMETYPES.get(StickerFormat(sticker.format)) if _known(sticker) else None
    if media is not None and mimetype is not None:
        info: dict[str, Any] = {"mimetype": mimetype, "w": STICKER_SIZE, "h": STICKER_SIZE}
        if media.size is not None:
            info["size"] = media.size
        return "m.sticker", {"body": sticker.name, "url": media.mxc, "info": info}
    text = f"[sticker: {sticker.name}]"
    content: dict[str, Any] = {"msgtype": "m.text", "body": text}
    if mimetype is not None and safe_url(sticker.url):
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = f'<a href="{escape(sticker.url)}">{escape(text)}</a>'
    return "m.room.message", content


def _known(sticker: StickerSnapshot) -> bool:
    return sticker.format in StickerFormat._value2member_map_
