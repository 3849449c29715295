"""Polls: Discord's limits on a posted poll, and ending a poll early."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import errors
from .. import permissions as perms
from ..payloads_messages import message as message_payload
from .channels import channel_of
from .common import bot_of, json_response, snowflake_param, store_of

#: Discord's limits (docs, "Poll Create Request Object"; the OpenAPI's PollCreateRequest).
QUESTION_MAX = 300
ANSWER_MAX = 55
ANSWERS_MAX = 10
DURATION_HOURS = (1, 768)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/channels/{channel_id}/polls/{message_id}/expire", expire)


def _error(path: list[str | int], code: str, message: str) -> errors.DiscordError:
    """Invalid Form Body nested along ``path`` (``poll.answers.0.poll_media.text``)."""
    tree: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        tree = {str(key): tree}
    return errors.invalid_form(tree)


def _text(path: list[str | int], media: object, limit: int) -> None:
    text = media.get("text") if isinstance(media, dict) else None
    if not isinstance(text, str) or not text:
        raise _error([*path, "text"], "BASE_TYPE_REQUIRED", "This field is required")
    if len(text) > limit:
        raise _error(
            [*path, "text"], "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {limit} in length."
        )


def validate_poll(poll: object) -> None:
    """A PollCreateRequest as Discord checks it; raises 400 / 50035 on the first fault."""
    if not isinstance(poll, dict):
        raise _error(["poll"], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    _text(["poll", "question"], poll.get("question"), QUESTION_MAX)
    answers = poll.get("answers")
    if not isinstance(answers, list) or not 1 <= len(answers) <= ANSWERS_MAX:
        raise _error(
            ["poll", "answers"],
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {ANSWERS_MAX} in length.",
        )
    for index, answer in enumerate(answers):
        media = answer.get("poll_media") if isinstance(answer, dict) else None
        _text(["poll", "answers", index, "poll_media"], media, ANSWER_MAX)
    duration = poll.get("duration")
    low, high = DURATION_HOURS
    if duration is None:
        return
    # discord.py sends hours as a float (768.0); Discord takes any integral number.
    whole = isinstance(duration, (int, float)) and float(duration).is_integer()
    if not whole or duration < low:
        raise _error(["poll", "duration"], "NUMBER_TYPE_MIN", f"int value should be {low} or more.")
    if duration > high:
        raise _error(
            ["poll", "duration"], "NUMBER_TYPE_MAX", f"int value should be {high} or less."
        )


async def expire(request: web.Request) -> web.Response:
    """End a poll now. Only the poll's author may: a webhook's poll cannot be ended by the bot
    (403 / 50005); a message without a poll is 400 / 520006, an ended poll 400 / 520001
    (Discord's JSON error codes)."""
    store, bot = store_of(request), bot_of(request)
    channel = channel_of(request, perms.VIEW_CHANNEL)
    msg = store.get_message(
        channel.id, snowflake_param(request, "message_id", errors.UNKNOWN_MESSAGE)
    )
    if msg.author_id != bot.id or msg.webhook_id is not None:
        raise errors.DiscordError(
            403, 50005, "Cannot execute action on a message authored by another user"
        )
    if msg.poll is None:
        raise errors.bad_request(520006, "Cannot expire a non-poll message")
    if msg.poll.get("results", {}).get("is_finalized"):
        raise errors.bad_request(520001, "Poll expired")
    store.end_poll(channel.id, msg.id)
    ended = store.get_message(channel.id, msg.id)
    return json_response(message_payload(store, ended, viewer_id=bot.id))
