"""Linked accounts in the desired room state, pure: their power beside their ghost's, which
rooms they are invited to, and when a leaver is invited again."""

from __future__ import annotations

from bridge.convert.d2m.room_state import (
    PortalNode,
    merge_power_levels,
    power_levels,
    space_tree,
)
from bridge.convert.model import ChannelType
from bridge.migration.linked_access import (
    bridge_owned,
    invite_targets,
    needs_invite,
    newly_visible,
    visible_nodes,
    without_user,
)
from tests.convert.sample_guild import (
    ADMIN,
    ANNOUNCEMENTS,
    CHAT,
    CTX,
    GENERAL,
    GUILD,
    HELP,
    INFO,
    MOD,
    MODS,
    NEW_POST,
    OLD_POST,
    PLAIN,
    PRIVATE,
    RULES,
    SAMPLE_GUILD,
    STAFF,
    STAFF_ROLE,
    STAFF_ROOM,
    UNSYNCED,
    WELCOME,
    channel,
    hidden_from_everyone,
    member,
    with_channels,
)
from tests.convert.test_room_state import ghost, nodes_by_id

LINKED = {ADMIN: "@ada:elsewhere.org", MOD: "@mo:example.com", PLAIN: "@pat:example.com"}
SECRET_FORUM, SECRET_POST = 200000000000000050, 300000000000000050
STAFF_CATEGORY, BACKSTAGE = 200000000000000060, 200000000000000061


def levels_of(discord_id: int) -> dict[str, int]:
    return power_levels(SAMPLE_GUILD, nodes_by_id()[discord_id], CTX, LINKED)["users"]


def test_a_linked_account_gets_its_ghosts_level_beside_it() -> None:
    general = levels_of(GENERAL)
    assert general[ghost(MOD)] == general["@mo:example.com"] == 50
    assert general[ghost(ADMIN)] == general["@ada:elsewhere.org"] == 100
    assert "@pat:example.com" not in general  # no power on Discord: not listed, like its ghost
    space = levels_of(GUILD)
    assert space["@mo:example.com"] == 50 and space["@ada:elsewhere.org"] == 100


def test_a_linked_moderator_has_no_power_where_their_roles_cannot_see() -> None:
    staff_room = levels_of(STAFF_ROOM)  # hidden from @everyone, shown to Staff only
    assert ghost(MOD) not in staff_room and "@mo:example.com" not in staff_room
    assert staff_room["@ada:elsewhere.org"] == 100  # administrators see everything


def test_without_links_the_levels_are_as_before() -> None:
    node = nodes_by_id()[GENERAL]
    assert power_levels(SAMPLE_GUILD, node, CTX, {}) == power_levels(SAMPLE_GUILD, node, CTX)


def test_merge_lets_discord_decide_a_linked_accounts_level_and_keeps_other_matrix_users() -> None:
    linked = {"@mo:example.com": MOD}
    owned = bridge_owned(lambda user: user.startswith("@discord_"), linked.get)
    desired = {"users": {ghost(MOD): 50}}
    actual = {"users": {ghost(MOD): 50, "@mo:example.com": 100, "@human:example.com": 30}}
    merged = merge_power_levels(desired, actual, owned)
    # Lost the role on Discord: the linked account's 100 goes, a Matrix user's 30 stays.
    assert merged["users"] == {ghost(MOD): 50, "@human:example.com": 30}
    lowered = merge_power_levels({"users": {"@mo:example.com": 50}}, actual, owned)
    assert lowered["users"]["@mo:example.com"] == 50


def ids(nodes: list[PortalNode]) -> set[int]:
    return {node.discord_id for node in nodes}


def test_a_plain_member_sees_what_discord_shows_them() -> None:
    nodes = space_tree(SAMPLE_GUILD, CTX)
    seen = ids(visible_nodes(SAMPLE_GUILD, nodes, member(PLAIN)))
    assert {GUILD, WELCOME, INFO, ANNOUNCEMENTS, RULES, CHAT, GENERAL, HELP} <= seen
    assert STAFF_ROOM not in seen and MODS not in seen
    # #unsynced has no overwrites of its own: visible, so its category shows too.
    assert {UNSYNCED, PRIVATE} <= seen


def test_a_moderator_sees_the_private_channel_and_a_category_shows_with_its_channels() -> None:
    nodes = space_tree(SAMPLE_GUILD, CTX)
    assert MODS in ids(visible_nodes(SAMPLE_GUILD, nodes, member(MOD)))
    # A category everyone may view, holding only a channel for Staff: shown to Staff only.
    hidden = with_channels(
        SAMPLE_GUILD,
        channel(STAFF_CATEGORY, ChannelType.CATEGORY, "BACKSTAGE", 9),
        channel(
            BACKSTAGE,
            ChannelType.TEXT,
            "backstage",
            0,
            STAFF_CATEGORY,
            overwrites=hidden_from_everyone(allowed_role=STAFF_ROLE),
        ),
    )
    nodes = space_tree(hidden, CTX)
    assert {STAFF_CATEGORY, BACKSTAGE} <= ids(visible_nodes(hidden, nodes, member(STAFF)))
    assert not {STAFF_CATEGORY, BACKSTAGE} & ids(visible_nodes(hidden, nodes, member(PLAIN)))


def test_public_forum_posts_are_not_invited_to_but_private_ones_are() -> None:
    guild = with_channels(
        SAMPLE_GUILD,
        channel(
            SECRET_FORUM,
            ChannelType.FORUM,
            "secret-help",
            5,
            CHAT,
            overwrites=hidden_from_everyone(allowed_role=STAFF_ROLE),
        ),
        channel(SECRET_POST, ChannelType.PUBLIC_THREAD, "Private question", 0, SECRET_FORUM),
    )
    nodes = space_tree(guild, CTX)
    assert {OLD_POST, NEW_POST} <= ids(visible_nodes(guild, nodes, member(STAFF)))
    targets = ids(invite_targets(guild, nodes, member(STAFF)))
    assert {HELP, SECRET_FORUM, SECRET_POST} <= targets
    assert not {OLD_POST, NEW_POST} & targets
    assert SECRET_POST not in ids(invite_targets(guild, nodes, member(PLAIN)))
    assert [n.discord_id for n in invite_targets(guild, nodes, member(STAFF))][0] == GUILD


def test_who_is_invited_and_when_a_leaver_is_invited_again() -> None:
    assert needs_invite(None, new_to_them=False)  # never in the room
    for membership in ("join", "invite", "ban"):
        assert not needs_invite(membership, new_to_them=True)
    assert not needs_invite("leave", new_to_them=False)  # left: not at every sync
    assert needs_invite("leave", new_to_them=True)  # the link, or a room newly visible
    assert newly_visible(["!a", "!b"], None, just_linked=True) == {"!a", "!b"}
    assert newly_visible(["!a", "!b"], None, just_linked=False) == set()  # after a restart
    assert newly_visible(["!a", "!b"], {"!a"}, just_linked=False) == {"!b"}


def test_unlink_takes_the_entry_out_and_sends_nothing_when_there_is_none() -> None:
    levels = {"users": {"@mo:example.com": 50, "@human:example.com": 30}, "users_default": 0}
    assert without_user(levels, "@mo:example.com") == {
        "users": {"@human:example.com": 30},
        "users_default": 0,
    }
    assert without_user(levels, "@nobody:example.com") is None
    assert without_user(None, "@mo:example.com") is None
