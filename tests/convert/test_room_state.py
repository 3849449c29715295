"""Desired room state from the sample guild: context, power levels, join rules, state events.

Diffing, power-level merging and creation requests are in ``test_room_state_sync``; the
helpers here (``state_of``, ``nodes_by_id``, ``ghost``) serve both files.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bridge.convert.d2m.room_state import (
    BridgeContext,
    DesiredState,
    PortalKind,
    PortalNode,
    desired_state,
    power_levels,
    space_tree,
)
from bridge.convert.model import MemberSnapshot
from tests.convert.sample_guild import (
    ADMIN,
    CHAT,
    CTX,
    GENERAL,
    GUILD,
    HELP,
    MOD,
    MODS,
    NEW_POST,
    OWNER,
    PRIVATE,
    RULES,
    SAMPLE_GUILD,
    STAFF,
    STAFF_ROOM,
    UNSYNCED,
)

SPACE = "!guildspace"
K = PortalKind


def ghost(user_id: int) -> str:
    return f"@discord_{user_id}:example.com"


def nodes_by_id(ctx: BridgeContext = CTX) -> dict[int, PortalNode]:
    return {node.discord_id: node for node in space_tree(SAMPLE_GUILD, ctx)}


def state_of(discord_id: int, ctx: BridgeContext = CTX, **kwargs: Any) -> DesiredState:
    args: dict[str, Any] = {
        "parent_room_id": None,
        "children": {},
        "guild_space_room_id": SPACE,
        "avatar_mxc": None,
    }
    return desired_state(SAMPLE_GUILD, nodes_by_id(ctx)[discord_id], ctx, **{**args, **kwargs})


# Context


def test_context_builds_mxids_and_aliases() -> None:
    assert CTX.ghost_mxid(42) == "@discord_42:example.com"
    assert CTX.ghost_mxid("webhook-7") == "@discord_webhook-7:example.com"
    assert CTX.alias(GENERAL) == f"#discord_{GENERAL}:example.com"


# Power levels


@pytest.mark.parametrize(
    ("discord_id", "expected"),
    [
        (GUILD, {OWNER: 100, ADMIN: 100, MOD: 50}),
        (CHAT, {OWNER: 100, ADMIN: 100, MOD: 50}),  # categories: guild-wide
        (GENERAL, {OWNER: 100, ADMIN: 100, MOD: 50}),
        (STAFF_ROOM, {OWNER: 100, ADMIN: 100}),  # the moderator cannot see it
        (MODS, {OWNER: 100, ADMIN: 100, MOD: 50}),
        (HELP, {OWNER: 100, ADMIN: 100, MOD: 50}),
        (NEW_POST, {OWNER: 100, ADMIN: 100, MOD: 50}),
    ],
)
def test_power_levels_users(discord_id: int, expected: dict[int, int]) -> None:
    levels = power_levels(SAMPLE_GUILD, nodes_by_id()[discord_id], CTX)
    assert levels["users"] == {ghost(user): level for user, level in expected.items()}
    assert STAFF not in expected  # a role without moderation permissions gives nothing


def test_power_levels_shape() -> None:
    levels = power_levels(SAMPLE_GUILD, nodes_by_id()[GENERAL], CTX)
    assert CTX.bot_mxid not in levels["users"]
    assert {k: v for k, v in levels.items() if k not in ("users", "events")} == {
        "users_default": 0,
        "events_default": 0,
        "state_default": 50,
        "invite": 0,
        "kick": 50,
        "ban": 50,
        "redact": 50,
        "notifications": {"room": 50},
        "historical": 100,
    }
    events = levels["events"]
    assert events["m.room.name"] == events["m.room.topic"] == events["m.room.avatar"] == 50
    assert events["m.room.power_levels"] == events["m.space.child"] == events["m.bridge"] == 100
    assert events["m.reaction"] == events["m.room.redaction"] == 0


def test_power_levels_before_room_v12_list_the_bot() -> None:
    ctx = replace(CTX, room_version="11")
    assert power_levels(SAMPLE_GUILD, nodes_by_id()[GENERAL], ctx)["users"][CTX.bot_mxid] == 100


def test_owner_who_is_a_member_is_listed_once() -> None:
    guild = replace(SAMPLE_GUILD, members=(MemberSnapshot(user_id=OWNER),))
    node = space_tree(guild, CTX)[0]
    assert power_levels(guild, node, CTX)["users"] == {ghost(OWNER): 100}


# Join rules

RESTRICTED = {"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": SPACE}]}
PUBLIC = {"join_rule": "public"}
INVITE = {"join_rule": "invite"}


@pytest.mark.parametrize(
    ("discord_id", "space_rule", "channel_rule", "expected"),
    [
        (GUILD, "public", "restricted", PUBLIC),
        (GUILD, "invite", "restricted", INVITE),
        (CHAT, "public", "restricted", RESTRICTED),
        (CHAT, "public", "public", PUBLIC),
        (PRIVATE, "public", "public", INVITE),  # a hidden category
        (GENERAL, "public", "restricted", RESTRICTED),
        (GENERAL, "invite", "public", PUBLIC),
        (STAFF_ROOM, "public", "restricted", INVITE),
        (STAFF_ROOM, "public", "public", INVITE),
        (MODS, "public", "public", INVITE),
        (UNSYNCED, "public", "restricted", RESTRICTED),
        (HELP, "public", "restricted", RESTRICTED),
        (NEW_POST, "public", "public", PUBLIC),  # posts follow their forum
    ],
)
def test_join_rules(discord_id: int, space_rule: str, channel_rule: str, expected: Any) -> None:
    ctx = replace(CTX, space_join_rule=space_rule, public_channel_join_rule=channel_rule)
    assert state_of(discord_id, ctx)[("m.room.join_rules", "")] == expected


def test_restricted_without_guild_space_room_falls_back_to_invite() -> None:
    state = state_of(GENERAL, guild_space_room_id=None)
    assert state[("m.room.join_rules", "")] == INVITE


# Desired state


def test_guild_space_state() -> None:
    state = state_of(
        GUILD,
        children={"!welcome": "a1", "!info": "c0"},
        avatar_mxc="mxc://example.com/icon",
        guild_space_room_id=None,
    )
    info_key = f"discord://discord/{GUILD}"
    info = {
        "bridgebot": CTX.bot_mxid,
        "protocol": {
            "id": "discord",
            "displayname": "Discord",
            "external_url": "https://discord.com/",
        },
        "network": {
            "id": str(GUILD),
            "displayname": "Rust Gamedev",
            "external_url": f"https://discord.com/channels/{GUILD}",
            "avatar_url": "mxc://example.com/icon",
        },
        "channel": {
            "id": str(GUILD),
            "displayname": "Rust Gamedev",
            "external_url": f"https://discord.com/channels/{GUILD}",
            "avatar_url": "mxc://example.com/icon",
        },
    }
    assert {k: v for k, v in state.items() if k[0] != "m.room.power_levels"} == {
        ("m.room.name", ""): {"name": "Rust Gamedev"},
        ("m.room.topic", ""): {"topic": "Making games in Rust"},
        ("m.room.avatar", ""): {"url": "mxc://example.com/icon"},
        ("m.room.history_visibility", ""): {"history_visibility": "shared"},
        ("m.room.join_rules", ""): PUBLIC,
        # The guild id's alias: how an admin finds the space (issue #15).
        ("m.room.canonical_alias", ""): {"alias": f"#discord_{GUILD}:example.com"},
        ("m.space.child", "!welcome"): {"via": ["example.com"], "order": "a1"},
        ("m.space.child", "!info"): {"via": ["example.com"], "order": "c0"},
        ("m.bridge", info_key): info,
        ("uk.half-shot.bridge", info_key): info,
    }


def test_channel_room_state() -> None:
    state = state_of(GENERAL, parent_room_id="!chat", guild_avatar_mxc="mxc://example.com/icon")
    info_key = f"discord://discord/{GUILD}/{GENERAL}"
    assert state[("m.room.name", "")] == {"name": "general"}
    assert state[("m.room.topic", "")] == {"topic": "Talk about anything"}
    assert state[("m.room.canonical_alias", "")] == {"alias": f"#discord_{GENERAL}:example.com"}
    assert state[("m.space.parent", "!chat")] == {"via": ["example.com"], "canonical": True}
    assert ("m.room.avatar", "") not in state
    assert not [key for key in state if key[0] == "m.space.child"]
    assert state[("m.bridge", info_key)] == state[("uk.half-shot.bridge", info_key)]
    info = state[("m.bridge", info_key)]
    assert info["channel"] == {
        "id": str(GENERAL),
        "displayname": "general",
        "external_url": f"https://discord.com/channels/{GUILD}/{GENERAL}",
    }
    assert info["network"]["avatar_url"] == "mxc://example.com/icon"


@pytest.mark.parametrize(
    ("discord_id", "has_topic", "has_alias"),
    [
        (GUILD, True, True),  # the guild space: how an admin finds it (issue #15)
        (CHAT, False, False),  # categories have no topic
        (RULES, False, True),  # no topic set
        (HELP, True, False),  # forum guidelines; forums are spaces
        (NEW_POST, False, True),
        (GENERAL, True, True),
    ],
)
def test_topic_only_when_set_and_alias_for_rooms_and_the_guild_space(
    discord_id: int, has_topic: bool, has_alias: bool
) -> None:
    state = state_of(discord_id)
    assert (("m.room.topic", "") in state) is has_topic
    assert (("m.room.canonical_alias", "") in state) is has_alias


def test_the_space_leaves_its_alias_to_a_channel_with_the_guilds_id() -> None:
    """Guilds made before 2017: the default channel has the guild's id, and its room the
    alias; the space gets none rather than taking it."""
    old_general = replace(SAMPLE_GUILD.channel(GENERAL), id=GUILD)
    guild = replace(
        SAMPLE_GUILD,
        channels=tuple(old_general if c.id == GENERAL else c for c in SAMPLE_GUILD.channels),
    )
    space = next(node for node in space_tree(guild, CTX) if node.discord_id == GUILD)
    args: dict[str, Any] = {"parent_room_id": None, "children": {}, "avatar_mxc": None}
    state = desired_state(guild, space, CTX, guild_space_room_id=None, **args)
    assert ("m.room.canonical_alias", "") not in state


def test_network_avatar_is_omitted_when_unknown() -> None:
    state = state_of(RULES)
    info = state[("m.bridge", f"discord://discord/{GUILD}/{RULES}")]
    assert "avatar_url" not in info["network"]
