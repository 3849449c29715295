"""Discord message → Matrix events (pure): text, files, stickers, embeds, polls, relations."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.convert.d2m.attachments import CONTENT_WARNING_KEY, SPOILER_KEY
from bridge.convert.d2m.context import ReplyTarget, ThreadTarget, UploadedMedia
from bridge.convert.d2m.message import MatrixPart, convert_message
from bridge.convert.message_model import (
    AttachmentSnapshot,
    EmbedFieldSnapshot,
    EmbedSnapshot,
    ForwardedSnapshot,
    MentionSnapshot,
    MessageType,
    PollAnswerSnapshot,
    PollSnapshot,
    ReferenceSnapshot,
    StickerFormat,
    StickerSnapshot,
)
from bridge.convert.model import MemberSnapshot

from .message_samples import (
    ALICE,
    BOB,
    BOB_MXID,
    CHANNEL_ID,
    attachment,
    context,
    message,
    uploaded,
)

REPLIED = "$replied:example.org"
ROOT = "$root:example.org"
LATEST = "$latest:example.org"


def kinds(parts: list[MatrixPart]) -> list[str]:
    return [part.kind for part in parts]


def text_of(part: MatrixPart) -> str:
    """What a reader sees: the HTML when there is some, else the body."""
    return str(part.content.get("formatted_body") or part.content["body"])


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


# ---- embeds ------------------------------------------------------------------------------

RICH = EmbedSnapshot(
    type="rich",
    title="Release 2.0",
    url="https://example.com/release",
    description="Now with **speed**",
    author_name="Build Bot",
    author_url="https://example.com/bot",
    footer_text="CI pipeline",
    image_url="https://example.com/shot.png",
    thumbnail_url="https://example.com/thumb.png",
    color=0x00FF00,
    fields=(
        EmbedFieldSnapshot("Status", "passed", inline=True),
        EmbedFieldSnapshot("Duration", "3m", inline=True),
    ),
)


def test_rich_embed_is_a_readable_quote_after_the_content() -> None:
    [part] = convert_message(message(content="build done", embeds=(RICH,)), context())
    html = part.content["formatted_body"]
    assert html.index("build done") < html.index("<blockquote>")
    assert '<a href="https://example.com/release">Release 2.0</a>' in html
    assert '<a href="https://example.com/bot">Build Bot</a>' in html
    assert "<strong>speed</strong>" in html
    assert "<strong>Status</strong><br>passed" in html
    assert "<strong>Duration</strong><br>3m" in html
    assert '<a href="https://example.com/shot.png">' in html
    assert '<a href="https://example.com/thumb.png">' in html
    assert "CI pipeline" in html
    body = part.content["body"]
    assert body.startswith("build done\n\n> ")
    assert "> Release 2.0 (https://example.com/release)" in body


def test_embed_only_message_has_a_text_part() -> None:
    [part] = convert_message(message(embeds=(RICH,)), context())
    assert part.kind == "text"
    assert part.content["formatted_body"].startswith("<blockquote>")


def test_embed_links_are_only_web_links() -> None:
    embed = EmbedSnapshot(title="click", url="javascript:alert(1)", description="x")
    [part] = convert_message(message(embeds=(embed,)), context())
    assert "javascript:" not in part.content["formatted_body"]


PREVIEW = EmbedSnapshot(
    type="article",
    title="An article",
    url="https://news.example.com/a",
    description="What happened " * 40,
    provider_name="News",
)


@pytest.mark.parametrize(
    ("content", "embed", "shown"),
    [
        ("read https://news.example.com/a", PREVIEW, False),
        ("read https://news.example.com/a/", PREVIEW, False),  # Discord drops the slash
        ("nothing linked", PREVIEW, True),
        (
            "https://img.example.com/cat.png",
            EmbedSnapshot(type="image", url="https://img.example.com/cat.png"),
            False,
        ),
        ("", EmbedSnapshot(type="image", url="https://img.example.com/cat.png"), True),
        (
            "https://tenor.com/view/x",
            EmbedSnapshot(type="gifv", url="https://tenor.com/view/x", provider_name="Tenor"),
            False,
        ),
    ],
    ids=["link-in-content", "slash", "link-elsewhere", "image-in-content", "image-alone", "gifv"],
)
def test_link_previews_are_skipped_when_their_link_is_in_the_content(
    content: str, embed: EmbedSnapshot, shown: bool
) -> None:
    parts = convert_message(message(content=content, embeds=(embed,)), context())
    rendered = "".join(text_of(part) for part in parts)
    assert ("<blockquote>" in rendered) is shown
    if shown:
        assert f'href="{embed.url}"' in rendered


def test_preview_description_is_shortened() -> None:
    [part] = convert_message(message(content="x", embeds=(PREVIEW,)), context())
    assert "…" in part.content["body"]
    assert len(part.content["body"]) < 400


# ---- polls -------------------------------------------------------------------------------


def _poll(finished: bool) -> PollSnapshot:
    return PollSnapshot(
        question="Lunch?",
        answers=(
            PollAnswerSnapshot("Pizza", emoji="🍕", votes=3),
            PollAnswerSnapshot("Salad", votes=1),
        ),
        finished=finished,
    )


def test_open_poll_shows_question_and_numbered_answers_without_votes() -> None:
    [part] = convert_message(message(poll=_poll(False)), context())
    assert part.content["body"] == "📊 Poll: Lunch?\n1. 🍕 Pizza\n2. Salad"
    assert "<ol><li>🍕 Pizza</li><li>Salad</li></ol>" in part.content["formatted_body"]


def test_finished_poll_shows_votes() -> None:
    [part] = convert_message(message(poll=_poll(True)), context())
    assert (
        part.content["body"] == "📊 Poll (closed): Lunch?\n1. 🍕 Pizza (3 votes)\n2. Salad (1 vote)"
    )


# ---- relations ---------------------------------------------------------------------------

REPLY = ReferenceSnapshot(message_id=1, channel_id=CHANNEL_ID)
FILE = attachment(70, "a.png", "image/png")


def test_reply_relation_is_on_the_first_part_only() -> None:
    ctx = context(reply_to=ReplyTarget(REPLIED, BOB_MXID), media=uploaded(70))
    msg = message(content="yes", type=MessageType.REPLY, reference=REPLY, attachments=(FILE,))
    first, second = convert_message(msg, ctx)
    assert first.content["m.relates_to"] == {"m.in_reply_to": {"event_id": REPLIED}}
    assert "m.relates_to" not in second.content
    assert "> " not in first.content["body"]  # no reply fallback


def test_thread_relation_is_on_every_part() -> None:
    ctx = context(thread=ThreadTarget(ROOT, LATEST), media=uploaded(70))
    parts = convert_message(message(content="in thread", attachments=(FILE,)), ctx)
    expected = {
        "rel_type": "m.thread",
        "event_id": ROOT,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": LATEST},
    }
    assert [part.content["m.relates_to"] for part in parts] == [expected, expected]


def test_reply_in_thread_is_a_real_reply_on_the_first_part() -> None:
    ctx = context(
        thread=ThreadTarget(ROOT, LATEST),
        reply_to=ReplyTarget(REPLIED, BOB_MXID),
        media=uploaded(70),
    )
    msg = message(content="yes", type=MessageType.REPLY, reference=REPLY, attachments=(FILE,))
    first, second = convert_message(msg, ctx)
    assert first.content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": ROOT,
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": REPLIED},
    }
    assert second.content["m.relates_to"]["is_falling_back"] is True
    assert second.content["m.relates_to"]["m.in_reply_to"] == {"event_id": LATEST}


def test_reply_without_a_bridged_target_has_no_relation() -> None:
    msg = message(content="yes", type=MessageType.REPLY, reference=REPLY)
    [part] = convert_message(msg, context())
    assert "m.relates_to" not in part.content


# ---- forwards ----------------------------------------------------------------------------


def test_forward_is_a_quote_with_its_content_and_files() -> None:
    kept = attachment(80, "kept.png", "image/png")
    lost = attachment(81, "lost.zip", "application/zip", 90_000_000)
    msg = message(
        reference=ReferenceSnapshot(message_id=5, channel_id=7, forward=True),
        forwarded=ForwardedSnapshot(
            content="original **words**", attachments=(kept, lost), timestamp_ms=1
        ),
    )
    # A forward points at a message that may be bridged: that is no reply.
    ctx = context(media=uploaded(80), reply_to=ReplyTarget(REPLIED, BOB_MXID))
    text, file = convert_message(msg, ctx)
    assert kinds([text, file]) == ["text", "attachment:80"]
    assert text.content["body"].startswith("> Forwarded message:\n>\n> original **words**")
    assert "lost.zip" in text.content["body"] and lost.url in text.content["body"]
    html = text.content["formatted_body"]
    assert html.startswith("<blockquote>") and "<strong>words</strong>" in html
    assert "m.relates_to" not in text.content
    assert file.content["url"] == "mxc://example.org/media80"


def test_forward_with_a_comment_shows_both() -> None:
    msg = message(
        content="see this",
        reference=ReferenceSnapshot(message_id=5, channel_id=7, forward=True),
        forwarded=ForwardedSnapshot(content="quoted"),
    )
    [part] = convert_message(msg, context())
    assert part.content["body"] == "see this\n\n> Forwarded message:\n>\n> quoted"


# ---- system messages ---------------------------------------------------------------------

POLL_RESULT = EmbedSnapshot(
    type="poll_result",
    fields=(
        EmbedFieldSnapshot("poll_question_text", "Lunch?"),
        EmbedFieldSnapshot("victor_answer_votes", "3"),
        EmbedFieldSnapshot("total_votes", "4"),
        EmbedFieldSnapshot("victor_answer_id", "1"),
        EmbedFieldSnapshot("victor_answer_text", "Pizza"),
    ),
)


@pytest.mark.parametrize(
    ("kind", "content", "embeds", "text"),
    [
        (MessageType.CHANNEL_PINNED_MESSAGE, "", (), "Ally pinned a message."),
        (MessageType.USER_JOIN, "", (), "Ally joined the server."),
        (MessageType.GUILD_BOOST, "", (), "Ally boosted the server!"),
        (MessageType.GUILD_BOOST, "3", (), "Ally boosted the server 3 times!"),
        (MessageType.GUILD_BOOST_TIER_1, "", (), "Ally boosted the server! It reached level 1."),
        (MessageType.GUILD_BOOST_TIER_2, "", (), "Ally boosted the server! It reached level 2."),
        (MessageType.GUILD_BOOST_TIER_3, "", (), "Ally boosted the server! It reached level 3."),
        (
            MessageType.CHANNEL_FOLLOW_ADD,
            "News #announcements",
            (),
            "Ally followed News #announcements: its announcements will appear in this channel.",
        ),
        (MessageType.THREAD_CREATED, "Plans", (), "Ally started a thread: Plans"),
        (
            MessageType.POLL_RESULT,
            "",
            (POLL_RESULT,),
            'Ally\'s poll "Lunch?" has closed. The winner is "Pizza" with 3 of 4 votes.',
        ),
    ],
)
def test_system_messages_are_notices(
    kind: MessageType, content: str, embeds: tuple[EmbedSnapshot, ...], text: str
) -> None:
    msg = message(
        type=kind, content=content, embeds=embeds, member=MemberSnapshot(ALICE.id, nick="Ally")
    )
    [part] = convert_message(msg, context())
    assert part == MatrixPart(
        "notice", "m.room.message", {"msgtype": "m.notice", "body": text, "m.mentions": {}}
    )
    assert convert_message(msg, context(), system_messages=False) == []


def test_system_notice_names_the_author_by_global_name_without_nick() -> None:
    msg = message(type=MessageType.USER_JOIN, member=None)
    [part] = convert_message(msg, context())
    assert part.content["body"] == "Alice joined the server."


def test_thread_starter_message_has_no_parts() -> None:
    msg = message(type=MessageType.THREAD_STARTER_MESSAGE, reference=REPLY)
    assert convert_message(msg, context()) == []


def test_notice_in_a_thread_carries_the_thread_relation() -> None:
    msg = message(type=MessageType.CHANNEL_PINNED_MESSAGE)
    [part] = convert_message(msg, context(thread=ThreadTarget(ROOT, LATEST)))
    assert part.content["m.relates_to"]["rel_type"] == "m.thread"


def test_slash_command_output_is_an_ordinary_message() -> None:
    msg = message(type=MessageType.CHAT_INPUT_COMMAND, content="pong")
    assert kinds(convert_message(msg, context())) == ["text"]


# ---- mentions ----------------------------------------------------------------------------


def test_pinged_users_are_in_m_mentions() -> None:
    msg = message(
        content=f"hey <@{BOB.id}>",
        mentions=(MentionSnapshot(BOB.id, "Bob"),),
    )
    [part] = convert_message(msg, context())
    assert part.content["m.mentions"] == {"user_ids": [BOB_MXID]}


def test_a_mention_discord_did_not_ping_pings_nobody() -> None:
    [part] = convert_message(message(content=f"hey <@{BOB.id}>"), context())
    assert part.content["m.mentions"] == {}


def test_reply_ping_without_visible_mention_goes_on_the_first_part() -> None:
    msg = message(
        content="yes",
        type=MessageType.REPLY,
        reference=REPLY,
        mentions=(MentionSnapshot(BOB.id, "Bob"),),
    )
    [part] = convert_message(msg, context(reply_to=ReplyTarget(REPLIED, BOB_MXID)))
    assert part.content["m.mentions"] == {"user_ids": [BOB_MXID]}


@pytest.mark.parametrize(
    ("allowed", "author_may", "room"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
def test_room_mention_needs_config_and_author(allowed: bool, author_may: bool, room: bool) -> None:
    msg = message(content="@everyone meeting now", mention_everyone=True)
    [part] = convert_message(
        msg, context(allow_room_mention=allowed), author_can_mention_everyone=author_may
    )
    assert part.content["m.mentions"] == ({"room": True} if room else {})


def test_media_parts_mention_nobody() -> None:
    msg = message(
        content=f"<@{BOB.id}>", mentions=(MentionSnapshot(BOB.id, "Bob"),), attachments=(FILE,)
    )
    _, file = convert_message(msg, context(media=uploaded(70)))
    assert file.content["m.mentions"] == {}


def test_uploaded_media_size_wins_over_discord_size() -> None:
    media = {70: UploadedMedia("mxc://example.org/x", "image/png", size=999)}
    [part] = convert_message(message(attachments=(FILE,)), context(media=media))
    assert part.content["info"]["size"] == 999
    assert ALICE.id  # the author does not matter here
