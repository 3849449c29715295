"""Discord replies → ``m.mentions`` (pure): who a reply notifies in Matrix.

Discord pings the replied-to author by default (``allowed_mentions.replied_user``) and lists
them in the reply's ``mentions`` when it does; a webhook message's author is never listed. So
a reply to a message that came from Matrix (through the webhook) names its Matrix sender
itself, and a reply to a Discord user's message follows ``mentions``.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.convert.d2m.context import ReplyTarget, ThreadTarget
from bridge.convert.d2m.message import ExistingPart, convert_message, edit_plan
from bridge.convert.message_model import (
    ForwardedSnapshot,
    MentionSnapshot,
    MessageSnapshot,
    MessageType,
    ReferenceSnapshot,
    StickerFormat,
    StickerSnapshot,
)

from .message_samples import (
    BOB,
    BOB_MXID,
    FILE,
    LATEST,
    REPLIED,
    REPLY,
    ROOT,
    context,
    message,
    uploaded,
)

MATRIX_USER = "@ann:example.org"  # posted "question" from Matrix: message W on Discord
FROM_MATRIX = ReplyTarget(REPLIED, MATRIX_USER, from_matrix=True)
FROM_DISCORD = ReplyTarget(REPLIED, BOB_MXID)


def reply(**fields: Any) -> MessageSnapshot:
    return message(type=MessageType.REPLY, reference=REPLY, **fields)


def test_reply_to_a_matrix_users_message_mentions_them() -> None:
    """The issue's case: "answer" replying to W, with nothing in ``mentions`` (Discord never
    lists a webhook author there)."""
    [part] = convert_message(reply(content="answer"), context(reply_to=FROM_MATRIX))
    assert part.content["m.relates_to"] == {"m.in_reply_to": {"event_id": REPLIED}}
    assert part.content["m.mentions"] == {"user_ids": [MATRIX_USER]}


def test_reply_to_matrix_keeps_the_other_pings() -> None:
    msg = reply(content=f"answer, <@{BOB.id}>", mentions=(MentionSnapshot(BOB.id, "Bob"),))
    [part] = convert_message(msg, context(reply_to=FROM_MATRIX))
    assert part.content["m.mentions"] == {"user_ids": [BOB_MXID, MATRIX_USER]}


def test_reply_to_matrix_that_also_pills_them_names_them_once() -> None:
    ctx = context(reply_to=FROM_MATRIX, user_mxids={BOB.id: MATRIX_USER})
    msg = reply(content=f"<@{BOB.id}> answer", mentions=(MentionSnapshot(BOB.id, "Ann"),))
    [part] = convert_message(msg, ctx)
    assert part.content["m.mentions"] == {"user_ids": [MATRIX_USER]}


def test_reply_to_matrix_in_a_thread_mentions_them() -> None:
    ctx = context(reply_to=FROM_MATRIX, thread=ThreadTarget(ROOT, LATEST))
    [part] = convert_message(reply(content="answer"), ctx)
    assert part.content["m.relates_to"]["m.in_reply_to"] == {"event_id": REPLIED}
    assert part.content["m.mentions"] == {"user_ids": [MATRIX_USER]}


def test_reply_to_matrix_with_a_file_mentions_them_on_the_first_part_only() -> None:
    ctx = context(reply_to=FROM_MATRIX, media=uploaded(70))
    text, file = convert_message(reply(content="answer", attachments=(FILE,)), ctx)
    assert text.content["m.mentions"] == {"user_ids": [MATRIX_USER]}
    assert file.content["m.mentions"] == {}


@pytest.mark.parametrize("captions", [True, False])
def test_file_only_reply_to_matrix_mentions_them(captions: bool) -> None:
    ctx = context(reply_to=FROM_MATRIX, media=uploaded(70))
    [file] = convert_message(reply(attachments=(FILE,)), ctx, captions=captions)
    assert file.content["m.mentions"] == {"user_ids": [MATRIX_USER]}
    assert file.content["m.relates_to"] == {"m.in_reply_to": {"event_id": REPLIED}}


def test_captioned_reply_to_matrix_mentions_them() -> None:
    ctx = context(reply_to=FROM_MATRIX, media=uploaded(70))
    [file] = convert_message(reply(content="look", attachments=(FILE,)), ctx, captions=True)
    assert file.content["m.mentions"] == {"user_ids": [MATRIX_USER]}


def test_sticker_reply_to_matrix_mentions_them() -> None:
    sticker = StickerSnapshot(90, "wave", StickerFormat.PNG, "https://media.example/s/90.png")
    [part] = convert_message(reply(stickers=(sticker,)), context(reply_to=FROM_MATRIX))
    assert part.content["m.mentions"] == {"user_ids": [MATRIX_USER]}


def test_long_reply_to_matrix_mentions_them_once_on_the_first_part() -> None:
    parts = convert_message(reply(content="word " * 20_000), context(reply_to=FROM_MATRIX))
    assert len(parts) > 1
    assert parts[0].content["m.mentions"] == {"user_ids": [MATRIX_USER]}
    assert all(part.content["m.mentions"] == {} for part in parts[1:])


def test_edited_reply_to_matrix_does_not_ping_again() -> None:
    existing = [ExistingPart(0, "text", "$answer:example.org", "m.room.message")]
    plan = edit_plan(reply(content="answer, edited"), existing, context(reply_to=FROM_MATRIX))
    [(_, edit)] = plan.replace
    assert edit.content["m.mentions"] == {}
    assert edit.content["m.new_content"]["m.mentions"] == {"user_ids": [MATRIX_USER]}


@pytest.mark.parametrize(
    ("pinged", "expected"),
    [(True, {"user_ids": [BOB_MXID]}), (False, {})],
    ids=["ping-on", "ping-off"],
)
def test_reply_between_discord_users_follows_discords_mentions(
    pinged: bool, expected: dict[str, object]
) -> None:
    """A ghost is notified only when Discord pinged its user (they are in ``mentions``)."""
    mentions = (MentionSnapshot(BOB.id, "Bob"),) if pinged else ()
    [part] = convert_message(
        reply(content="answer", mentions=mentions), context(reply_to=FROM_DISCORD)
    )
    assert part.content["m.mentions"] == expected


def test_forward_of_a_matrix_users_message_mentions_nobody() -> None:
    msg = message(
        reference=ReferenceSnapshot(message_id=1, channel_id=2, forward=True),
        forwarded=ForwardedSnapshot(content="question"),
    )
    [part] = convert_message(msg, context(reply_to=FROM_MATRIX))
    assert part.content["m.mentions"] == {}


def test_reply_to_an_unbridged_message_mentions_nobody() -> None:
    [part] = convert_message(reply(content="answer"), context())
    assert part.content["m.mentions"] == {}
