"""The desired Matrix state of each bridged room and space, and the diff that applies it.

Room state is data: :func:`desired_state` computes everything a portal room should hold from
the guild snapshot, :func:`state_diff` says what to send to get there, and
:func:`creation_request` creates a room with all of it at once. Pure: no I/O.

Decisions worth knowing:

- ``m.room.topic`` is only in the desired state when the topic is non-empty; a topic removed
  on Discord is cleared because :data:`OWNED_STATE_TYPES` includes ``m.room.topic`` (the diff
  then sends ``{"topic": ""}``).
- ``m.space.parent`` is owned too, so a channel moved to another category loses its old parent.
- ``m.room.canonical_alias`` is desired for channel and post rooms and for the guild space
  (``alias_template`` with the guild id, so an admin finds the space); at creation it is not put
  in ``initial_state`` but set by the homeserver from ``room_alias_name`` (Synapse sends
  exactly ``{"alias": "#localpart:domain"}``, which is what the desired state holds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.convert.d2m.permissions import (
    base_permissions,
    channel_permissions,
    everyone_can_view,
    power_level_for,
)
from bridge.convert.d2m.space_tree import PortalKind, PortalNode, space_tree
from bridge.convert.model import ChannelSnapshot, GuildSnapshot, MemberSnapshot
from bridge.matrix.rooms import creation_power_levels, creators_have_every_power

__all__ = [
    "OWNED_STATE_TYPES",
    "BridgeContext",
    "DesiredState",
    "PortalKind",
    "PortalNode",
    "StateKey",
    "creation_request",
    "desired_state",
    "merge_power_levels",
    "power_levels",
    "space_tree",
    "state_diff",
]

StateKey = tuple[str, str]  # (event type, state key)
DesiredState = dict[StateKey, dict[str, Any]]

#: State types whose keys the bridge owns as a whole: a key the desired state lacks is cleared.
OWNED_STATE_TYPES = frozenset({"m.space.child", "m.space.parent", "m.room.topic"})
# What "cleared" means per type; anything else is cleared with {}.
_CLEARED_CONTENT: dict[str, dict[str, Any]] = {"m.room.topic": {"topic": ""}}

# Sent at creation through their own createRoom fields, not initial_state.
_NOT_INITIAL_STATE = frozenset({"m.room.power_levels", "m.room.canonical_alias"})

_ROOM_KINDS = frozenset({PortalKind.CHANNEL_ROOM, PortalKind.POST_ROOM})
# Spaces where power comes from guild-wide permissions; channel-backed nodes use overwrites.
_GUILD_WIDE_KINDS = frozenset({PortalKind.GUILD_SPACE, PortalKind.CATEGORY_SPACE})

_EVENT_POWER = {
    "m.room.name": 50,
    "m.room.topic": 50,
    "m.room.avatar": 50,
    "m.room.power_levels": 100,
    "m.room.history_visibility": 100,
    "m.room.canonical_alias": 100,
    "m.room.tombstone": 100,
    "m.room.server_acl": 100,
    "m.room.encryption": 100,
    "m.space.child": 100,
    "m.space.parent": 100,
    "m.bridge": 100,
    "uk.half-shot.bridge": 100,
    "m.room.pinned_events": 50,
    "m.reaction": 0,
    "m.room.redaction": 0,
}

DISCORD_URL = "https://discord.com"


@dataclass(frozen=True)
class BridgeContext:
    """What the converters need to know about the bridge and its homeserver."""

    bot_mxid: str
    domain: str  # homeserver server name
    appservice_id: str  # used in the bridge-info state key prefix
    username_template: str  # "discord_{id}"
    alias_template: str  # "discord_{id}"
    space_join_rule: str = "public"  # "public" | "invite"
    public_channel_join_rule: str = "restricted"  # "restricted" | "public"
    bridge_voice_channels: bool = False
    # Version of the rooms the bridge creates: chosen at start against the homeserver
    # (bridge.matrix.checks.choose_room_version, key bridge.room_version).
    room_version: str = "12"
    # bridge.room_owners: the community's own admins, creators of every room the bridge makes
    # from room version 12 (MSC4289 additional_creators), at power 100 before.
    room_owners: tuple[str, ...] = ()

    def ghost_mxid(self, ghost_id: str | int) -> str:
        return f"@{self.username_template.format(id=ghost_id)}:{self.domain}"

    def alias(self, channel_id: int) -> str:
        return f"#{self.alias_template.format(id=channel_id)}:{self.domain}"


def _channel(guild: GuildSnapshot, node: PortalNode) -> ChannelSnapshot | None:
    if node.kind == PortalKind.GUILD_SPACE:
        return None
    return guild.channel(node.discord_id)


def _topic(guild: GuildSnapshot, node: PortalNode) -> str:
    if node.kind == PortalKind.GUILD_SPACE:
        return guild.description or ""
    channel = _channel(guild, node)
    return (channel.topic if channel else None) or ""


def _join_rules(
    guild: GuildSnapshot, node: PortalNode, ctx: BridgeContext, guild_space_room_id: str | None
) -> dict[str, Any]:
    """Space: from config. Visible to @everyone: from config. Hidden from @everyone: invite."""
    if node.kind == PortalKind.GUILD_SPACE:
        return {"join_rule": ctx.space_join_rule}
    channel = _channel(guild, node)
    if channel is None or not everyone_can_view(guild, channel):
        return {"join_rule": "invite"}
    if ctx.public_channel_join_rule == "restricted":
        if guild_space_room_id is None:
            return {"join_rule": "invite"}
        return {
            "join_rule": "restricted",
            "allow": [{"type": "m.room_membership", "room_id": guild_space_room_id}],
        }
    return {"join_rule": ctx.public_channel_join_rule}


def bridge_info_key(guild: GuildSnapshot, node: PortalNode, ctx: BridgeContext) -> str:
    """The MSC2346 state key: ``<appservice id>://discord/<guild>[/<channel>]``."""
    key = f"{ctx.appservice_id}://discord/{guild.id}"
    return key if node.kind == PortalKind.GUILD_SPACE else f"{key}/{node.discord_id}"


