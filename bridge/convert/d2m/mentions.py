"""How Discord's tokens (mentions, custom emoji, timestamps) read on Matrix, in HTML and in text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from .context import MessageContext
from .markdown_nodes import (
    ChannelMention,
    CommandMention,
    CustomEmoji,
    GuildNavigation,
    RoleMention,
    RoomMention,
    Timestamp,
    Token,
    UserMention,
)

UNKNOWN_USER = "@unknown-user"
UNKNOWN_ROLE = "@unknown-role"
UNKNOWN_CHANNEL = "#unknown"
EMOJI_HEIGHT = 32

_NAVIGATION_NAMES = {
    "customize": "Channels & Roles",
    "browse": "Browse Channels",
    "guide": "Server Guide",
    "linked-roles": "Linked Roles",
}
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Characters a matrix.to link may keep as they are (Element writes them unencoded too).
_MATRIX_TO_SAFE = "@:!#$&'()*+,;=/?"


@dataclass(frozen=True)
class RenderedToken:
    html: str
    body: str
    room_mention: bool = False  # a deliberate @room, the one place the body may say it


def render_token(
    token: Token, ctx: MessageContext, *, allow_room: bool, in_link: bool
) -> RenderedToken:
    """A token as HTML and as plain text; inside a link text, without nested links."""
    match token:
        case UserMention(user_id=user_id):
            return _user(user_id, ctx, in_link=in_link)
        case RoleMention(role_id=role_id):
            return _role(role_id, ctx)
        case ChannelMention(channel_id=channel_id):
            return _channel(channel_id, ctx, in_link=in_link)
        case RoomMention(word=word):
            if allow_room:
                return RenderedToken("@room", "@room", room_mention=True)
            return _plain("@" + word)
        case CommandMention(name=name):
            return _plain("/" + name)
        case GuildNavigation(target=target):
            return _plain(_NAVIGATION_NAMES.get(target, target))
        case CustomEmoji(emoji_id=emoji_id, name=name):
            return _emoji(emoji_id, name, ctx)
        case Timestamp(seconds=seconds, style=style, source=source):
            return _plain(format_timestamp(seconds, style) or source)
    raise TypeError(f"not a token: {token!r}")


def matrix_to(identifier: str) -> str:
    return "https://matrix.to/#/" + quote(identifier, safe=_MATRIX_TO_SAFE)


def format_timestamp(seconds: int, style: str | None) -> str | None:
    """Discord's `<t:…:style>` in UTC, the same for every reader (None when out of range).

    Relative times ("3 days ago") would be wrong by the time anyone reads them: R shows the
    absolute time, like the default style.
    """
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    short_time = f"{moment:%H:%M} UTC"
    long_date = f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"
    if style == "t":
        return short_time
    if style == "T":
        return f"{moment:%H:%M:%S} UTC"
    if style == "d":
        return f"{moment:%Y-%m-%d}"
    if style == "D":
        return long_date
    if style == "F":
        return f"{_WEEKDAYS[moment.weekday()]}, {long_date} {short_time}"
    return f"{moment:%Y-%m-%d} {short_time}"


def _plain(text: str) -> RenderedToken:
    return RenderedToken(escape(text, quote=False), text)


def _user(user_id: int, ctx: MessageContext, *, in_link: bool) -> RenderedToken:
    mxid = ctx.user_mxids.get(user_id)
    name = ctx.user_names.get(user_id)
    if mxid is None:
        return _plain(f"@{name}" if name else UNKNOWN_USER)
    label = name or mxid
    body = f"@{name}" if name else mxid
    if in_link:
        return _plain(body)
    html = f'<a href="{escape(matrix_to(mxid))}">{escape(label, quote=False)}</a>'
    return RenderedToken(html, body)


def _role(role_id: int, ctx: MessageContext) -> RenderedToken:
    role = ctx.roles.get(role_id)
    if role is None:
        return _plain(UNKNOWN_ROLE)
    text = "@" + role.name
    if not role.color:
        return _plain(text)
    color = f"#{role.color & 0xFFFFFF:06x}"
    return RenderedToken(f'<font color="{color}">{escape(text, quote=False)}</font>', text)


def _channel(channel_id: int, ctx: MessageContext, *, in_link: bool) -> RenderedToken:
    channel = ctx.channels.get(channel_id)
    if channel is None:
        return _plain(UNKNOWN_CHANNEL)
    text = "#" + channel.name
    if in_link or channel.room_id is None:
        return _plain(text)
    if channel.alias:
        href = matrix_to(channel.alias)
    else:
        href = f"{matrix_to(channel.room_id)}?via={quote(ctx.domain, safe=':')}"
    return RenderedToken(f'<a href="{escape(href)}">{escape(text, quote=False)}</a>', text)


def _emoji(emoji_id: int, name: str, ctx: MessageContext) -> RenderedToken:
    shortcode = f":{name}:"
    media = ctx.emoji.get(emoji_id)
    if media is None:
        return _plain(shortcode)
    html = (
        f'<img data-mx-emoticon src="{escape(media.mxc)}" alt="{shortcode}" '
        f'title="{shortcode}" height="{EMOJI_HEIGHT}">'
    )
    return RenderedToken(html, shortcode)
