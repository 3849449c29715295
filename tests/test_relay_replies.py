"""Replies across the bridge end to end: who a Discord reply notifies in Matrix, and how a
Matrix reply names its Discord author on Discord."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bridge.sandbox.discord.store import Message
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import eventually, ghost
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow


@pytest.fixture
async def human(lounge: Lounge, make_matrix_user) -> MatrixTestClient:  # noqa: ANN001
    """A Matrix user called Ann, in the lounge."""
    client = await make_matrix_user(displayname="Ann")
    await client.join(lounge.space)
    await client.join(lounge.room)
    return client


async def discord_message(
    lounge: Lounge, predicate: Callable[[Message], bool], what: str
) -> Message:
    async def check() -> Message | None:
        return next((m for m in lounge.store.history(lounge.channel_id) if predicate(m)), None)

    return await eventually(check, what)


async def matrix_event(lounge: Lounge, body: str) -> dict[str, Any]:
    return await lounge.wait_for(lambda e: e["content"].get("body") == body, repr(body))


async def test_discord_reply_to_a_matrix_users_message_mentions_them(
    lounge: Lounge, human: MatrixTestClient
) -> None:
    question_event = await human.send_text(lounge.room, "question")
    w = await discord_message(lounge, lambda m: m.content == "question", "question on Discord")
    assert w.webhook_id is not None

    # Discord lists no webhook author in `mentions`, ping or not: the bridge adds Ann itself.
    reply = lounge.store.create_message(
        lounge.channel_id, lounge.user("bob"), "answer", reply_to=w.id
    )
    assert reply.mentions == []
    answer = await matrix_event(lounge, "answer")
    assert answer["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": question_event}}
    assert answer["content"]["m.mentions"] == {"user_ids": [human.user_id]}

    # A pill of someone else in the reply: both are notified.
    carol = lounge.user("carol")
    lounge.store.create_message(
        lounge.channel_id, lounge.user("bob"), f"<@{carol}> see", reply_to=w.id
    )
    both = await lounge.wait_for(
        lambda e: e["content"].get("body", "").endswith(" see"), "the reply with a pill"
    )
    assert sorted(both["content"]["m.mentions"]["user_ids"]) == sorted(
        [ghost(carol), human.user_id]
    )


@pytest.mark.parametrize(
    ("allowed_mentions", "pinged"),
    [(None, True), ({"replied_user": True}, True), ({"replied_user": False}, False)],
    ids=["default", "ping-on", "ping-off"],
)
async def test_discord_reply_to_a_discord_user_follows_the_ping(
    lounge: Lounge, allowed_mentions: dict[str, Any] | None, pinged: bool
) -> None:
    alice, bob = lounge.user("alice"), lounge.user("bob")
    question = lounge.store.create_message(lounge.channel_id, alice, "question")
    await lounge.event_of(question.id)
    lounge.store.create_message(
        lounge.channel_id, bob, "answer", reply_to=question.id, allowed_mentions=allowed_mentions
    )
    answer = await matrix_event(lounge, "answer")
    expected = {"user_ids": [ghost(alice)]} if pinged else {}
    assert answer["content"]["m.mentions"] == expected


async def test_matrix_reply_quote_names_discord_authors_by_their_discord_name(
    lounge: Lounge, human: MatrixTestClient
) -> None:
    alice = lounge.user("alice")
    lounge.store.update_member(lounge.community.guild_id, alice, nick="Ally")
    hook = lounge.store.create_webhook(lounge.channel_id, "Integrations")
    targets = {
        "Ally": lounge.store.create_message(lounge.channel_id, alice, "from a member"),
        "CI bot": lounge.store.create_message(
            lounge.channel_id, hook.id, "from a hook", webhook_id=hook.id, webhook_name="CI bot"
        ),
    }
    for name, target in targets.items():
        target_event = await lounge.event_of(target.id)
        await human.send(
            lounge.room,
            {
                "msgtype": "m.text",
                "body": f"replying to {name}",
                "m.relates_to": {"m.in_reply_to": {"event_id": target_event}},
            },
        )
        sent = await discord_message(
            lounge, lambda m, name=name: m.content.endswith(f"replying to {name}"), "the reply"
        )
        quote = sent.content.splitlines()[0]
        assert quote.startswith(f"> **{name}**: {target.content}"), quote
        assert "(Discord)" not in quote and "[bot]" not in quote


async def test_a_blank_line_after_a_quote_reaches_discord(
    lounge: Lounge, human: MatrixTestClient
) -> None:
    await human.send(
        lounge.room,
        {
            "msgtype": "m.text",
            "body": "> quoted\n\nand after",
            "format": "org.matrix.custom.html",
            "formatted_body": "<blockquote>\n<p>quoted</p>\n</blockquote>\n<p>and after</p>\n",
        },
    )
    sent = await discord_message(lounge, lambda m: "and after" in m.content, "the message")
    assert sent.content == "> quoted\n\nand after"
