"""What the cut-over needs the Discord bot to be allowed, channel by channel (pure).

Permissions come from discord.py's ``permissions_for`` over its cache of roles and overwrites,
which follows Discord's algorithm ("Permission Overwrites" in the permissions topic). Editing an
overwrite needs Manage Roles ("Manage Permissions" in a channel's settings), and only bits the
bot has itself may be allowed or denied; the read-only cut-over also asks for Manage Channels
(issue #18), though Discord's API checks only Manage Roles. Posting and pinning the
announcement need Send Messages and Pin Messages (its own permission since January 2026).
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import discord

from ..convert.d2m.permissions import Permission
from .cutover_text import Problem

#: Denied to @everyone by the read-only cut-over (in forums Send Messages is "Create Posts").
READ_ONLY_DENY = int(
    Permission.SEND_MESSAGES
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.CREATE_PRIVATE_THREADS
)
# discord.py's Permissions attribute → Discord's name for it in a channel's settings.
VIEW = (("view_channel", "View Channel"),)
TO_ANNOUNCE = (("send_messages", "Send Messages"), ("pin_messages", "Pin Messages"))
TO_UNPIN = (("pin_messages", "Pin Messages"),)
TO_OVERWRITE = (
    ("manage_roles", "Manage Permissions (Manage Roles)"),
    ("manage_channels", "Manage Channels"),
)

WHERE_DENIABLE = "(server-wide or in the channel's category: a bot may deny only what it has)"


def missing(
    channel: discord.abc.GuildChannel, me: discord.Member, needed: tuple[tuple[str, str], ...]
) -> tuple[str, ...]:
    """The permissions in ``needed`` the bot lacks in the channel (discord.py computes them
    from the cached roles and overwrites, as Discord does)."""
    have = channel.permissions_for(me)
    return tuple(name for attribute, name in VIEW + needed if not getattr(have, attribute))


def deniable(channel: discord.abc.GuildChannel, me: discord.Member) -> int:
    """The bits of :data:`READ_ONLY_DENY` the bot may deny in the channel: Discord lets a bot
    allow or deny only permissions it has in the guild, or in the channel's category if it is
    in one (Edit Channel Permissions; discord-api-docs#3450)."""
    category = channel.category
    have = category.permissions_for(me) if category else me.guild_permissions
    return READ_ONLY_DENY & have.value


def problems(
    me: discord.Member,
    channels: Sequence[discord.abc.GuildChannel],
    *,
    announce: AbstractSet[int] = frozenset(),
    unpin: AbstractSet[int] = frozenset(),
    overwrite: AbstractSet[int] = frozenset(),
) -> list[Problem]:
    """Where the bot lacks a permission it needs: to post and pin in ``announce``, to pin or
    unpin in ``unpin``, to change @everyone's overwrite in ``overwrite``."""
    found = []
    for channel in channels:
        needed: tuple[tuple[str, str], ...] = ()
        if channel.id in announce:
            needed += TO_ANNOUNCE
        elif channel.id in unpin:
            needed += TO_UNPIN
        if channel.id in overwrite:
            needed += TO_OVERWRITE
        lacking = missing(channel, me, needed)
        if channel.id in overwrite and not deniable(channel, me) & Permission.SEND_MESSAGES:
            lacking += (f"Send Messages {WHERE_DENIABLE}",)
        if lacking:
            found.append(Problem(channel.id, channel.name, lacking))
    return found
