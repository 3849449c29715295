"""The desired state of every node of one sync, with what does not depend on room ids made once.

A sync asks for a node's desired state up to three times (to adopt rooms the database lost,
to create a missing room, to apply the state), and the room ids known grow in between. What
does not depend on them is computed once per sync: each node's power levels (Discord
permission math over every member who may have power, the costly part in a big guild) and the
children of each node. The state is exactly what :func:`desired_state` gives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ..convert.d2m.image_pack import with_image_pack
from ..convert.d2m.room_state import (
    BridgeContext,
    DesiredState,
    PortalKind,
    PortalNode,
    desired_state,
    power_levels,
)
from ..convert.model import GuildSnapshot


class SyncDesiredStates:
    """Desired states of one guild snapshot's nodes, for the length of one sync.

    ``avatar`` is the guild icon's mxc (the guild space's avatar), ``pack`` the image pack
    content every room carries (None: no pack), ``linked`` the members' linked Matrix
    accounts (:func:`power_levels`). Made again for each sync, so a role or
    channel change is always seen by the next one.
    """

    def __init__(
        self,
        guild: GuildSnapshot,
        nodes: Sequence[PortalNode],
        context: BridgeContext,
        avatar: str | None,
        pack: dict[str, Any] | None,
        linked: Mapping[int, str] | None = None,
    ) -> None:
        self.guild = guild
        self.linked = linked  # Discord user id → linked Matrix account, given power too
        self.context = context
        self.avatar = avatar
        self.pack = pack
        # Parent id → its children, in the order of ``nodes``.
        self._children: dict[int, list[PortalNode]] = defaultdict(list)
        for node in nodes:
            if node.parent_id is not None:
                self._children[node.parent_id].append(node)
        # (kind, Discord id) → power levels: a guild's default channel made before 2017 has
        # the guild's id, so the id alone does not tell the space from that channel's room.
        self._levels: dict[tuple[PortalKind, int], dict[str, Any]] = {}

    def levels(self, node: PortalNode) -> dict[str, Any]:
        """The node's ``m.room.power_levels`` content, computed once (callers never change it)."""
        key = (node.kind, node.discord_id)
        if key not in self._levels:
            self._levels[key] = power_levels(self.guild, node, self.context, self.linked)
        return self._levels[key]

    def of(self, node: PortalNode, room_ids: Mapping[int, str]) -> DesiredState:
        """The node's desired state, given the room ids known so far (Discord id → room id)."""
        children = {
            room_ids[child.discord_id]: child.order
            for child in self._children.get(node.discord_id, ())
            if child.discord_id in room_ids
        }
        state = desired_state(
            self.guild,
            node,
            self.context,
            parent_room_id=room_ids.get(node.parent_id) if node.parent_id else None,
            children=children,
            guild_space_room_id=room_ids.get(self.guild.id),
            avatar_mxc=self.avatar if node.kind is PortalKind.GUILD_SPACE else None,
            levels=self.levels(node),
        )
        return with_image_pack(state, self.pack)
