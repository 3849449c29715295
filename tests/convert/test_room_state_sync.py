"""Bringing rooms to their desired state: diff, power-level merge and creation request."""

from __future__ import annotations

from dataclasses import replace
from secrets import token_hex
from typing import Any

import pytest
from mautrix.api import Method, Path

from bridge.convert.d2m.room_state import (
    DesiredState,
    creation_request,
    desired_state,
    merge_power_levels,
    power_levels,
    space_tree,
    state_diff,
)
from bridge.matrix.checks import choose_room_version
from tests.convert.sample_guild import (
    CHAT,
    CTX,
    GENERAL,
    GUILD,
    HELP,
    MOD,
    RULES,
    SAMPLE_GUILD,
    STAFF,
    STAFF_ROOM,
)
from tests.convert.test_room_state import ghost, nodes_by_id, state_of

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
    # The homeserver's own default room version, as the bridge chooses it with
    # bridge.room_version unset (12 on Synapse, 10 on conduwuit).
    room_version = await choose_room_version(matrix_user.api, "")
    ctx = replace(
        CTX,
        bot_mxid=matrix_user.user_id,
        domain=matrix_user.user_id.split(":", 1)[1],
        alias_template=f"probe_{token_hex(4)}_{{id}}",
        room_version=room_version,
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
    for created in (space_id, room_id, hidden_id):
        create_content = (await actual_state(created))[("m.room.create", "")]
        assert create_content.get("room_version", "1") == room_version, created
    assert (await actual_state(room_id))[("m.room.join_rules", "")]["join_rule"] == "restricted"
