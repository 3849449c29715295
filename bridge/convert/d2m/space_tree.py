"""Where a guild's categories, channels and forum posts go in the Matrix space tree.

The ``order`` of each ``m.space.child`` is derived from the node's own Discord data (its sort
group, position and id), never from its rank among siblings: adding or moving one channel then
rewrites only that channel's ``m.space.child``, not every sibling's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bridge.convert.model import ChannelSnapshot, ChannelType, GuildSnapshot

if TYPE_CHECKING:
    from bridge.convert.d2m.room_state import BridgeContext

#: Channels listed with the text channels in Discord's sidebar (and sorted with them).
TEXT_LIKE = frozenset(
    {ChannelType.TEXT, ChannelType.ANNOUNCEMENT, ChannelType.FORUM, ChannelType.MEDIA}
)
#: Channels Discord lists after the text-like ones of the same parent.
VOICE_LIKE = frozenset({ChannelType.VOICE, ChannelType.STAGE})
#: Channels whose posts (threads) become rooms of their own, so they become sub-spaces.
FORUM_LIKE = frozenset({ChannelType.FORUM, ChannelType.MEDIA})

# Sort groups, as the first character of an order string. At the guild level, uncategorised
# channels come before the categories; inside any parent, text-like before voice-like.
_GROUP_TEXT = "a"
_GROUP_VOICE = "b"
_GROUP_CATEGORY = "c"
_GROUP_POST = "p"

_POSITION_DIGITS = 10
_ID_DIGITS = 20  # a snowflake is a 64-bit unsigned integer: at most 20 decimal digits
_MAX_SNOWFLAKE = (1 << 64) - 1


class PortalKind(StrEnum):
    GUILD_SPACE = "guild_space"
    CATEGORY_SPACE = "category_space"
    FORUM_SPACE = "forum_space"
    CHANNEL_ROOM = "channel_room"
    POST_ROOM = "post_room"

    @property
    def is_space(self) -> bool:
        return self in _SPACE_KINDS


_SPACE_KINDS = frozenset(
    {PortalKind.GUILD_SPACE, PortalKind.CATEGORY_SPACE, PortalKind.FORUM_SPACE}
)


@dataclass(frozen=True)
class PortalNode:
    """Where one Discord guild/category/channel/forum post goes in the Matrix space tree."""

    discord_id: int  # the guild id for the guild space
    kind: PortalKind
    parent_id: int | None  # discord id of the parent node (None for the guild space)
    order: str  # m.space.child "order" for the parent (≤ 50 printable ASCII), "" for the guild
    name: str


def channel_order(channel: ChannelSnapshot) -> str:
    """The ``order`` of a category or channel among its siblings: group, position, id.

    Zero-padded so that lexicographic order is numeric order; 1 + 10 + 1 + 20 = 32 characters.
    Negative positions (never sent by Discord) sort as 0.
    """
    if channel.type == ChannelType.CATEGORY:
        group = _GROUP_CATEGORY
    elif channel.type in VOICE_LIKE:
        group = _GROUP_VOICE
    else:
        group = _GROUP_TEXT
    position = min(max(channel.position, 0), 10**_POSITION_DIGITS - 1)
    return f"{group}{position:0{_POSITION_DIGITS}d}.{channel.id:0{_ID_DIGITS}d}"


def post_order(post: ChannelSnapshot) -> str:
    """The ``order`` of a forum post: newest (largest snowflake) first."""
    return f"{_GROUP_POST}{_MAX_SNOWFLAKE - post.id:0{_ID_DIGITS}d}"


def _is_bridged_channel(channel: ChannelSnapshot, ctx: BridgeContext) -> bool:
    if channel.type in TEXT_LIKE:
        return True
    return ctx.bridge_voice_channels and channel.type in VOICE_LIKE


def space_tree(guild: GuildSnapshot, ctx: BridgeContext) -> list[PortalNode]:
    """Every node to bridge, parents before children, in Discord's sidebar order.

    Guild → space; categories → sub-spaces of the guild space; text and announcement channels
    → rooms under their category (or the guild space when uncategorised, or when their category
    is unknown); forum and media channels → sub-spaces holding their posts as rooms; voice and
    stage → rooms only with ``ctx.bridge_voice_channels``. Threads of text channels are not
    nodes (they become Matrix threads). A category with nothing bridged in it is left out, so
    that a guild's voice-only categories do not show up as empty sub-spaces.
    """
    categories = {c.id: c for c in guild.channels if c.type == ChannelType.CATEGORY}
    channels = [c for c in guild.channels if not c.is_thread and _is_bridged_channel(c, ctx)]

    def parent_of(channel: ChannelSnapshot) -> int:
        if channel.parent_id is not None and channel.parent_id in categories:
            return channel.parent_id
        return guild.id

    children: dict[int, list[ChannelSnapshot]] = {}
    for channel in channels:
        children.setdefault(parent_of(channel), []).append(channel)
    posts: dict[int, list[ChannelSnapshot]] = {}
    forums = {c.id for c in channels if c.type in FORUM_LIKE}
    for thread in guild.channels:
        if thread.is_thread and thread.parent_id is not None and thread.parent_id in forums:
            posts.setdefault(thread.parent_id, []).append(thread)

    nodes = [PortalNode(guild.id, PortalKind.GUILD_SPACE, None, "", guild.name)]

    def add_channels(parent_id: int) -> None:
        for channel in sorted(children.get(parent_id, []), key=channel_order):
            forum = channel.type in FORUM_LIKE
            kind = PortalKind.FORUM_SPACE if forum else PortalKind.CHANNEL_ROOM
            nodes.append(
                PortalNode(channel.id, kind, parent_id, channel_order(channel), channel.name)
            )
            for post in sorted(posts.get(channel.id, []), key=post_order):
                nodes.append(
                    PortalNode(
                        post.id, PortalKind.POST_ROOM, channel.id, post_order(post), post.name
                    )
                )

    add_channels(guild.id)
    for category in sorted(categories.values(), key=channel_order):
        if category.id in children:
            nodes.append(
                PortalNode(
                    category.id,
                    PortalKind.CATEGORY_SPACE,
                    guild.id,
                    channel_order(category),
                    category.name,
                )
            )
            add_channels(category.id)
    return nodes
