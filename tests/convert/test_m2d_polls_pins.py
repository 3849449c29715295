"""Matrix polls (MSC3381) as Discord polls or text, and pin changes, as pure conversions."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.actions.m2d.handle import may_relay
from bridge.convert.m2d.pins import PinChanges, pin_changes, pinned_ids
from bridge.convert.m2d.polls import (
    MatrixPoll,
    PollAnswer,
    discord_poll,
    parse_poll_start,
    poll_end_text,
    poll_results,
    poll_start_of_end,
    poll_text,
)

ANSWERS = (PollAnswer("pizza", "Pizza 🍕"), PollAnswer("soup", "Soup"))
LUNCH = MatrixPoll("What for lunch?", ANSWERS, disclosed=True, max_selections=1)

STABLE = {
    "m.text": [{"mimetype": "text/plain", "body": "What for lunch?\n1. Pizza 🍕\n2. Soup"}],
    "m.poll": {
        "kind": "m.disclosed",
        "max_selections": 1,
        "question": {"m.text": [{"body": "What for lunch?"}]},
        "answers": [
            {"m.id": "pizza", "m.text": [{"body": "Pizza 🍕"}]},
            {"m.id": "soup", "m.text": [{"body": "Soup"}]},
        ],
    },
}
EARLY_STABLE = {
    "m.poll.start": {
        "question": {"m.text": "What for lunch?"},
        "kind": "m.poll.disclosed",
        "answers": [{"id": "pizza", "m.text": "Pizza 🍕"}, {"id": "soup", "m.text": "Soup"}],
    },
}
ELEMENT = {  # what Element sends (org.matrix.msc3381.poll.start)
    "org.matrix.msc3381.poll.start": {
        "question": {
            "org.matrix.msc1767.text": "What for lunch?",
            "body": "What for lunch?",
            "msgtype": "m.text",
        },
        "kind": "org.matrix.msc3381.poll.disclosed",
        "max_selections": 1,
        "answers": [
            {"id": "pizza", "org.matrix.msc1767.text": "Pizza 🍕"},
            {"id": "soup", "org.matrix.msc1767.text": "Soup"},
        ],
    },
    "org.matrix.msc1767.text": "What for lunch?\n1. Pizza 🍕\n2. Soup",
}


@pytest.mark.parametrize(
    "content", [STABLE, EARLY_STABLE, ELEMENT], ids=["stable", "early", "unstable"]
)
def test_every_poll_shape_reads_the_same(content: dict[str, Any]) -> None:
    assert parse_poll_start(content) == LUNCH


@pytest.mark.parametrize(
    ("kind", "disclosed"),
    [
        ("m.disclosed", True),
        ("org.matrix.msc3381.poll.disclosed", True),
        ("m.undisclosed", False),
        ("org.matrix.msc3381.poll.undisclosed", False),
        (None, False),  # MSC3381: an unknown kind counts as undisclosed
        ("com.example.secret", False),
    ],
)
def test_poll_kinds(kind: str | None, disclosed: bool) -> None:
    content = {"m.poll": {**STABLE["m.poll"], "kind": kind}}
    poll = parse_poll_start(content)
    assert poll is not None and poll.disclosed is disclosed


@pytest.mark.parametrize(
    "content",
    [
        {},
        {"m.poll": {"question": {"m.text": [{"body": "Q"}]}, "answers": []}},
        {
            "m.poll": {
                "question": {"m.text": [{"body": " "}]},
                "answers": STABLE["m.poll"]["answers"],
            }
        },
        {"body": "not a poll"},
    ],
)
def test_no_question_or_no_answers_is_no_poll(content: dict[str, Any]) -> None:
    assert parse_poll_start(content) is None


def test_a_poll_that_fits_becomes_a_discord_poll() -> None:
    poll = discord_poll(LUNCH)
    assert poll is not None
    data = poll._to_dict()
    assert data["question"] == {"text": "What for lunch?"}
    assert [a["poll_media"]["text"] for a in data["answers"]] == ["Pizza 🍕", "Soup"]
    assert data["allow_multiselect"] is False
    assert 1 <= data["duration"] <= 768
    several = discord_poll(MatrixPoll("Q", ANSWERS, max_selections=2))
    assert several is not None and several.multiple


def _answers(count: int, length: int = 5) -> tuple[PollAnswer, ...]:
    return tuple(PollAnswer(str(n), f"{n:0{length}d}"[:length]) for n in range(count))


@pytest.mark.parametrize(
    ("poll", "fits"),
    [
        (MatrixPoll("q" * 300, _answers(10, 55)), True),  # exactly Discord's limits
        (MatrixPoll("q" * 301, _answers(2)), False),  # question over 300 characters
        (MatrixPoll("Q", _answers(11)), False),  # more than 10 answers
        (MatrixPoll("Q", _answers(2, 56)), False),  # an answer over 55 characters
        (MatrixPoll("Q", _answers(2), disclosed=False), False),  # Discord shows votes at once
    ],
    ids=["at-limits", "long-question", "eleven-answers", "long-answer", "undisclosed"],
)
def test_discords_limits_decide_poll_or_text(poll: MatrixPoll, fits: bool) -> None:
    assert (discord_poll(poll) is not None) is fits


def test_text_fallback_lists_the_answers_escaped() -> None:
    assert poll_text(LUNCH) == "📊 **What for lunch?**\n1. Pizza 🍕\n2. Soup"
    tricky = MatrixPoll(
        "@everyone *vote*", (PollAnswer("a", "<@1> x_y"), PollAnswer("b", "# big")), False, 2
    )
    assert poll_text(tricky) == (
        "📊 **@\u200beveryone \\*vote\\***\n1. \\<@1> x\\_y\n2. # big\n"
        "-# Up to 2 answers.\n-# Results are shown when the poll ends."
    )


def test_poll_end_with_and_without_results() -> None:
    end = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": "$start"},
        "m.text": [{"body": "The poll has closed. Top answer: Soup"}],
        "m.poll.results": {"pizza": 1, "soup": 3},
    }
    assert poll_start_of_end(end) == "$start"
    assert poll_results(end) == {"pizza": 1, "soup": 3}
    assert poll_end_text(LUNCH, poll_results(end)) == (
        "📊 **Poll ended: What for lunch?**\n- Soup: 3 votes\n- Pizza 🍕: 1 vote"
    )
    element_end = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": "$start"},
        "org.matrix.msc3381.poll.end": {},
        "org.matrix.msc1767.text": "Ended poll",
    }
    assert poll_results(element_end) is None
    assert poll_end_text(LUNCH, None) == "📊 **Poll ended: What for lunch?**"
    assert poll_end_text(None, None) == "📊 **Poll ended.**"
    # A tie keeps the poll's order; answers nobody chose count 0.
    assert poll_end_text(LUNCH, {"soup": 2, "pizza": 2}).splitlines()[1:] == [
        "- Pizza 🍕: 2 votes",
        "- Soup: 2 votes",
    ]
    assert poll_end_text(LUNCH, {"soup": 1}).splitlines()[1:] == [
        "- Soup: 1 vote",
        "- Pizza 🍕: 0 votes",
    ]


@pytest.mark.parametrize(
    ("before", "after", "changes"),
    [
        ([], ["$a"], PinChanges(("$a",), ())),
        (["$a"], ["$a", "$b"], PinChanges(("$b",), ())),
        (["$a", "$b"], ["$b"], PinChanges((), ("$a",))),
        (["$a", "$b"], ["$b", "$a"], PinChanges((), ())),  # reordered: nothing to do
        (["$a"], ["$b", "$b"], PinChanges(("$b",), ("$a",))),
        (["$a", "$b"], [], PinChanges((), ("$a", "$b"))),
    ],
)
def test_pin_changes(before: list[str], after: list[str], changes: PinChanges) -> None:
    assert pin_changes(before, after) == changes


@pytest.mark.parametrize(
    ("content", "ids"),
    [
        ({"pinned": ["$a", "$b"]}, ["$a", "$b"]),
        ({"pinned": ["$a", 3, None, ""]}, ["$a"]),
        ({"pinned": "nope"}, []),
        ({}, []),
        (None, []),
    ],
)
def test_pinned_ids(content: Any, ids: list[str]) -> None:
    assert pinned_ids(content) == ids


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ({"type": "m.room.pinned_events", "state_key": "", "content": {}}, True),
        ({"type": "m.room.pinned_events", "state_key": "x", "content": {}}, False),
        ({"type": "m.poll.start", "content": {}}, True),
        ({"type": "org.matrix.msc3381.poll.start", "content": {}}, True),
        ({"type": "m.poll.end", "content": {}}, True),
        ({"type": "org.matrix.msc3381.poll.end", "content": {}}, True),
        ({"type": "m.poll.response", "content": {}}, False),  # votes stay in Matrix
        ({"type": "m.room.topic", "state_key": "", "content": {}}, False),
        ({"type": "m.room.message", "state_key": "", "content": {}}, False),
        ({"type": "m.room.message", "content": {}}, True),
    ],
)
def test_pins_and_polls_are_kept_until_relayed(raw: dict[str, Any], kept: bool) -> None:
    assert may_relay(raw) is kept
