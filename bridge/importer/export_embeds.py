"""DCE export embeds (poll results' included) and forwarded messages → snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..convert.d2m.embeds import url_in_content
from ..convert.message_model import (
    EmbedFieldSnapshot,
    EmbedSnapshot,
    ForwardedSnapshot,
    MessageType,
)
from .export_media import attachments
from .export_values import MediaFiles, color, flag, obj, objects, opt_text, timestamp_ms


def _image_url(parent: Mapping[str, Any], key: str, where: str, media: MediaFiles) -> str | None:
    """An embed image's original URL (``canonicalUrl``, newer DCE), else what ``url`` holds:
    a web URL, or a usable local file's path."""
    raw = parent.get(key)
    if raw is None:
        return None
    image = obj(raw, f"{where}.{key}")
    canonical = opt_text(image, "canonicalUrl", f"{where}.{key}")
    if canonical and not media.is_local(canonical):
        return canonical
    return media.url_or_path(opt_text(image, "url", f"{where}.{key}"))


def _embed(
    raw: Mapping[str, Any], where: str, content: str, kind: int, media: MediaFiles
) -> EmbedSnapshot:
    """DCE does not keep an embed's type: one whose URL the content shows is taken for the
    link preview Discord made of it (the converter then skips it), a poll result message's
    for its data, any other for a rich embed."""
    url = opt_text(raw, "url", where)
    author = obj(raw["author"], f"{where}.author") if raw.get("author") is not None else {}
    footer = obj(raw["footer"], f"{where}.footer") if raw.get("footer") is not None else {}
    images = objects(raw, "images", where)
    image = _image_url(raw, "image", where, media)
    if image is None and images:
        image = _image_url({"image": images[0]}, "image", f"{where}.images", media)
    if kind == MessageType.POLL_RESULT:
        embed_type = "poll_result"
    elif url and url_in_content(url, content):
        embed_type = "link"
    else:
        embed_type = "rich"
    return EmbedSnapshot(
        type=embed_type,
        title=opt_text(raw, "title", where),
        description=opt_text(raw, "description", where),
        url=url,
        author_name=opt_text(author, "name", f"{where}.author"),
        author_url=opt_text(author, "url", f"{where}.author"),
        footer_text=opt_text(footer, "text", f"{where}.footer"),
        image_url=image,
        thumbnail_url=_image_url(raw, "thumbnail", where, media),
        video_url=_image_url(raw, "video", where, media),
        color=color(raw.get("color")),
        fields=tuple(
            EmbedFieldSnapshot(
                name=opt_text(f, "name", f"{where}.fields[{i}]") or "",
                value=opt_text(f, "value", f"{where}.fields[{i}]") or "",
                inline=flag(f, "isInline", f"{where}.fields[{i}]"),
            )
            for i, f in enumerate(objects(raw, "fields", where))
        ),
    )


def embeds(
    parent: Mapping[str, Any], where: str, content: str, kind: int, media: MediaFiles
) -> tuple[EmbedSnapshot, ...]:
    return tuple(
        _embed(raw, f"{where}.embeds[{i}]", content, kind, media)
        for i, raw in enumerate(objects(parent, "embeds", where))
    )


def forwarded(
    parent: Mapping[str, Any], where: str, media: MediaFiles, files: dict[int, Path]
) -> ForwardedSnapshot | None:
    raw = parent.get("forwardedMessage")
    if raw is None:
        return None
    here = f"{where}.forwardedMessage"
    forwarded = obj(raw, here)
    content = opt_text(forwarded, "content", here) or ""
    return ForwardedSnapshot(
        content=content,
        attachments=attachments(forwarded, here, media, files),
        embeds=embeds(forwarded, here, content, MessageType.DEFAULT, media),
        timestamp_ms=timestamp_ms(forwarded, "timestamp", here),
    )
