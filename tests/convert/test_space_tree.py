"""The space tree: which Discord objects become spaces and rooms, where, and in what order."""

from __future__ import annotations

import pytest

from bridge.convert.d2m.room_state import PortalKind, space_tree
from bridge.convert.model import ChannelSnapshot, ChannelType
from tests.convert.sample_guild import (
    AFK,
    ANNOUNCEMENTS,
    CHAT,
    CTX,
    GENERAL,
    GUILD,
    HELP,
    INFO,
    LOBBY,
    MODS,
    NEW_POST,
    OLD_POST,
    PRIVATE,
    RULES,
    SAMPLE_GUILD,
    STAFF_ROOM,
    TOWN_HALL,
    UNSYNCED,
    VOICE_CHAT,
    VOICE_CTX,
    VOICE_ONLY,
    WELCOME,
    channel,
    with_channels,
)

K = PortalKind


def test_tree_layout_and_order() -> None:
    tree = [(n.discord_id, n.kind, n.parent_id) for n in space_tree(SAMPLE_GUILD, CTX)]
    assert tree == [
        (GUILD, K.GUILD_SPACE, None),
        (WELCOME, K.CHANNEL_ROOM, GUILD),  # uncategorised first
        (INFO, K.CATEGORY_SPACE, GUILD),  # then categories by position
        (ANNOUNCEMENTS, K.CHANNEL_ROOM, INFO),
        (RULES, K.CHANNEL_ROOM, INFO),
        (CHAT, K.CATEGORY_SPACE, GUILD),
        (GENERAL, K.CHANNEL_ROOM, CHAT),  # its thread is not a node
        (STAFF_ROOM, K.CHANNEL_ROOM, CHAT),
        (HELP, K.FORUM_SPACE, CHAT),
        (NEW_POST, K.POST_ROOM, HELP),  # posts newest first
        (OLD_POST, K.POST_ROOM, HELP),
        (PRIVATE, K.CATEGORY_SPACE, GUILD),  # VOICE ONLY has nothing bridged: no node
        (MODS, K.CHANNEL_ROOM, PRIVATE),
        (UNSYNCED, K.CHANNEL_ROOM, PRIVATE),
    ]


def test_tree_with_voice_puts_voice_after_text() -> None:
    tree = [(n.discord_id, n.parent_id) for n in space_tree(SAMPLE_GUILD, VOICE_CTX)]
    ids = [discord_id for discord_id, _ in tree]
    assert ids == [
        GUILD,
        WELCOME,
        LOBBY,
        INFO,
        ANNOUNCEMENTS,
        RULES,
        CHAT,
        GENERAL,
        STAFF_ROOM,
        HELP,
        NEW_POST,
        OLD_POST,
        VOICE_CHAT,
        TOWN_HALL,
        VOICE_ONLY,
        AFK,
        PRIVATE,
        MODS,
        UNSYNCED,
    ]
    assert dict(tree)[AFK] == VOICE_ONLY


def test_tree_names() -> None:
    names = {n.discord_id: n.name for n in space_tree(SAMPLE_GUILD, CTX)}
    assert names[GUILD] == "Rust Gamedev"
    assert names[CHAT] == "CHAT"
    assert names[NEW_POST] == "Crash on launch"


def test_text_channel_of_unknown_category_goes_under_the_guild() -> None:
    stray = channel(900, ChannelType.TEXT, "stray", 0, parent_id=12345)
    tree = space_tree(with_channels(SAMPLE_GUILD, stray), CTX)
    assert next(n for n in tree if n.discord_id == 900).parent_id == GUILD


def test_parents_come_before_children() -> None:
    seen: set[int] = set()
    for node in space_tree(SAMPLE_GUILD, VOICE_CTX):
        assert node.parent_id is None or node.parent_id in seen
        seen.add(node.discord_id)


def test_order_strings_sort_like_discord_and_fit_matrix() -> None:
    tree = space_tree(SAMPLE_GUILD, VOICE_CTX)
    assert tree[0].order == ""
    siblings: dict[int, list[str]] = {}
    for node in tree[1:]:
        assert 0 < len(node.order) <= 50
        assert all(0x20 <= ord(c) <= 0x7E for c in node.order)
        siblings.setdefault(node.parent_id or 0, []).append(node.order)
    for orders in siblings.values():
        assert orders == sorted(orders)
        assert len(set(orders)) == len(orders)


def test_same_position_sorts_by_id() -> None:
    twin = channel(WELCOME + 1, ChannelType.TEXT, "welcome-2", 0)
    tree = space_tree(with_channels(SAMPLE_GUILD, twin), CTX)
    top = [n.discord_id for n in tree if n.parent_id == GUILD and n.kind == K.CHANNEL_ROOM]
    assert top == [WELCOME, WELCOME + 1]


@pytest.mark.parametrize(
    "added",
    [
        channel(901, ChannelType.TEXT, "new-text", 5, CHAT),
        channel(902, ChannelType.TEXT, "new-uncategorised", 3),
        channel(903, ChannelType.CATEGORY, "NEW CATEGORY", 4),
        channel(904, ChannelType.PUBLIC_THREAD, "newest post", 0, HELP),
    ],
    ids=["text", "uncategorised", "category", "post"],
)
def test_adding_a_channel_keeps_every_other_order(added: ChannelSnapshot) -> None:
    before = {n.discord_id: n.order for n in space_tree(SAMPLE_GUILD, CTX)}
    after = {n.discord_id: n.order for n in space_tree(with_channels(SAMPLE_GUILD, added), CTX)}
    assert {k: v for k, v in after.items() if k in before} == before


def test_new_post_sorts_first() -> None:
    newest = channel(NEW_POST + 10, ChannelType.PUBLIC_THREAD, "newest", 0, HELP)
    tree = space_tree(with_channels(SAMPLE_GUILD, newest), CTX)
    assert [n.discord_id for n in tree if n.parent_id == HELP] == [
        NEW_POST + 10,
        NEW_POST,
        OLD_POST,
    ]
