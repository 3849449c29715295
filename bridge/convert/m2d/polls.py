"""Matrix polls (MSC3381) for Discord: a Discord poll when it fits, else text with the answers.

Shapes read (MSC3381, matrix-spec-proposals/proposals/3381-polls.md, and what Element sends):

- stable ``m.poll.start``: ``content["m.poll"] = {"kind": "m.disclosed", "max_selections": 1,
  "question": {"m.text": [{"body"}]}, "answers": [{"m.id", "m.text": [{"body"}]}]}``;
- the MSC's earlier stable form: ``content["m.poll.start"] = {"question": {"m.text": str},
  "kind": "m.poll.disclosed", "answers": [{"id", "m.text": str}]}``;
- unstable ``org.matrix.msc3381.poll.start`` (Element): ``content["org.matrix.msc3381.poll.start"]
  = {"question": {"org.matrix.msc1767.text": str, "body"?}, "kind":
  "org.matrix.msc3381.poll.disclosed", "max_selections", "answers": [{"id",
  "org.matrix.msc1767.text": str}]}``.

``m.poll.end`` (or ``org.matrix.msc3381.poll.end``) refers to its start with an
``m.reference`` relation and may carry ``m.poll.results`` ``{answer id: votes}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import discord

from .escape import escape_text

START_TYPES = frozenset({"m.poll.start", "org.matrix.msc3381.poll.start"})
END_TYPES = frozenset({"m.poll.end", "org.matrix.msc3381.poll.end"})
_START_BLOCKS = ("m.poll", "m.poll.start", "org.matrix.msc3381.poll.start")
_TEXT_KEYS = ("m.text", "org.matrix.msc1767.text", "body")
_DISCLOSED = frozenset({"m.disclosed", "m.poll.disclosed", "org.matrix.msc3381.poll.disclosed"})
_RESULT_KEYS = ("m.poll.results", "org.matrix.msc3381.v2.poll.results")

# Discord's limits (docs "Poll Create Request Object"; OpenAPI PollCreateRequest).
QUESTION_MAX = 300
ANSWER_MAX = 55
ANSWERS_MAX = 10
# A Matrix poll stays open until ended: the longest Discord allows (1–768 hours).
DURATION = timedelta(hours=768)


@dataclass(frozen=True)
class PollAnswer:
    id: str
    text: str


@dataclass(frozen=True)
class MatrixPoll:
    """A Matrix poll. ``disclosed``: votes are shown while it is open (an unknown kind counts
    as undisclosed, as MSC3381 says); ``max_selections`` ≥ 1."""

    question: str
    answers: tuple[PollAnswer, ...]
    disclosed: bool = True
    max_selections: int = 1


def block_text(block: object) -> str:
    """The plain text of an MSC1767 text block: ``{"m.text": str | [{"body", "mimetype"?}]}``,
    its unstable ``org.matrix.msc1767.text``, or ``body``; "" when there is none."""
    if not isinstance(block, dict):
        return ""
    for key in _TEXT_KEYS:
        value = block.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, list):
            plain = [
                r["body"]
                for r in value
                if isinstance(r, dict)
                and isinstance(r.get("body"), str)
                and r.get("mimetype", "text/plain") == "text/plain"
            ]
            if plain and plain[0].strip():
                return str(plain[0]).strip()
    return ""


def parse_poll_start(content: dict[str, Any]) -> MatrixPoll | None:
    """The poll of an ``m.poll.start`` content (any of the three shapes), or None if it has no
    question or no answers."""
    poll = next((content[k] for k in _START_BLOCKS if isinstance(content.get(k), dict)), None)
    if poll is None:
        return None
    question = block_text(poll.get("question"))
    answers = []
    for number, answer in enumerate(poll.get("answers") or [], start=1):
        if not isinstance(answer, dict):
            continue
        text = block_text(answer)
        answer_id = answer.get("m.id") or answer.get("id") or str(number)
        if text:
            answers.append(PollAnswer(str(answer_id), text))
    if not question or not answers:
        return None
    try:
        max_selections = max(1, int(poll.get("max_selections") or 1))
    except (TypeError, ValueError):
        max_selections = 1
    return MatrixPoll(question, tuple(answers), poll.get("kind") in _DISCLOSED, max_selections)


def discord_poll(poll: MatrixPoll) -> discord.Poll | None:
    """The Discord poll for a Matrix poll, or None when Discord cannot show it as one: the
    question over 300 characters, more than 10 answers, an answer over 55 characters, or an
    undisclosed poll (Discord always shows the votes; MSC3381 hides them until the end).
    More than one selection allowed becomes a multi-select poll (Discord cannot cap it)."""
    if not poll.disclosed or len(poll.question) > QUESTION_MAX:
        return None
    if len(poll.answers) > ANSWERS_MAX or any(len(a.text) > ANSWER_MAX for a in poll.answers):
        return None
    result = discord.Poll(
        question=poll.question, duration=DURATION, multiple=poll.max_selections > 1
    )
    for answer in poll.answers:
        result.add_answer(text=answer.text)
    return result


def poll_text(poll: MatrixPoll) -> str:
    """A poll as Discord text: the question, then the answers as a numbered list (escaped:
    a user's text never becomes markup or a ping)."""
    lines = [f"📊 **{escape_text(poll.question)}**"]
    lines += [f"{n}. {escape_text(a.text)}" for n, a in enumerate(poll.answers, start=1)]
    if poll.max_selections > 1:
        lines.append(f"-# Up to {poll.max_selections} answers.")
    if not poll.disclosed:
        lines.append("-# Results are shown when the poll ends.")
    return "\n".join(lines)


def poll_start_of_end(content: dict[str, Any]) -> str | None:
    """The event id of the poll an ``m.poll.end`` content ends (its ``m.reference``)."""
    relation = content.get("m.relates_to") or {}
    event_id = relation.get("event_id") if isinstance(relation, dict) else None
    return str(event_id) if event_id else None


def poll_results(content: dict[str, Any]) -> dict[str, int] | None:
    """The ``m.poll.results`` ``{answer id: votes}`` of an end event, if it carries any."""
    for key in _RESULT_KEYS:
        results = content.get(key)
        if isinstance(results, dict) and results:
            return {str(k): int(v) for k, v in results.items() if isinstance(v, int)}
    return None


def poll_end_text(poll: MatrixPoll | None, results: dict[str, int] | None) -> str:
    """The text that ends a poll on Discord: the counted answers, most votes first (answers
    in the poll's order on a tie), when the end event carries results; else "Poll ended."."""
    title = f"📊 **Poll ended: {escape_text(poll.question)}**" if poll else "📊 **Poll ended.**"
    if not results:
        return title
    names = {a.id: a.text for a in poll.answers} if poll else {}
    order = list(names) + [k for k in results if k not in names]
    counted = sorted(order, key=lambda k: -results.get(k, 0))
    lines = [title]
    for key in counted:
        votes = results.get(key, 0)
        label = escape_text(names.get(key, key))
        lines.append(f"- {label}: {votes} vote{'' if votes == 1 else 's'}")
    return "\n".join(lines)
