"""A sync's desired states: the same as computed node by node, with power levels made once."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.convert.d2m.image_pack import with_image_pack
from bridge.convert.d2m.room_state import PortalKind, desired_state, power_levels, space_tree
from bridge.portal import desired
from bridge.portal.desired import SyncDesiredStates
from tests.convert.sample_guild import CTX, SAMPLE_GUILD

AVATAR = "mxc://sandbox.local/icon"
PACK: dict[str, Any] = {"images": {"wave": {"url": "mxc://sandbox.local/wave"}}, "pack": {}}


def node_by_node(room_ids: dict[int, str]) -> list[dict]:
    """Every node's desired state as a sync computed it before: children by scanning."""
    nodes = space_tree(SAMPLE_GUILD, CTX)
    states = []
    for node in nodes:
        children = {
            room_ids[child.discord_id]: child.order
            for child in nodes
            if child.parent_id == node.discord_id and child.discord_id in room_ids
        }
        state = desired_state(
            SAMPLE_GUILD,
            node,
            CTX,
            parent_room_id=room_ids.get(node.parent_id) if node.parent_id else None,
            children=children,
            guild_space_room_id=room_ids.get(SAMPLE_GUILD.id),
            avatar_mxc=AVATAR if node.kind is PortalKind.GUILD_SPACE else None,
        )
        states.append(with_image_pack(state, PACK))
    return states


@pytest.mark.parametrize("known", [0, 3, 100])
def test_desired_states_are_those_computed_node_by_node(known: int) -> None:
    """With no room yet, some, or all (as room ids grow during a sync)."""
    nodes = space_tree(SAMPLE_GUILD, CTX)
    room_ids = {node.discord_id: f"!room{i}" for i, node in enumerate(nodes[:known])}
    states = SyncDesiredStates(SAMPLE_GUILD, nodes, CTX, AVATAR, PACK)
    assert [states.of(node, room_ids) for node in nodes] == node_by_node(room_ids)


def test_power_levels_are_computed_once_per_node(monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[int] = []

    def counting(guild: Any, node: Any, ctx: Any, linked: Any = None) -> dict[str, Any]:
        computed.append(node.discord_id)
        return power_levels(guild, node, ctx, linked)

    monkeypatch.setattr(desired, "power_levels", counting)
    nodes = space_tree(SAMPLE_GUILD, CTX)
    states = SyncDesiredStates(SAMPLE_GUILD, nodes, CTX, None, None)
    room_ids: dict[int, str] = {}
    for _ in range(3):  # adoption, creation, applying the state
        for node in nodes:
            states.of(node, room_ids)
            room_ids[node.discord_id] = f"!{node.discord_id}"
    assert sorted(computed) == sorted(node.discord_id for node in nodes)
