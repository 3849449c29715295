"""Discord permission math over snapshots: base permissions, channel overwrites, power levels.

Follows Discord's documented algorithm ("Permission Overwrites" in the permissions topic), so
that what Matrix shows matches what Discord enforces.
"""

from __future__ import annotations

from enum import IntFlag

from bridge.convert.model import (
    ChannelSnapshot,
    ChannelType,
    GuildSnapshot,
    MemberSnapshot,
    OverwriteSnapshot,
)


class Permission(IntFlag):
    """Discord permission bits (the ones the bridge reads, and their neighbours)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50


#: Every permission bit, known or not yet: what the owner and administrators have.
ALL_PERMISSIONS = (1 << 53) - 1

ADMIN_POWER = 100
MODERATOR_POWER = 50


def base_permissions(guild: GuildSnapshot, member: MemberSnapshot) -> int:
    """The member's guild-wide permissions: @everyone's and their roles', before overwrites."""
    if member.user_id == guild.owner_id:
        return ALL_PERMISSIONS
    everyone = guild.everyone_role
    permissions = everyone.permissions if everyone else 0
    role_ids = set(member.role_ids)
    for role in guild.roles:
        if role.id in role_ids:
            permissions |= role.permissions
    if permissions & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return permissions


def _overwrite_source(guild: GuildSnapshot, channel: ChannelSnapshot) -> ChannelSnapshot:
    """The channel whose overwrites apply: a thread has none of its own and uses its parent's."""
    if channel.is_thread and channel.parent_id is not None:
        return guild.channel(channel.parent_id) or channel
    return channel


def _apply(permissions: int, overwrite: OverwriteSnapshot | None) -> int:
    if overwrite is None:
        return permissions
    return (permissions & ~overwrite.deny) | overwrite.allow


def channel_permissions(
    guild: GuildSnapshot, channel: ChannelSnapshot, member: MemberSnapshot
) -> int:
    """The member's permissions in a channel: @everyone, then roles, then member overwrites.

    Threads use their parent channel's overwrites. A channel in a category uses only its own
    overwrites: Discord copies the category's at creation, so a synced channel already has them.
    Without VIEW_CHANNEL a member can do nothing in the channel, so the result is then 0
    (Discord's implicit permissions), which keeps hidden moderators out of the room's power
    levels.
    """
    permissions = base_permissions(guild, member)
    if permissions & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    source = _overwrite_source(guild, channel)
    role_overwrites = {o.id: o for o in source.overwrites if not o.is_member}
    member_overwrite = next(
        (o for o in source.overwrites if o.is_member and o.id == member.user_id), None
    )
    permissions = _apply(permissions, role_overwrites.get(guild.id))
    allow = deny = 0
    for role_id in set(member.role_ids) - {guild.id}:
        overwrite = role_overwrites.get(role_id)
        if overwrite is not None:
            allow |= overwrite.allow
            deny |= overwrite.deny
    permissions = (permissions & ~deny) | allow
    permissions = _apply(permissions, member_overwrite)
    if not permissions & Permission.VIEW_CHANNEL:
        return 0
    return permissions


def everyone_can_view(guild: GuildSnapshot, channel: ChannelSnapshot) -> bool:
    """Whether a member with no roles sees the channel: decides restricted/public vs invite.

    Private threads are never public; other threads answer like their parent.
    """
    if channel.type == ChannelType.PRIVATE_THREAD:
        return False
    everyone = guild.everyone_role
    permissions = everyone.permissions if everyone else 0
    if permissions & Permission.ADMINISTRATOR:
        return True
    source = _overwrite_source(guild, channel)
    overwrite = next((o for o in source.overwrites if not o.is_member and o.id == guild.id), None)
    return bool(_apply(permissions, overwrite) & Permission.VIEW_CHANNEL)


def power_level_for(permissions: int) -> int:
    """The Matrix power level that matches a set of Discord permissions."""
    if permissions & (Permission.ADMINISTRATOR | Permission.MANAGE_GUILD):
        return ADMIN_POWER
    if permissions & (
        Permission.MANAGE_MESSAGES | Permission.KICK_MEMBERS | Permission.BAN_MEMBERS
    ):
        return MODERATOR_POWER
    return 0
