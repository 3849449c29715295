"""Discord message → Matrix events (pure): embeds, link previews, polls and system messages."""

from __future__ import annotations

import pytest

from bridge.convert.d2m.context import ThreadTarget
from bridge.convert.d2m.message import MatrixPart, convert_message
from bridge.convert.message_model import (
    EmbedFieldSnapshot,
    EmbedSnapshot,
    MessageType,
    PollAnswerSnapshot,
    PollSnapshot,
)
from bridge.convert.model import MemberSnapshot

from .message_samples import (
    ALICE,
    LATEST,
    REPLY,
    ROOT,
    context,
    kinds,
    message,
    text_of,
)

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
