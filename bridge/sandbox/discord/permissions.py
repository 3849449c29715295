"""Discord permission bits and the computation of a member's permissions in a channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_AUDIT_LOG = 1 << 7
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CHANGE_NICKNAME = 1 << 26
MANAGE_NICKNAMES = 1 << 27
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
MANAGE_GUILD_EXPRESSIONS = 1 << 30
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
CREATE_GUILD_EXPRESSIONS = 1 << 43
# Since January 2026 pinning needs this permission; MANAGE_MESSAGES no longer grants it
# (Discord gave it to the roles that had MANAGE_MESSAGES when it split them).
PIN_MESSAGES = 1 << 51
BYPASS_SLOWMODE = 1 << 52

ALL = (1 << 53) - 1

#: What a new guild's @everyone gets, as on Discord.
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
    | (1 << 20)  # CONNECT
    | (1 << 21)  # SPEAK
)


def guild_permissions(store: Store, guild_id: int, user_id: int) -> int:
    """Base permissions of a member in a guild (owner and administrators get everything)."""
    guild = store.get_guild(guild_id)
    if user_id == guild.owner_id:
        return ALL
    member = guild.members.get(user_id)
    if member is None:
        return 0
    perms = guild.roles[guild_id].permissions if guild_id in guild.roles else 0
    for role_id in member.roles:
        role = guild.roles.get(role_id)
        if role:
            perms |= role.permissions
    return ALL if perms & ADMINISTRATOR else perms


def channel_permissions(store: Store, channel_id: int, user_id: int) -> int:
    """Permissions of a member in a channel, with the channel's overwrites applied.

    Threads use their parent's overwrites, like Discord.
    """
    channel = store.get_channel(channel_id)
    if channel.thread is not None and channel.parent_id is not None:
        channel = store.get_channel(channel.parent_id)
    perms = guild_permissions(store, channel.guild_id, user_id)
    if perms & ADMINISTRATOR or perms == ALL:
        return perms
    member = store.get_guild(channel.guild_id).members.get(user_id)
    roles = set(member.roles) if member else set()
    overwrites = {int(o["id"]): o for o in channel.permission_overwrites}
    everyone = overwrites.get(channel.guild_id)
    if everyone:
        perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
    allow = deny = 0
    for role_id in roles:
        ow = overwrites.get(role_id)
        if ow and ow.get("type", 0) == 0:
            allow |= int(ow["allow"])
            deny |= int(ow["deny"])
    perms = (perms & ~deny) | allow
    ow = overwrites.get(user_id)
    if ow and ow.get("type") == 1:
        perms = (perms & ~int(ow["deny"])) | int(ow["allow"])
    return perms


def has(perms: int, needed: int) -> bool:
    return perms & needed == needed


def top_role_position(store: Store, guild_id: int, user_id: int) -> int:
    """Position of a member's highest role (0, @everyone's, for none)."""
    guild = store.get_guild(guild_id)
    member = guild.members.get(user_id)
    roles = [guild.roles[r] for r in (member.roles if member else []) if r in guild.roles]
    return max((r.position for r in roles), default=0)


def can_moderate(store: Store, guild_id: int, actor_id: int, target_id: int) -> bool:
    """Whether ``actor_id`` may kick or ban ``target_id`` by the role hierarchy: nobody may
    act on the owner; the owner may act on anyone else; otherwise the actor's highest role must
    be above the target's (a non-member target is always below)."""
    guild = store.get_guild(guild_id)
    if target_id == guild.owner_id:
        return False
    if actor_id == guild.owner_id or target_id not in guild.members:
        return True
    return top_role_position(store, guild_id, actor_id) > top_role_position(
        store, guild_id, target_id
    )