def bridge_info(
    guild: GuildSnapshot, node: PortalNode, ctx: BridgeContext, guild_avatar_mxc: str | None
) -> dict[str, Any]:
    """MSC2346 bridge info content: protocol, network (the guild) and channel."""
    network: dict[str, Any] = {
        "id": str(guild.id),
        "displayname": guild.name,
        "external_url": f"{DISCORD_URL}/channels/{guild.id}",
    }
    if guild_avatar_mxc:
        network["avatar_url"] = guild_avatar_mxc
    if node.kind == PortalKind.GUILD_SPACE:
        channel = dict(network)
    else:
        channel = {
            "id": str(node.discord_id),
            "displayname": node.name,
            "external_url": f"{DISCORD_URL}/channels/{guild.id}/{node.discord_id}",
        }
    return {
        "bridgebot": ctx.bot_mxid,
        "protocol": {"id": "discord", "displayname": "Discord", "external_url": f"{DISCORD_URL}/"},
        "network": network,
        "channel": channel,
    }


def desired_state(
    guild: GuildSnapshot,
    node: PortalNode,
    ctx: BridgeContext,
    *,
    parent_room_id: str | None,
    children: Mapping[str, str],
    guild_space_room_id: str | None,
    avatar_mxc: str | None,
    guild_avatar_mxc: str | None = None,
    levels: dict[str, Any] | None = None,
) -> DesiredState:
    """The full desired state of the node's room, everything except ``m.room.create``.

    ``children`` maps each child room id to its ``order``. ``avatar_mxc`` is the room's own
    avatar (the guild icon for the guild space). ``guild_avatar_mxc``, when known, goes into
    the bridge info's network of every node (the guild space uses ``avatar_mxc`` for it).
    ``levels``, when given, is ``power_levels(guild, node, ctx)`` computed already (a sync
    computes it once per node), used as it is.
    """
    if node.kind == PortalKind.GUILD_SPACE:
        guild_avatar_mxc = guild_avatar_mxc or avatar_mxc
    state: DesiredState = {
        ("m.room.name", ""): {"name": node.name},
        ("m.room.history_visibility", ""): {"history_visibility": "shared"},
        ("m.room.join_rules", ""): _join_rules(guild, node, ctx, guild_space_room_id),
        ("m.room.power_levels", ""): power_levels(guild, node, ctx) if levels is None else levels,
    }
    if topic := _topic(guild, node):
        state[("m.room.topic", "")] = {"topic": topic}
    if avatar_mxc:
        state[("m.room.avatar", "")] = {"url": avatar_mxc}
    if node.kind in _ROOM_KINDS or _space_has_alias(guild, node):
        state[("m.room.canonical_alias", "")] = {"alias": ctx.alias(node.discord_id)}
    if parent_room_id:
        state[("m.space.parent", parent_room_id)] = {"via": [ctx.domain], "canonical": True}
    for child_room_id, order in children.items():
        state[("m.space.child", child_room_id)] = {"via": [ctx.domain], "order": order}
    info = bridge_info(guild, node, ctx, guild_avatar_mxc)
    info_key = bridge_info_key(guild, node, ctx)
    state[("m.bridge", info_key)] = info
    state[("uk.half-shot.bridge", info_key)] = info
    return state


