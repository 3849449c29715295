"""DCE export attachments, stickers, reactions and custom emoji → snapshots.

Files DCE downloaded (``--media``) are noted in ``files`` by the id of what they belong to.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..convert.message_model import AttachmentSnapshot, StickerSnapshot
from ..convert.model import UserSnapshot
from .export_authors import user_snapshot
from .export_values import (
    MediaFiles,
    enum_value,
    flag,
    number,
    obj,
    objects,
    opt_snowflake,
    opt_text,
    snowflake,
    text,
)
from .model import ImportedReaction

STICKER_FORMATS: dict[str, int] = {"Png": 1, "Apng": 2, "Lottie": 3, "Gif": 4}
# Discord names a voice message's single audio file so; DCE does not keep the message flag.
VOICE_MESSAGE_NAME = "voice-message.ogg"


def attachments(
    parent: Mapping[str, Any], where: str, media: MediaFiles, files: dict[int, Path]
) -> tuple[AttachmentSnapshot, ...]:
    result = []
    for i, raw in enumerate(objects(parent, "attachments", where)):
        here = f"{where}.attachments[{i}]"
        attachment_id = snowflake(raw, "id", here)
        url = opt_text(raw, "url", here) or ""
        name = opt_text(raw, "fileName", here) or url.replace("\\", "/").rsplit("/", 1)[-1]
        path = media.local(url)
        if path is not None:
            files[attachment_id] = path
        result.append(
            AttachmentSnapshot(
                id=attachment_id,
                filename=name,
                url=url,
                size=number(raw, "fileSizeBytes", here),
                content_type=mimetypes.guess_type(name)[0],
                spoiler=name.startswith("SPOILER_"),
                voice_message=name == VOICE_MESSAGE_NAME,
            )
        )
    return tuple(result)


def stickers(
    parent: Mapping[str, Any], where: str, media: MediaFiles, files: dict[int, Path]
) -> tuple[StickerSnapshot, ...]:
    result = []
    for i, raw in enumerate(objects(parent, "stickers", where)):
        here = f"{where}.stickers[{i}]"
        sticker_id = snowflake(raw, "id", here)
        url = opt_text(raw, "sourceUrl", here) or ""
        path = media.local(url)
        if path is not None:
            files[sticker_id] = path
        result.append(
            StickerSnapshot(
                id=sticker_id,
                name=opt_text(raw, "name", here) or "",
                format=enum_value(raw.get("format"), STICKER_FORMATS, 1),
                url=url,
            )
        )
    return tuple(result)


def _custom_emoji_file(
    raw: Mapping[str, Any], where: str, media: MediaFiles, emoji_files: dict[int, Path]
) -> int | None:
    """The custom emoji's id, its image noted when the export holds it on disk; a unicode
    emoji has no id, and its Twemoji picture is of no use to Matrix."""
    emoji_id = opt_snowflake(raw, "id", where)
    if emoji_id is None:
        return None
    path = media.local(opt_text(raw, "imageUrl", where))
    if path is not None:
        emoji_files[emoji_id] = path
    return emoji_id


def reactions(
    parent: Mapping[str, Any], where: str, media: MediaFiles, emoji_files: dict[int, Path]
) -> tuple[ImportedReaction, ...]:
    """Reactions with whoever DCE listed (``users`` may be missing or shorter than
    ``count``: only those can be imported)."""
    result = []
    for i, raw in enumerate(objects(parent, "reactions", where)):
        here = f"{where}.reactions[{i}]"
        emoji = obj(raw.get("emoji"), f"{here}.emoji")
        emoji_id = _custom_emoji_file(emoji, f"{here}.emoji", media, emoji_files)
        users: dict[int, UserSnapshot] = {}
        for j, user in enumerate(objects(raw, "users", here)):
            snapshot = user_snapshot(user, f"{here}.users[{j}]", media)
            users.setdefault(snapshot.id, snapshot)
        result.append(
            ImportedReaction(
                emoji=text(emoji, "name", f"{here}.emoji"),
                emoji_id=emoji_id,
                animated=flag(emoji, "isAnimated", f"{here}.emoji"),
                users=tuple(users.values()),
            )
        )
    return tuple(result)


def inline_emoji_files(
    parent: Mapping[str, Any], where: str, media: MediaFiles, emoji_files: dict[int, Path]
) -> None:
    for i, raw in enumerate(objects(parent, "inlineEmojis", where)):
        _custom_emoji_file(raw, f"{where}.inlineEmojis[{i}]", media, emoji_files)
