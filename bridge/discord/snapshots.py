"""Snapshots of discord.py's guild objects: copies of the fields converters use, nothing more."""

from __future__ import annotations

from collections.abc import Iterable

import discord

from ..convert.model import (
    ChannelSnapshot,
    GuildSnapshot,
    OverwriteSnapshot,
    RoleSnapshot,
)
from .user_snapshots import member_snapshot

# Permissions that can give a member power in Matrix (administrator, manage guild, manage
# messages, kick, ban): only members who may have them are put in a guild snapshot.
ELEVATED = discord.Permissions(
    administrator=True,
    manage_guild=True,
    manage_messages=True,
    kick_members=True,
    ban_members=True,
).value


def role_snapshot(role: discord.Role) -> RoleSnapshot:
    return RoleSnapshot(
        id=role.id,
        name=role.name,
        permissions=role.permissions.value,
        position=role.position,
        color=role.color.value,
        managed=role.managed,
    )


def _overwrites(
    channel: discord.abc.GuildChannel | discord.Thread,
) -> tuple[OverwriteSnapshot, ...]:
    if isinstance(channel, discord.Thread):
        return ()  # threads follow their parent's overwrites
    result = []
    for target, overwrite in channel.overwrites.items():
        allow, deny = overwrite.pair()
        # An unresolved target is a discord.Object that remembers whether it was a role.
        is_role = isinstance(target, discord.Role) or getattr(target, "type", None) is discord.Role
        result.append(OverwriteSnapshot(target.id, allow.value, deny.value, is_member=not is_role))
    return tuple(sorted(result, key=lambda o: (o.is_member, o.id)))


def channel_snapshot(channel: discord.abc.GuildChannel | discord.Thread) -> ChannelSnapshot:
    if isinstance(channel, discord.Thread):
        parent_id: int | None = channel.parent_id
        position = 0
    else:
        parent_id = channel.category_id
        position = channel.position
    return ChannelSnapshot(
        id=channel.id,
        guild_id=channel.guild.id,
        type=channel.type.value,
        name=channel.name,
        position=position,
        parent_id=parent_id,
        topic=getattr(channel, "topic", None) or None,
        nsfw=bool(getattr(channel, "nsfw", False)),
        overwrites=_overwrites(channel),
    )


def _members_with_possible_power(guild: discord.Guild) -> Iterable[discord.Member]:
    """The owner, members of roles that may carry power, and members with own overwrites."""
    powerful_roles = {role.id for role in guild.roles if role.permissions.value & ELEVATED}
    for channel in guild.channels:
        for target, overwrite in channel.overwrites.items():
            if isinstance(target, discord.Role) and overwrite.pair()[0].value & ELEVATED:
                powerful_roles.add(target.id)
    overwritten_members = {
        target.id
        for channel in guild.channels
        for target in channel.overwrites
        if not isinstance(target, discord.Role)
    }
    for member in guild.members:
        if (
            member.id == guild.owner_id
            or member.id in overwritten_members
            or any(role.id in powerful_roles for role in member.roles)
        ):
            yield member


def guild_snapshot(
    guild: discord.Guild, extra_threads: Iterable[discord.Thread] = ()
) -> GuildSnapshot:
    """The guild with its roles, channels, cached threads plus ``extra_threads`` (archived
    forum posts fetched over REST), and the members who may have power in Matrix."""
    threads = {thread.id: thread for thread in [*guild.threads, *extra_threads]}
    channels = [channel_snapshot(c) for c in guild.channels]
    channels += [channel_snapshot(t) for t in threads.values()]
    bot_id = guild.me.id if guild.me else None
    return GuildSnapshot(
        id=guild.id,
        name=guild.name,
        owner_id=guild.owner_id or 0,
        description=guild.description,
        icon_url=guild.icon.url if guild.icon else None,
        icon_hash=guild.icon.key if guild.icon else None,
        roles=tuple(sorted((role_snapshot(r) for r in guild.roles), key=lambda r: r.id)),
        channels=tuple(sorted(channels, key=lambda c: c.id)),
        members=tuple(
            member_snapshot(m) for m in _members_with_possible_power(guild) if m.id != bot_id
        ),
    )
