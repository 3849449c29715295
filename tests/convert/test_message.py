"""Discord message → Matrix events (pure): text, files, captions and stickers.

Embeds, polls and system messages are in test_message_embeds.py; replies, threads, forwards
and mentions in test_message_relations.py."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.convert.d2m.attachments import CONTENT_WARNING_KEY, SPOILER_KEY
from bridge.convert.d2m.context import UploadedMedia
from bridge.convert.d2m.message import MatrixPart, convert_message
from bridge.convert.message_model import (
    AttachmentSnapshot,
    StickerFormat,
    StickerSnapshot,
)

from .message_samples import (
    ALICE,
    FILE,
    attachment,
    context,
    kinds,
    message,
    uploaded,
)

# ---- text and files ----------------------------------------------------------------------


def test_text_only_is_one_text_event() -> None:
    [part] = convert_message(message(content="hello there"), context())
    assert part == MatrixPart(
        "text", "m.room.message", {"msgtype": "m.text", "body": "hello there", "m.mentions": {}}
    )


def test_empty_message_has_no_parts() -> None:
    assert convert_message(message(content=""), context()) == []


VIDEO = attachment(11, "clip.mp4", "video/mp4", 5_000_000, width=1280, height=720)
AUDIO = attachment(12, "song.mp3", "audio/mpeg", 3_000_000, duration_seconds=61.5)
VOICE = attachment(
    13, "voice-message.ogg", "audio/ogg", 20_000, duration_seconds=3.25, voice_message=True
)


@pytest.mark.parametrize(
    ("file", "msgtype", "info", "extra"),
    [
        (
            attachment(10, "cat.png", "image/png", 4321, width=800, height=600),
            "m.image",
            {"mimetype": "image/png", "size": 4321, "w": 800, "h": 600},
            {},
        ),
        (VIDEO, "m.video", {"mimetype": "video/mp4", "size": 5_000_000, "w": 1280, "h": 720}, {}),
        (AUDIO, "m.audio", {"mimetype": "audio/mpeg", "size": 3_000_000, "duration": 61500}, {}),
        (
            VOICE,
            "m.audio",
            {"mimetype": "audio/ogg", "size": 20_000, "duration": 3250},
            {"org.matrix.msc3245.voice": {}, "org.matrix.msc1767.audio": {"duration": 3250}},
        ),
        (
            attachment(14, "report.pdf", "application/pdf", 99_000),
            "m.file",
            {"mimetype": "application/pdf", "size": 99_000},
            {},
        ),
        # No content type from Discord: guessed from the file name.
        (
            attachment(15, "notes.txt", None, 10),
            "m.file",
            {"mimetype": "text/plain", "size": 10},
            {},
        ),
    ],
    ids=["image", "video", "audio", "voice", "file", "guessed"],
)
def test_attachment_kinds(
    file: AttachmentSnapshot, msgtype: str, info: dict[str, Any], extra: dict[str, Any]
) -> None:
    [part] = convert_message(message(attachments=(file,)), context(media=uploaded(file.id)))
    assert part.kind == f"attachment:{file.id}"
    assert part.event_type == "m.room.message"
    assert part.content == {
        "msgtype": msgtype,
        "body": file.filename,
        "filename": file.filename,
        "url": f"mxc://example.org/media{file.id}",
        "info": info,
        "m.mentions": {},
        **extra,
    }


def test_spoiler_attachment_is_marked_both_ways() -> None:
    file = attachment(20, "SPOILER_plot.png", "image/png", spoiler=True)
    [part] = convert_message(message(attachments=(file,)), context(media=uploaded(20)))
    assert part.content[SPOILER_KEY] is True
    assert part.content[CONTENT_WARNING_KEY] == {"type": "town.robin.msc3725.spoiler"}


def test_attachment_not_uploaded_becomes_a_link_with_name_and_size() -> None:
    big = attachment(21, "movie.mkv", "video/x-matroska", 26_214_400)
    [text, part] = convert_message(message(content="look", attachments=(big,)), context())
    assert kinds([text, part]) == ["text", "attachment:21"]
    assert part.content["msgtype"] == "m.text"
    assert big.url in part.content["body"]
    assert "movie.mkv" in part.content["body"]
    assert "25.0 MB" in part.content["body"]
    assert '<a href="' in part.content["formatted_body"]


def test_text_then_attachments_then_stickers_in_order() -> None:
    files = (attachment(30, "a.png", "image/png"), attachment(31, "b.png", "image/png"))
    sticker = StickerSnapshot(
        40, "wave", StickerFormat.PNG, "https://media.discordapp.net/s/40.png"
    )
    parts = convert_message(
        message(content="hi", attachments=files, stickers=(sticker,)),
        context(media=uploaded(30, 31, 40)),
    )
    assert kinds(parts) == ["text", "attachment:30", "attachment:31", "sticker:40"]


# ---- captions ----------------------------------------------------------------------------


def test_caption_mode_makes_one_media_event() -> None:
    file = attachment(50, "cat.png", "image/png", width=10, height=10)
    msg = message(content="my **cat**", attachments=(file,))
    [part] = convert_message(msg, context(media=uploaded(50)), captions=True)
    assert part.kind == "attachment:50"
    assert part.content["msgtype"] == "m.image"
    assert part.content["filename"] == "cat.png"
    assert part.content["body"] == "my **cat**"
    assert "<strong>cat</strong>" in part.content["formatted_body"]


@pytest.mark.parametrize(
    ("captions", "files", "media", "expected"),
    [
        (False, (50,), (50,), ["text", "attachment:50"]),
        (True, (50, 51), (50, 51), ["text", "attachment:50", "attachment:51"]),
        (True, (50,), (), ["text", "attachment:50"]),  # not uploaded: no media to caption
    ],
    ids=["captions-off", "two-files", "not-uploaded"],
)
def test_caption_mode_only_for_one_uploaded_file(
    captions: bool, files: tuple[int, ...], media: tuple[int, ...], expected: list[str]
) -> None:
    msg = message(
        content="text", attachments=tuple(attachment(i, f"{i}.png", "image/png") for i in files)
    )
    assert (
        kinds(convert_message(msg, context(media=uploaded(*media)), captions=captions)) == expected
    )


def test_caption_mode_without_text_is_a_plain_file() -> None:
    msg = message(attachments=(attachment(50, "cat.png", "image/png"),))
    [part] = convert_message(msg, context(media=uploaded(50)), captions=True)
    assert part.content["body"] == part.content["filename"] == "cat.png"


# ---- stickers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sticker_format", "is_uploaded", "event_type", "mimetype"),
    [
        (StickerFormat.PNG, True, "m.sticker", "image/png"),
        (StickerFormat.APNG, True, "m.sticker", "image/apng"),
        (StickerFormat.GIF, True, "m.sticker", "image/gif"),
        (StickerFormat.LOTTIE, True, "m.room.message", None),
        (StickerFormat.PNG, False, "m.room.message", None),
    ],
    ids=["png", "apng", "gif", "lottie", "not-uploaded"],
)
def test_stickers(
    sticker_format: StickerFormat, is_uploaded: bool, event_type: str, mimetype: str | None
) -> None:
    sticker = StickerSnapshot(
        60, "party", sticker_format, "https://media.discordapp.net/stickers/60.png"
    )
    media = uploaded(60) if is_uploaded else {}
    [part] = convert_message(message(stickers=(sticker,)), context(media=media))
    assert (part.kind, part.event_type) == ("sticker:60", event_type)
    if event_type == "m.sticker":
        assert part.content["body"] == "party"
        assert part.content["url"] == "mxc://example.org/media60"
        assert part.content["info"]["mimetype"] == mimetype
        assert "msgtype" not in part.content
    else:
        assert part.content["msgtype"] == "m.text"
        assert part.content["body"] == "[sticker: party]"


def test_uploaded_media_size_wins_over_discord_size() -> None:
    media = {70: UploadedMedia("mxc://example.org/x", "image/png", size=999)}
    [part] = convert_message(message(attachments=(FILE,)), context(media=media))
    assert part.content["info"]["size"] == 999
    assert ALICE.id  # the author does not matter here
