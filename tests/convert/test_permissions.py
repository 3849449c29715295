"""Discord permission math over the sample guild."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.convert.d2m.permissions import (
    ALL_PERMISSIONS,
    Permission,
    base_permissions,
    channel_permissions,
    everyone_can_view,
    power_level_for,
)
from bridge.convert.model import GuildSnapshot, MemberSnapshot, OverwriteSnapshot, RoleSnapshot
from tests.convert.sample_guild import (
    ADMIN,
    ANNOUNCEMENTS,
    CHAT,
    EVERYONE_PERMISSIONS,
    GENERAL,
    GENERAL_THREAD,
    GUILD,
    HELP,
    HERALD,
    MEMBER_ROLE,
    MOD,
    MOD_PERMISSIONS,
    MODS,
    MUTED,
    NEW_POST,
    OWNER,
    PLAIN,
    PRIVATE,
    SAMPLE_GUILD,
    STAFF,
    STAFF_PRIVATE_THREAD,
    STAFF_ROOM,
    UNSYNCED,
    get_channel,
    member,
)

P = Permission


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param(OWNER, ALL_PERMISSIONS, id="owner-gets-all-without-roles"),
        pytest.param(ADMIN, ALL_PERMISSIONS, id="administrator-gets-all"),
        pytest.param(
            MOD, EVERYONE_PERMISSIONS | MOD_PERMISSIONS | P.CHANGE_NICKNAME, id="roles-or"
        ),
        pytest.param(PLAIN, EVERYONE_PERMISSIONS, id="everyone-only"),
    ],
)
def test_base_permissions(user: int, expected: int) -> None:
    assert base_permissions(SAMPLE_GUILD, member(user)) == expected


def test_base_permissions_without_everyone_role() -> None:
    guild = replace(SAMPLE_GUILD, roles=())
    assert base_permissions(guild, member(PLAIN)) == 0


def test_administrator_on_everyone_makes_everyone_admin() -> None:
    roles = (RoleSnapshot(id=GUILD, name="@everyone", permissions=P.ADMINISTRATOR),)
    assert base_permissions(replace(SAMPLE_GUILD, roles=roles), member(PLAIN)) == ALL_PERMISSIONS


# (channel, user, permission, expected): can the user do it there?
CHANNEL_CASES = [
    (GENERAL, PLAIN, P.SEND_MESSAGES, True),
    # member overwrite denies what @everyone allows
    (GENERAL, MUTED, P.SEND_MESSAGES, False),
    (GENERAL, MUTED, P.VIEW_CHANNEL, True),
    # @everyone overwrite denies, role overwrite allows back
    (ANNOUNCEMENTS, PLAIN, P.SEND_MESSAGES, False),
    (ANNOUNCEMENTS, MOD, P.SEND_MESSAGES, True),
    # member overwrite allows what @everyone's overwrite denied
    (ANNOUNCEMENTS, HERALD, P.SEND_MESSAGES, True),
    # hidden from @everyone, allowed to Staff
    (STAFF_ROOM, PLAIN, P.VIEW_CHANNEL, False),
    (STAFF_ROOM, STAFF, P.VIEW_CHANNEL, True),
    (STAFF_ROOM, STAFF, P.SEND_MESSAGES, True),
    (STAFF_ROOM, MOD, P.VIEW_CHANNEL, False),
    # administrators and the owner bypass overwrites
    (STAFF_ROOM, ADMIN, P.VIEW_CHANNEL, True),
    (STAFF_ROOM, OWNER, P.VIEW_CHANNEL, True),
    (MODS, MOD, P.MANAGE_MESSAGES, True),
    (MODS, STAFF, P.VIEW_CHANNEL, False),
    # threads use their parent's overwrites
    (GENERAL_THREAD, PLAIN, P.SEND_MESSAGES, True),
    (STAFF_PRIVATE_THREAD, PLAIN, P.VIEW_CHANNEL, False),
    (STAFF_PRIVATE_THREAD, STAFF, P.VIEW_CHANNEL, True),
    (NEW_POST, PLAIN, P.SEND_MESSAGES, True),
    # a channel in a hidden category with its own (empty) overwrites does not inherit them
    (UNSYNCED, PLAIN, P.VIEW_CHANNEL, True),
    # categories have overwrites of their own
    (PRIVATE, PLAIN, P.VIEW_CHANNEL, False),
    (PRIVATE, MOD, P.VIEW_CHANNEL, True),
]


@pytest.mark.parametrize(("channel_id", "user", "permission", "expected"), CHANNEL_CASES)
def test_channel_permissions(channel_id: int, user: int, permission: P, expected: bool) -> None:
    permissions = channel_permissions(SAMPLE_GUILD, get_channel(channel_id), member(user))
    assert bool(permissions & permission) is expected


def test_role_overwrites_combine_with_allow_winning() -> None:
    """One role denies, another allows: Discord ORs each side, then applies allow after deny."""
    general = replace(
        get_channel(GENERAL),
        overwrites=(
            OverwriteSnapshot(id=MEMBER_ROLE, allow=0, deny=P.SEND_MESSAGES),
            OverwriteSnapshot(id=CHAT, allow=P.SEND_MESSAGES, deny=0),  # a second role
        ),
    )
    both = MemberSnapshot(user_id=PLAIN, role_ids=(MEMBER_ROLE, CHAT))
    only_deny = MemberSnapshot(user_id=PLAIN, role_ids=(MEMBER_ROLE,))
    assert channel_permissions(SAMPLE_GUILD, general, both) & P.SEND_MESSAGES
    assert not channel_permissions(SAMPLE_GUILD, general, only_deny) & P.SEND_MESSAGES


def test_member_overwrite_beats_role_overwrite() -> None:
    general = replace(
        get_channel(GENERAL),
        overwrites=(
            OverwriteSnapshot(id=MEMBER_ROLE, allow=P.MENTION_EVERYONE, deny=0),
            OverwriteSnapshot(id=MUTED, allow=0, deny=P.MENTION_EVERYONE, is_member=True),
        ),
    )
    assert not channel_permissions(SAMPLE_GUILD, general, member(MUTED)) & P.MENTION_EVERYONE


def test_member_overwrite_is_not_a_role_overwrite() -> None:
    """A member overwrite whose id happens to equal a role id applies to that member only."""
    general = replace(
        get_channel(GENERAL),
        overwrites=(
            OverwriteSnapshot(id=MEMBER_ROLE, allow=0, deny=P.SEND_MESSAGES, is_member=True),
        ),
    )
    assert channel_permissions(SAMPLE_GUILD, general, member(MUTED)) & P.SEND_MESSAGES


def test_no_view_means_no_permissions() -> None:
    assert channel_permissions(SAMPLE_GUILD, get_channel(STAFF_ROOM), member(MOD)) == 0


def test_thread_with_unknown_parent_uses_no_overwrites() -> None:
    orphan = replace(get_channel(GENERAL_THREAD), parent_id=999)
    assert channel_permissions(SAMPLE_GUILD, orphan, member(PLAIN)) == EVERYONE_PERMISSIONS


@pytest.mark.parametrize(
    ("channel_id", "expected"),
    [
        (GENERAL, True),
        (ANNOUNCEMENTS, True),
        (STAFF_ROOM, False),
        (MODS, False),
        (PRIVATE, False),
        (UNSYNCED, True),
        (HELP, True),
        (NEW_POST, True),
        (GENERAL_THREAD, True),
        (STAFF_PRIVATE_THREAD, False),
    ],
)
def test_everyone_can_view(channel_id: int, expected: bool) -> None:
    assert everyone_can_view(SAMPLE_GUILD, get_channel(channel_id)) is expected


def test_private_thread_is_never_public() -> None:
    private = replace(get_channel(GENERAL_THREAD), type=12)
    assert everyone_can_view(SAMPLE_GUILD, private) is False


def test_everyone_without_view_sees_nothing_unless_allowed() -> None:
    roles = (RoleSnapshot(id=GUILD, name="@everyone", permissions=P.SEND_MESSAGES),)
    guild = replace(SAMPLE_GUILD, roles=roles)
    assert not everyone_can_view(guild, get_channel(GENERAL))
    allowed = replace(
        get_channel(GENERAL),
        overwrites=(OverwriteSnapshot(id=GUILD, allow=P.VIEW_CHANNEL, deny=0),),
    )
    assert everyone_can_view(guild, allowed)


def test_guild_without_roles_is_not_visible() -> None:
    assert not everyone_can_view(GuildSnapshot(id=1, name="g", owner_id=2), get_channel(GENERAL))


@pytest.mark.parametrize(
    ("permissions", "level"),
    [
        (0, 0),
        (EVERYONE_PERMISSIONS, 0),
        (P.MANAGE_CHANNELS | P.MANAGE_ROLES | P.MANAGE_WEBHOOKS, 0),
        (P.MANAGE_MESSAGES, 50),
        (P.KICK_MEMBERS, 50),
        (P.BAN_MEMBERS, 50),
        (P.MANAGE_GUILD, 100),
        (P.ADMINISTRATOR, 100),
        (ALL_PERMISSIONS, 100),
    ],
)
def test_power_level_for(permissions: int, level: int) -> None:
    assert power_level_for(permissions) == level


def test_permission_bits_match_discord() -> None:
    assert P.VIEW_CHANNEL == 1 << 10
    assert P.SEND_MESSAGES == 1 << 11
    assert P.MANAGE_THREADS == 1 << 34
    assert P.MANAGE_WEBHOOKS == 1 << 29
    assert ALL_PERMISSIONS & P.USE_EXTERNAL_APPS
