"""Plain snapshots of Discord objects, the only input converters take besides their context.

Frozen dataclasses with no behaviour beyond derived values: made from discord.py objects by
``bridge.discord.snapshots``, or written directly in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class ChannelType(IntEnum):
    """Discord channel types the bridge knows."""

    TEXT = 0
    DM = 1
    VOICE = 2
    GROUP_DM = 3
    CATEGORY = 4
    ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    STAGE = 13
    DIRECTORY = 14
    FORUM = 15
    MEDIA = 16


THREAD_TYPES = frozenset(
    {ChannelType.ANNOUNCEMENT_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD}
)


@dataclass(frozen=True)
class RoleSnapshot:
    id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    managed: bool = False


@dataclass(frozen=True)
class OverwriteSnapshot:
    """A channel permission overwrite for a role (``is_member`` False) or a member."""

    id: int
    allow: int
    deny: int
    is_member: bool = False


@dataclass(frozen=True)
class ChannelSnapshot:
    """A channel, category, forum, or thread (forum posts are threads of a forum)."""

    id: int
    guild_id: int
    type: int
    name: str
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    overwrites: tuple[OverwriteSnapshot, ...] = ()

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES


@dataclass(frozen=True)
class MemberSnapshot:
    """A guild member, with what shows in that guild's rooms."""

    user_id: int
    role_ids: tuple[int, ...] = ()
    nick: str | None = None
    guild_avatar_url: str | None = None
    guild_avatar_hash: str | None = None


@dataclass(frozen=True)
class UserSnapshot:
    """A Discord user (or a webhook author) as its Matrix ghost shows it."""

    id: int
    username: str
    global_name: str | None = None
    avatar_url: str | None = None
    avatar_hash: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class GuildSnapshot:
    id: int
    name: str
    owner_id: int
    description: str | None = None
    icon_url: str | None = None
    icon_hash: str | None = None
    roles: tuple[RoleSnapshot, ...] = ()
    channels: tuple[ChannelSnapshot, ...] = ()
    # Members whose roles or ownership could give them power in Matrix; others need none.
    members: tuple[MemberSnapshot, ...] = field(default=())

    def channel(self, channel_id: int) -> ChannelSnapshot | None:
        return next((channel for channel in self.channels if channel.id == channel_id), None)

    @property
    def everyone_role(self) -> RoleSnapshot | None:
        """The @everyone role has the guild's id."""
        return next((role for role in self.roles if role.id == self.id), None)
