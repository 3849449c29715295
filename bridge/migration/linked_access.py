"""What a linked Matrix account is given in a guild's rooms: which rooms it is invited to, and
which power level entries the bridge owns for it. Pure: no I/O.

A Discord member who linked a Matrix account (:mod:`bridge.migration.links`) sees on Matrix
what their Discord roles let them see on Discord, by Discord's own permission algorithm
(``VIEW_CHANNEL`` after overwrites, :func:`bridge.convert.d2m.permissions.channel_permissions`),
and holds in each room the power level their ghost holds there
(:func:`bridge.convert.d2m.room_state.power_levels` lists both). While the link lasts, the
account's entry in ``m.room.power_levels`` follows Discord like a ghost's does.

Invitation rule (one invite per reason, never a standing order):

- a visible room where the account has no membership at all (never invited, never joined) is
  invited at every sync, so a new channel, a newly bridged guild or a role change while the
  bridge was down reach it;
- a room the account left, refused or was kicked from is invited again only when it is new to
  the account: at the link itself, or when a role or overwrite change shows it a room it did
  not see at the previous sync;
- a joined, invited or banned account is never invited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..convert.d2m.permissions import Permission, channel_permissions, everyone_can_view
from ..convert.d2m.space_tree import PortalKind, PortalNode
from ..convert.model import GuildSnapshot, MemberSnapshot
from ..db.rows import AccountLinkRow

# Memberships that never get an invite: there already, or banned (an invite would fail).
_NO_INVITE = frozenset({"join", "invite", "ban"})
# Discord shows a category when the member sees at least one channel in it.
_BY_CHILDREN = frozenset({PortalKind.CATEGORY_SPACE})


def linked_mxids(links: Iterable[AccountLinkRow]) -> dict[int, str]:
    """Discord user id → linked Matrix account, for :func:`power_levels`' ``linked``."""
    return {row.discord_user_id: row.mxid for row in links}


def bridge_owned(
    is_ghost: Callable[[str], bool], linked: Callable[[str], int | None]
) -> Callable[[str], bool]:
    """The ``bridge_owned`` test of :func:`merge_power_levels`: ghosts, and Matrix accounts
    linked to a Discord member now (``linked`` is ``AccountLinks.discord_for``)."""
    return lambda mxid: is_ghost(mxid) or linked(mxid) is not None


def visible_nodes(
    guild: GuildSnapshot, nodes: Sequence[PortalNode], member: MemberSnapshot
) -> list[PortalNode]:
    """The nodes of the space tree the member sees on Discord, parents before children.

    The guild space always; a channel room, forum space or forum post when the member has
    ``VIEW_CHANNEL`` there (posts use their forum's overwrites); a category space when the
    member sees a channel in it, as Discord's channel list shows it.
    """
    seen: set[int] = set()
    for node in reversed(nodes):  # children come after their parents in ``nodes``
        if node.kind is PortalKind.GUILD_SPACE:
            continue
        if node.kind in _BY_CHILDREN:
            visible = node.discord_id in seen
        else:
            channel = guild.channel(node.discord_id)
            visible = channel is not None and bool(
                channel_permissions(guild, channel, member) & Permission.VIEW_CHANNEL
            )
        if visible:
            seen.add(node.discord_id)
            # Not the guild's id: a default channel made before 2017 has it too.
            if node.parent_id is not None and node.parent_id != guild.id:
                seen.add(node.parent_id)
    return [n for n in nodes if n.kind is PortalKind.GUILD_SPACE or n.discord_id in seen]


def invite_targets(
    guild: GuildSnapshot, nodes: Sequence[PortalNode], member: MemberSnapshot
) -> list[PortalNode]:
    """The nodes whose rooms the member's linked account is invited to, parents first: the
    visible ones (:func:`visible_nodes`), except forum posts that every member sees (a forum
    may hold hundreds; they are joined from the forum's space, their join rule allows it)."""
    targets = []
    for node in visible_nodes(guild, nodes, member):
        if node.kind is PortalKind.POST_ROOM:
            channel = guild.channel(node.discord_id)
            if channel is None or everyone_can_view(guild, channel):
                continue
        targets.append(node)
    return targets


def needs_invite(membership: str | None, *, new_to_them: bool) -> bool:
    """Whether to invite an account with ``membership`` (``m.room.member``'s, None: never
    in the room) to a room it sees; ``new_to_them``: just linked, or newly visible."""
    if membership is None:
        return True
    return new_to_them and membership not in _NO_INVITE


def newly_visible(
    room_ids: Iterable[str], previous: set[str] | None, *, just_linked: bool
) -> set[str]:
    """The rooms new to the account: all of them just after the link; those not among the
    previous sync's targets otherwise; none when there was no previous sync to compare with
    (the first since start: a leaver is not invited again because the bridge restarted)."""
    current = set(room_ids)
    if just_linked:
        return current
    if previous is None:
        return set()
    return current - previous


def without_user(levels: Mapping[str, Any] | None, mxid: str) -> dict[str, Any] | None:
    """``m.room.power_levels`` content without ``mxid``'s entry (so it has ``users_default``
    again); None when it has no entry, and nothing needs sending."""
    users = (levels or {}).get("users") or {}
    if levels is None or mxid not in users:
        return None
    return {**levels, "users": {user: level for user, level in users.items() if user != mxid}}
