"""Space tree, desired room state, power levels, diff and creation request, from the sample guild."""

from __future__ import annotations

from dataclasses import replace
from secrets import token_hex
from typing import Any

import pytest
from mautrix.api import Method, Path

from bridge.convert.d2m.room_state import (
    BridgeContext,
    DesiredState,
    PortalKind,
    PortalNode,
    creation_request,
    desired_state,
    merge_power_levels,
    power_levels,
    space_tree,
    state_diff,
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
        (GUILD, True, False),
        (CHAT, False, False),  # categories have no topic
        (RULES, False, True),  # no topic set
        (HELP, True, False),  # forum guidelines; forums are spaces
        (NEW_POST, False, True),
        (GENERAL, True, True),
    ],
)
def test_topic_only_when_set_and_alias_only_for_rooms(
    discord_id: int, has_topic: bool, has_alias: bool
) -> None:
    state = state_of(discord_id)
    assert (("m.room.topic", "") in state) is has_topic
    assert (("m.room.canonical_alias", "") in state) is has_alias


def test_network_avatar_is_omitted_when_unknown() -> None:
    state = state_of(RULES)
    info = state[("m.bridge", f"discord://discord/{GUILD}/{RULES}")]
    assert "avatar_url" not in info["network"]


# Diff


def test_diff_of_equal_state_is_empty() -> None:
    state = state_of(GUILD, children={"!a": "a1"})
    assert state_diff(state, dict(state)) == []


def test_diff_sends_changed_and_missing_in_sorted_order() -> None:
    desired = state_of(GENERAL, parent_room_id="!chat")
    actual = dict(desired)
    actual[("m.room.name", "")] = {"name": "old-name"}
    del actual[("m.room.topic", "")]
    assert state_diff(desired, actual) == [
        ("m.room.name", "", {"name": "general"}),
        ("m.room.topic", "", {"topic": "Talk about anything"}),
    ]


def test_diff_compares_deeply() -> None:
    desired = state_of(GENERAL)
    actual = dict(desired)
    levels = dict(desired[("m.room.power_levels", "")])
    levels["users"] = {**levels["users"], ghost(MOD): 100}
    actual[("m.room.power_levels", "")] = levels
    assert [(t, k) for t, k, _ in state_diff(desired, actual)] == [("m.room.power_levels", "")]


def test_diff_removes_space_children_once() -> None:
    desired = state_of(CHAT, children={"!kept": "a1"})
    actual = {
        **desired,
        ("m.space.child", "!removed"): {"via": ["example.com"], "order": "a2"},
        ("m.space.child", "!already-removed"): {},
        ("m.space.child", "!kept"): {"via": ["example.com"], "order": "a0"},
    }
    assert state_diff(desired, actual) == [
        ("m.space.child", "!kept", {"via": ["example.com"], "order": "a1"}),
        ("m.space.child", "!removed", {}),
    ]


def test_diff_moves_a_channel_to_another_parent() -> None:
    old = state_of(GENERAL, parent_room_id="!old-category")
    new = state_of(GENERAL, parent_room_id="!new-category")
    assert state_diff(new, old) == [
        ("m.space.parent", "!new-category", {"via": ["example.com"], "canonical": True}),
        ("m.space.parent", "!old-category", {}),
    ]


def test_diff_clears_a_removed_topic_once() -> None:
    desired = state_of(RULES)
    with_topic = {**desired, ("m.room.topic", ""): {"topic": "gone on Discord"}}
    assert state_diff(desired, with_topic) == [("m.room.topic", "", {"topic": ""})]
    assert state_diff(desired, {**desired, ("m.room.topic", ""): {"topic": ""}}) == []


def test_diff_leaves_unowned_extra_state_alone() -> None:
    desired = state_of(GENERAL)
    actual = {**desired, ("m.room.guest_access", ""): {"guest_access": "can_join"}}
    assert state_diff(desired, actual) == []
    only_children = frozenset({"m.space.child"})
    extra_parent = {**desired, ("m.space.parent", "!theirs"): {"via": ["elsewhere.org"]}}
    assert state_diff(desired, extra_parent, owned_sets=only_children) == []


# Merging power levels


