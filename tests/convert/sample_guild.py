"""A realistic guild snapshot shared by the converter tests.

Sidebar as Discord shows it::

    # welcome                (uncategorised, text)
    🔊 Lobby                 (uncategorised, voice)
    INFO
      # announcements        (announcement; @everyone may not send, Moderators may)
      # rules
    CHAT
      # general              (topic; has a thread, which is not a node)
      # staff-room           (hidden from @everyone, allowed to Staff)
      💬 help                (forum with two posts)
      🔊 Voice Chat
      🎙 Town Hall           (stage)
    VOICE ONLY
      🔊 AFK                 (only voice: no node unless voice is bridged)
    PRIVATE                  (hidden from @everyone)
      # mods                 (hidden, allowed to Moderators)
      # unsynced             (its own overwrites are empty: visible, not inherited)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bridge.convert.d2m.permissions import Permission as P
from bridge.convert.d2m.room_state import BridgeContext
from bridge.convert.model import (
    ChannelSnapshot,
    ChannelType,
    GuildSnapshot,
    MemberSnapshot,
    OverwriteSnapshot,
    RoleSnapshot,
)

GUILD = 81384788765712384

# Roles
ADMIN_ROLE = 81384788765712385
MOD_ROLE = 81384788765712386
STAFF_ROLE = 81384788765712387
MEMBER_ROLE = 81384788765712388

EVERYONE_PERMISSIONS = (
    P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.READ_MESSAGE_HISTORY
    | P.ADD_REACTIONS
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.CREATE_PUBLIC_THREADS
    | P.SEND_MESSAGES_IN_THREADS
    | P.CONNECT
    | P.SPEAK
)
MOD_PERMISSIONS = P.MANAGE_MESSAGES | P.KICK_MEMBERS | P.MANAGE_THREADS

# Users
OWNER = 100000000000000001
ADMIN = 100000000000000002
MOD = 100000000000000003
STAFF = 100000000000000004
PLAIN = 100000000000000005
MUTED = 100000000000000006  # member overwrite denies SEND_MESSAGES in #general
HERALD = 100000000000000007  # member overwrite allows SEND_MESSAGES in #announcements

# Channels
WELCOME = 200000000000000001
LOBBY = 200000000000000002
INFO = 200000000000000010
ANNOUNCEMENTS = 200000000000000011
RULES = 200000000000000012
CHAT = 200000000000000020
GENERAL = 200000000000000021
STAFF_ROOM = 200000000000000022
HELP = 200000000000000023
VOICE_CHAT = 200000000000000024
TOWN_HALL = 200000000000000025
VOICE_ONLY = 200000000000000030
AFK = 200000000000000031
PRIVATE = 200000000000000040
MODS = 200000000000000041
UNSYNCED = 200000000000000042
# Threads
GENERAL_THREAD = 300000000000000001
STAFF_PRIVATE_THREAD = 300000000000000002
OLD_POST = 300000000000000003
NEW_POST = 300000000000000004


def hidden_from_everyone(*, allowed_role: int) -> tuple[OverwriteSnapshot, ...]:
    return (
        OverwriteSnapshot(id=GUILD, allow=0, deny=P.VIEW_CHANNEL),
        OverwriteSnapshot(id=allowed_role, allow=P.VIEW_CHANNEL, deny=0),
    )


def channel(
    id: int,
    type: ChannelType,
    name: str,
    position: int = 0,
    parent_id: int | None = None,
    **fields: Any,
) -> ChannelSnapshot:
    return ChannelSnapshot(
        id=id,
        guild_id=GUILD,
        type=type,
        name=name,
        position=position,
        parent_id=parent_id,
        **fields,
    )


T = ChannelType

ROLES = (
    RoleSnapshot(id=GUILD, name="@everyone", permissions=EVERYONE_PERMISSIONS),
    RoleSnapshot(id=ADMIN_ROLE, name="Admin", permissions=P.ADMINISTRATOR, position=4),
    RoleSnapshot(id=MOD_ROLE, name="Moderator", permissions=MOD_PERMISSIONS, position=3),
    RoleSnapshot(id=STAFF_ROLE, name="Staff", permissions=0, position=2),
    RoleSnapshot(id=MEMBER_ROLE, name="Member", permissions=P.CHANGE_NICKNAME, position=1),
)

CHANNELS = (
    channel(WELCOME, T.TEXT, "welcome", 0),
    channel(LOBBY, T.VOICE, "Lobby", 0),
    channel(INFO, T.CATEGORY, "INFO", 0),
    channel(
        ANNOUNCEMENTS,
        T.ANNOUNCEMENT,
        "announcements",
        0,
        INFO,
        overwrites=(
            OverwriteSnapshot(id=GUILD, allow=0, deny=P.SEND_MESSAGES),
            OverwriteSnapshot(id=MOD_ROLE, allow=P.SEND_MESSAGES, deny=0),
            OverwriteSnapshot(id=HERALD, allow=P.SEND_MESSAGES, deny=0, is_member=True),
        ),
    ),
    channel(RULES, T.TEXT, "rules", 1, INFO),
    channel(CHAT, T.CATEGORY, "CHAT", 1),
    channel(
        GENERAL,
        T.TEXT,
        "general",
        0,
        CHAT,
        topic="Talk about anything",
        overwrites=(OverwriteSnapshot(id=MUTED, allow=0, deny=P.SEND_MESSAGES, is_member=True),),
    ),
    channel(
        STAFF_ROOM,
        T.TEXT,
        "staff-room",
        1,
        CHAT,
        overwrites=hidden_from_everyone(allowed_role=STAFF_ROLE),
    ),
    channel(HELP, T.FORUM, "help", 2, CHAT, topic="Ask one question per post"),
    channel(VOICE_CHAT, T.VOICE, "Voice Chat", 0, CHAT),
    channel(TOWN_HALL, T.STAGE, "Town Hall", 1, CHAT),
    channel(VOICE_ONLY, T.CATEGORY, "VOICE ONLY", 2),
    channel(AFK, T.VOICE, "AFK", 0, VOICE_ONLY),
    channel(
        PRIVATE, T.CATEGORY, "PRIVATE", 3, overwrites=hidden_from_everyone(allowed_role=MOD_ROLE)
    ),
    channel(
        MODS, T.TEXT, "mods", 0, PRIVATE, overwrites=hidden_from_everyone(allowed_role=MOD_ROLE)
    ),
    channel(UNSYNCED, T.TEXT, "unsynced", 1, PRIVATE),
    channel(GENERAL_THREAD, T.PUBLIC_THREAD, "a thread", 0, GENERAL),
    channel(STAFF_PRIVATE_THREAD, T.PRIVATE_THREAD, "secret", 0, STAFF_ROOM),
    channel(OLD_POST, T.PUBLIC_THREAD, "How do I start?", 0, HELP),
    channel(NEW_POST, T.PUBLIC_THREAD, "Crash on launch", 0, HELP),
)

MEMBERS = (
    MemberSnapshot(user_id=ADMIN, role_ids=(ADMIN_ROLE,)),
    MemberSnapshot(user_id=MOD, role_ids=(MOD_ROLE, MEMBER_ROLE)),
    MemberSnapshot(user_id=STAFF, role_ids=(STAFF_ROLE,)),
    MemberSnapshot(user_id=PLAIN),
    MemberSnapshot(user_id=MUTED, role_ids=(MEMBER_ROLE,)),
    MemberSnapshot(user_id=HERALD),
)

# The owner is deliberately not among the members: ownership alone must give power.
SAMPLE_GUILD = GuildSnapshot(
    id=GUILD,
    name="Rust Gamedev",
    owner_id=OWNER,
    description="Making games in Rust",
    roles=ROLES,
    channels=CHANNELS,
    members=MEMBERS,
)


def member(user_id: int) -> MemberSnapshot:
    """The sample member (the owner gets a role-less member snapshot)."""
    found = next((m for m in SAMPLE_GUILD.members if m.user_id == user_id), None)
    return found or MemberSnapshot(user_id=user_id)


def with_channels(guild: GuildSnapshot, *channels: ChannelSnapshot) -> GuildSnapshot:
    return replace(guild, channels=guild.channels + channels)


def get_channel(channel_id: int) -> ChannelSnapshot:
    found = SAMPLE_GUILD.channel(channel_id)
    assert found is not None
    return found


# The bridge as the converters see it, with voice channels off (the default) and on.
CTX = BridgeContext(
    bot_mxid="@discordbot:example.com",
    domain="example.com",
    appservice_id="discord",
    username_template="discord_{id}",
    alias_template="discord_{id}",
)
VOICE_CTX = replace(CTX, bridge_voice_channels=True)
