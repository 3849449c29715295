"""Pins and polls from Matrix, end to end: what Discord shows when a Matrix user pins, unpins,
starts a poll and ends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.store import Message
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import eventually
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow
PINNED = "m.room.pinned_events"


@pytest.fixture
async def keeper(
    lounge: Lounge,
    make_matrix_user,  # noqa: ANN001
    bot_view: MatrixTestClient,
) -> MatrixTestClient:
    """A Matrix user with the power to pin (50) and to redact, in the lounge."""
    client = await make_matrix_user(displayname="Keeper")
    await client.join(lounge.space)
    await client.join(lounge.room)
    levels = await bot_view.state_event(lounge.room, "m.room.power_levels")
    levels["users"][client.user_id] = 50
    await bot_view.send_state(lounge.room, "m.room.power_levels", levels)
    return client


async def discord_message(
    lounge: Lounge, predicate: Callable[[Message], bool], what: str
) -> Message:
    async def check() -> Message | None:
        return next(
            (m for m in lounge.store.history(lounge.channel_id, limit=50) if predicate(m)), None
        )

    return await eventually(check, what)


async def room_pins(lounge: Lounge, expected: list[str]) -> None:
    async def check() -> bool | None:
        state = await lounge.viewer.state_event(lounge.room, PINNED)
        return True if state and state.get("pinned") == expected else None

    await eventually(check, f"the room's pins to be {expected}")


async def test_matrix_pins_and_unpins_reach_discord(
    lounge: Lounge, keeper: MatrixTestClient
) -> None:
    store = lounge.store
    from_discord = store.create_message(lounge.channel_id, lounge.user("alice"), "from discord")
    discord_event = await lounge.event_of(from_discord.id)
    matrix_event = await keeper.send_text(lounge.room, "from matrix")
    from_matrix = await discord_message(lounge, lambda m: m.content == "from matrix", "the message")
    # An event Discord never had (the room's creation): skipped on Discord, kept in the room.
    unbridged = (await lounge.viewer.state(lounge.room, "m.room.create"))[0]["event_id"]

    pins = [discord_event, matrix_event, "$unknown_event_id"]
    await keeper.send_state(lounge.room, PINNED, {"pinned": pins})

    async def both_pinned() -> bool | None:
        ids = {m.id for m in store.pinned_messages(lounge.channel_id)}
        return True if ids == {from_discord.id, from_matrix.id} else None

    await eventually(both_pinned, "both messages pinned on Discord")
    # The bridge's own sync from Discord leaves the Matrix-only pins alone.
    await room_pins(lounge, pins)

    await keeper.send_state(lounge.room, PINNED, {"pinned": [matrix_event, unbridged]})

    async def one_pinned() -> bool | None:
        ids = [m.id for m in store.pinned_messages(lounge.channel_id)]
        return True if ids == [from_matrix.id] else None

    await eventually(one_pinned, "the Discord message unpinned")
    await room_pins(lounge, [matrix_event, unbridged])

    # The bot loses Pin Messages (Manage Messages is not enough since January 2026).
    guild_id, bot = lounge.community.guild_id, lounge.bridge.discord.user
    assert bot is not None
    for role_id in store.get_member(guild_id, bot.id).roles:
        store.update_role(guild_id, role_id, permissions=perms.ALL & ~perms.ADMINISTRATOR)
    store.update_channel(
        lounge.channel_id,
        permission_overwrites=[{"id": bot.id, "type": 1, "deny": perms.PIN_MESSAGES}],
    )
    await keeper.send_state(lounge.room, PINNED, {"pinned": [matrix_event, discord_event]})
    notice = await lounge.wait_for(
        lambda e: (
            e["content"].get("msgtype") == "m.notice" and "Pin Messages" in e["content"]["body"]
        ),
        "the notice that the bot lacks Pin Messages",
    )
    assert "#lounge" in notice["content"]["body"]
    assert notice["content"]["m.mentions"] == {"user_ids": [keeper.user_id]}
    assert [m.id for m in store.pinned_messages(lounge.channel_id)] == [from_matrix.id]


def _poll_content(question: str, answers: list[str], kind: str = "disclosed") -> dict[str, Any]:
    """What Element sends (org.matrix.msc3381.poll.start)."""
    return {
        "org.matrix.msc3381.poll.start": {
            "question": {
                "org.matrix.msc1767.text": question,
                "body": question,
                "msgtype": "m.text",
            },
            "kind": f"org.matrix.msc3381.poll.{kind}",
            "max_selections": 1,
            "answers": [
                {"id": f"answer-{n}", "org.matrix.msc1767.text": text}
                for n, text in enumerate(answers)
            ],
        },
        "org.matrix.msc1767.text": question
        + "".join(f"\n{n}. {a}" for n, a in enumerate(answers, 1)),
    }


async def test_matrix_polls_reach_discord_as_polls_or_text(
    lounge: Lounge, keeper: MatrixTestClient
) -> None:
    start = await keeper.send(
        lounge.room,
        _poll_content("What for lunch?", ["Pizza", "Soup"]),
        "org.matrix.msc3381.poll.start",
    )
    polled = await discord_message(lounge, lambda m: m.poll is not None, "the Discord poll")
    assert polled.poll is not None and polled.webhook_name == "Keeper"
    assert polled.poll["question"]["text"] == "What for lunch?"
    assert [a["poll_media"]["text"] for a in polled.poll["answers"]] == ["Pizza", "Soup"]
    assert not polled.poll["allow_multiselect"]

    long_answer = "a very long answer " * 3 + "that Discord cannot take"  # over 55 characters
    await keeper.send(
        lounge.room,
        {
            "m.poll": {
                "kind": "m.disclosed",
                "question": {"m.text": [{"body": "Which plan?"}]},
                "answers": [
                    {"m.id": "short", "m.text": [{"body": "Short"}]},
                    {"m.id": "long", "m.text": [{"body": long_answer}]},
                ],
            },
            "m.text": [{"body": "Which plan?"}],
        },
        "m.poll.start",
    )
    as_text = await discord_message(
        lounge, lambda m: "Which plan?" in m.content, "the poll as text"
    )
    assert as_text.poll is None
    assert as_text.content == f"📊 **Which plan?**\n1. Short\n2. {long_answer}"

    await keeper.send(
        lounge.room,
        {
            "m.relates_to": {"rel_type": "m.reference", "event_id": start},
            "m.text": [{"body": "The poll has closed. Top answer: Soup"}],
            "m.poll.results": {"answer-0": 1, "answer-1": 2},
        },
        "m.poll.end",
    )
    ended = await discord_message(lounge, lambda m: "Poll ended" in m.content, "the poll's end")
    jump = (
        f"https://discord.com/channels/{lounge.community.guild_id}/{lounge.channel_id}/{polled.id}"
    )
    assert ended.content == (
        f"> **Keeper**: What for lunch? [↪](<{jump}>)\n"
        "📊 **Poll ended: What for lunch?**\n- Soup: 2 votes\n- Pizza: 1 vote"
    )