def test_merge_keeps_matrix_users_and_follows_discord_for_ghosts() -> None:
    desired = power_levels(SAMPLE_GUILD, nodes_by_id()[GENERAL], CTX)
    actual = {
        **desired,
        "users": {
            "@alice:example.com": 50,  # given on the Matrix side
            ghost(MOD): 100,  # stale: Discord says 50
            ghost(STAFF): 50,  # stale: Discord says nothing
        },
        "events_default": 50,  # only users are merged
    }
    merged = merge_power_levels(desired, actual, lambda user: user.startswith("@discord_"))
    assert merged["users"] == {**desired["users"], "@alice:example.com": 50}
    assert merged["events_default"] == 0
    assert merge_power_levels(desired, None, lambda _: False) == desired


def test_merge_before_room_v12_keeps_the_bot_from_desired() -> None:
    ctx = replace(CTX, room_version="11")
    desired = power_levels(SAMPLE_GUILD, nodes_by_id()[GENERAL], ctx)
    actual = {"users": {CTX.bot_mxid: 50}}
    merged = merge_power_levels(desired, actual, lambda user: user.startswith("@discord_"))
    assert merged["users"][CTX.bot_mxid] == 100


# Creation request


def test_creation_request_for_a_channel_room() -> None:
    state = state_of(GENERAL, parent_room_id="!chat")
    request = creation_request(nodes_by_id()[GENERAL], state, CTX)
    assert request["room_version"] == "12"
    assert request["preset"] == "private_chat"
    assert "creation_content" not in request
    assert request["room_alias_name"] == f"discord_{GENERAL}"
    assert request["power_level_content_override"] == state[("m.room.power_levels", "")]
    assert CTX.bot_mxid not in request["power_level_content_override"]["users"]
    initial = {(e["type"], e["state_key"]): e["content"] for e in request["initial_state"]}
    assert initial == {
        k: v
        for k, v in state.items()
        if k[0] not in ("m.room.power_levels", "m.room.canonical_alias")
    }
    assert len(initial) == len(request["initial_state"])
    assert "name" not in request and "topic" not in request


def test_creation_request_for_a_space() -> None:
    node = nodes_by_id()[HELP]
    request = creation_request(node, state_of(HELP, children={"!post": "p1"}), CTX)
    assert request["creation_content"] == {"type": "m.space"}
    assert "room_alias_name" not in request


def test_alias_localpart_with_a_port_in_the_domain() -> None:
    ctx = replace(CTX, domain="localhost:8448")
    request = creation_request(nodes_by_id()[GENERAL], state_of(GENERAL, ctx), ctx)
    assert request["room_alias_name"] == f"discord_{GENERAL}"


# Against the real homeserver


@pytest.mark.slow
async def test_synapse_creates_rooms_that_need_no_diff(matrix_user: Any) -> None:
    """createRoom accepts the requests, and the state it makes is exactly the desired state.

    Created by a human user (standing in for the bot), with an alias outside the appservice's
    namespace, so that nothing is pushed to an appservice that is not listening.
    """
    ctx = replace(
        CTX,
        bot_mxid=matrix_user.user_id,
        domain=matrix_user.user_id.split(":", 1)[1],
        alias_template=f"probe_{token_hex(4)}_{{id}}",
    )
    nodes = {node.discord_id: node for node in space_tree(SAMPLE_GUILD, ctx)}

    async def create(discord_id: int, **kwargs: Any) -> tuple[str, DesiredState]:
        args: dict[str, Any] = {"parent_room_id": None, "children": {}, "avatar_mxc": None}
        state = desired_state(SAMPLE_GUILD, nodes[discord_id], ctx, **{**args, **kwargs})
        request = creation_request(nodes[discord_id], state, ctx)
        response = await matrix_user.api.api.request(Method.POST, Path.v3.createRoom, request)
        return response["room_id"], state

    async def actual_state(room_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        events = await matrix_user.state(room_id)
        return {(e["type"], e["state_key"]): e["content"] for e in events}

    space_id, space_state = await create(
        GUILD, guild_space_room_id=None, avatar_mxc="mxc://example.com/icon"
    )
    room_id, room_state = await create(
        GENERAL, parent_room_id=space_id, guild_space_room_id=space_id
    )
    hidden_id, hidden_state = await create(
        STAFF_ROOM, parent_room_id=space_id, guild_space_room_id=space_id
    )
    for created, desired in [
        (space_id, space_state),
        (room_id, room_state),
        (hidden_id, hidden_state),
    ]:
        actual = await actual_state(created)
        assert state_diff(desired, actual) == [], created
    assert (await actual_state(space_id))[("m.room.create", "")]["type"] == "m.space"
    assert (await actual_state(room_id))[("m.room.join_rules", "")]["join_rule"] == "restricted"
