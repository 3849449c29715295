"""Discord system messages (pins, joins, boosts, threads, poll results) as readable notices.

Discord writes no text for most of them (the client makes it up), so the bridge does too.
"""

from __future__ import annotations

from ..message_model import MessageSnapshot, MessageType
from .markdown import neutralise_room_mentions

BOOST_LEVELS: dict[int, int] = {
    MessageType.GUILD_BOOST_TIER_1: 1,
    MessageType.GUILD_BOOST_TIER_2: 2,
    MessageType.GUILD_BOOST_TIER_3: 3,
}
# Types with a notice text of their own; any other type is relayed as an ordinary message.
NOTICE_TYPES = frozenset(
    {
        MessageType.CHANNEL_PINNED_MESSAGE,
        MessageType.USER_JOIN,
        MessageType.GUILD_BOOST,
        *BOOST_LEVELS,
        MessageType.CHANNEL_FOLLOW_ADD,
        MessageType.THREAD_CREATED,
        MessageType.POLL_RESULT,
    }
)
# Types that become no event at all: a thread starter repeats the message the thread
# started from, which is already in the room (the thread roots on it).
SILENT_TYPES = frozenset({MessageType.THREAD_STARTER_MESSAGE})


def author_name(message: MessageSnapshot) -> str:
    """The author as Discord shows them in the guild: nick, global name, username."""
    nick = message.member.nick if message.member is not None else None
    return nick or message.author.global_name or message.author.username


def system_text(message: MessageSnapshot) -> str | None:
    """The notice text of a system message, or None if the type is not a notice type."""
    text = _text(message)
    return neutralise_room_mentions(text) if text is not None else None


def _text(message: MessageSnapshot) -> str | None:
    name = author_name(message)
    kind = message.type
    content = message.content.strip()
    if kind == MessageType.CHANNEL_PINNED_MESSAGE:
        return f"{name} pinned a message."
    if kind == MessageType.USER_JOIN:
        return f"{name} joined the server."
    if kind == MessageType.GUILD_BOOST:
        # The content is the number of boosts given at once ("" or "1" for one).
        times = f" {content} times" if content.isdigit() and int(content) > 1 else ""
        return f"{name} boosted the server{times}!"
    if kind in BOOST_LEVELS:
        return f"{name} boosted the server! It reached level {BOOST_LEVELS[kind]}."
    if kind == MessageType.CHANNEL_FOLLOW_ADD:
        source = content or "a channel"
        return f"{name} followed {source}: its announcements will appear in this channel."
    if kind == MessageType.THREAD_CREATED:
        return f"{name} started a thread: {content}" if content else f"{name} started a thread."
    if kind == MessageType.POLL_RESULT:
        return _poll_result(message, name)
    return None


def _poll_result(message: MessageSnapshot, name: str) -> str:
    """From the ``poll_result`` embed, whose fields hold the question, winner and votes."""
    fields: dict[str, str] = {}
    for embed in message.embeds:
        if embed.type == "poll_result":
            fields = {field.name: field.value for field in embed.fields}
            break
    question = fields.get("poll_question_text")
    text = f'{name}\'s poll "{question}" has closed.' if question else f"{name}'s poll has closed."
    winner = fields.get("victor_answer_text")
    if winner:
        votes = fields.get("victor_answer_votes", "")
        total = fields.get("total_votes", "")
        emoji = fields.get("victor_answer_emoji_name")
        label = f"{emoji} {winner}" if emoji else winner
        counted = f" with {votes} of {total} votes" if votes and total else ""
        text += f' The winner is "{label}"{counted}.'
    return text
