"""Discord message → Matrix events (pure): replies, threads, forwards and mentions."""

from __future__ import annotations

import pytest

from bridge.convert.d2m.context import ReplyTarget, ThreadTarget
from bridge.convert.d2m.message import convert_message
from bridge.convert.message_model import (
    ForwardedSnapshot,
    MentionSnapshot,
    MessageType,
    ReferenceSnapshot,
)

from .message_samples import (
    BOB,
    BOB_MXID,
    FILE,
    LATEST,
    REPLIED,
    REPLY,
    ROOT,
    attachment,
    context,
    kinds,
    message,
    uploaded,
)

# ---- relations ---------------------------------------------------------------------------


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