def _space_has_alias(guild: GuildSnapshot, node: PortalNode) -> bool:
    """The guild space has the guild id's alias (``#discord_<guild id>:domain``, issue #15),
    unless a channel has that id too (the default channel of guilds made before 2017 shares
    the guild's id): the channel's room keeps it then."""
    return node.kind == PortalKind.GUILD_SPACE and guild.channel(guild.id) is None


def _members_with_owner(guild: GuildSnapshot) -> list[MemberSnapshot]:
    members = list(guild.members)
    if all(member.user_id != guild.owner_id for member in members):
        members.append(MemberSnapshot(user_id=guild.owner_id))
    return members


def power_levels(
    guild: GuildSnapshot,
    node: PortalNode,
    ctx: BridgeContext,
    linked: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Power levels from Discord permissions: admins 100, moderators 50, others not listed.

    Spaces of the guild and its categories use guild-wide permissions; channels, forums and
    posts use the channel's overwrites. The bot creates every room, so under room version 12
    it must not be listed, nor the owners (``ctx.room_owners``, additional creators then);
    before version 12 both are listed at 100 (:func:`creation_power_levels`). ``linked``
    maps a Discord user id to the Matrix account the member linked (bridge/migration/links.py):
    that account gets the level of the member's ghost, beside it.
    """
    channel = None if node.kind in _GUILD_WIDE_KINDS else _channel(guild, node)
    users: dict[str, int] = {}
    for member in _members_with_owner(guild):
        if channel is None:
            permissions = base_permissions(guild, member)
        else:
            permissions = channel_permissions(guild, channel, member)
        level = power_level_for(permissions)
        if level > 0:
            users[ctx.ghost_mxid(member.user_id)] = level
            if linked and (mxid := linked.get(member.user_id)):
                users[mxid] = level
    return {
        "users": creation_power_levels(ctx.bot_mxid, users, ctx.room_version, ctx.room_owners),
        "users_default": 0,
        "events": dict(_EVENT_POWER),
        "events_default": 0,
        "state_default": 50,
        "invite": 0,
        "kick": 50,
        "ban": 50,
        "redact": 50,
        "notifications": {"room": 50},
        # Synapse adds this (MSC2716 history import, removed) to every room it creates; listing
        # it here keeps the first diff after creation empty. Nothing else reads it.
        "historical": 100,
    }


def merge_power_levels(
    desired: dict[str, Any], actual: dict[str, Any] | None, bridge_owned: Callable[[str], bool]
) -> dict[str, Any]:
    """Desired power levels that keep what Matrix users were given on the Matrix side.

    The levels of ghosts and of accounts linked to a Discord member (``bridge_owned`` true)
    follow Discord, so they come only from ``desired``; every other user's entry in
    ``actual`` is kept, unless ``desired`` names that user (in rooms before version 12 the
    bot, at 100). ``bridge_owned`` must be False for the bot. Under room version 12 the
    creator is never in ``actual["users"]``, so nothing needs excluding for it. Event levels
    above 100 in ``actual`` (Synapse gives ``m.room.tombstone`` 150 in rooms it creates for
    users) stay: in a Matrix room the bridge adopted, its bot at 100 could not change them.
    """
    users = dict(desired.get("users", {}))
    for user, level in ((actual or {}).get("users") or {}).items():
        if not bridge_owned(user) and user not in users:
            users[user] = level
    merged = {**desired, "users": users}
    high = {
        event_type: level
        for event_type, level in ((actual or {}).get("events") or {}).items()
        if isinstance(level, int) and level > 100
    }
    if high:
        merged["events"] = {**desired.get("events", {}), **high}
    return merged


def state_diff(
    desired: DesiredState,
    actual: Mapping[StateKey, dict[str, Any]],
    *,
    owned_sets: frozenset[str] = OWNED_STATE_TYPES,
) -> list[tuple[str, str, dict[str, Any]]]:
    """What to send to make ``actual`` match ``desired``, sorted by (type, state key).

    Every desired key whose content differs or is missing, plus a clearing event for every
    actual key of an owned type that ``desired`` lacks (``{}`` removes a space child or parent;
    a topic is cleared with ``{"topic": ""}``), unless it is cleared already.
    """
    changes: dict[StateKey, dict[str, Any]] = {
        key: content for key, content in desired.items() if actual.get(key) != content
    }
    for key, content in actual.items():
        event_type = key[0]
        if event_type not in owned_sets or key in desired:
            continue
        cleared = _CLEARED_CONTENT.get(event_type, {})
        if content not in ({}, cleared):
            changes[key] = cleared
    return [(key[0], key[1], changes[key]) for key in sorted(changes)]


def alias_localpart(alias: str) -> str:
    """``#discord_1:example.com`` → ``discord_1``."""
    return alias.removeprefix("#").split(":", 1)[0]


def creation_request(node: PortalNode, state: DesiredState, ctx: BridgeContext) -> dict[str, Any]:
    """The body of ``POST /createRoom`` that creates the room with all of ``state`` at once.

    Power levels go in ``power_level_content_override``, which replaces the homeserver's
    defaults key by key; the alias is created through ``room_alias_name``, for which the
    homeserver also sets ``m.room.canonical_alias``, so the first diff finds nothing to do.
    The owners (``ctx.room_owners``) are invited, and from room version 12 are the room's
    ``additional_creators`` (MSC4289), with every power the bridge bot has.
    """
    body: dict[str, Any] = {
        "room_version": ctx.room_version,
        "preset": "private_chat",
        "initial_state": [
            {"type": event_type, "state_key": state_key, "content": content}
            for (event_type, state_key), content in sorted(state.items())
            if event_type not in _NOT_INITIAL_STATE
        ],
    }
    if node.kind.is_space:
        body["creation_content"] = {"type": "m.space"}
    if ctx.room_owners:
        body["invite"] = list(ctx.room_owners)
        if creators_have_every_power(ctx.room_version):
            creation = body.setdefault("creation_content", {})
            creation["additional_creators"] = list(ctx.room_owners)
    if (levels := state.get(("m.room.power_levels", ""))) is not None:
        body["power_level_content_override"] = levels
    if (alias := state.get(("m.room.canonical_alias", ""), {}).get("alias")) is not None:
        body["room_alias_name"] = alias_localpart(alias)
    return body
