"""Snapshots of discord.py users and members, the input of the ghost converters."""

from __future__ import annotations

import discord

from ..convert.d2m.puppet import user_ghost_id, webhook_ghost_id
from ..convert.model import MemberSnapshot, UserSnapshot


def user_snapshot(user: discord.abc.User) -> UserSnapshot:
    """A Discord user (or the user behind a member) as its ghost shows it.

    Only a custom avatar is taken: a user without one gets no Matrix avatar rather than a
    copy of Discord's default picture.
    """
    avatar = user.avatar
    return UserSnapshot(
        id=user.id,
        username=user.name,
        global_name=user.global_name,
        avatar_url=avatar.url if avatar else None,
        avatar_hash=avatar.key if avatar else None,
        is_bot=user.bot,
    )


def member_snapshot(member: discord.Member) -> MemberSnapshot:
    """What a member shows in one guild: nick, guild avatar, roles (without @everyone)."""
    guild_avatar = member.guild_avatar
    return MemberSnapshot(
        user_id=member.id,
        role_ids=tuple(role.id for role in member.roles if not role.is_default()),
        nick=member.nick,
        guild_avatar_url=guild_avatar.url if guild_avatar else None,
        guild_avatar_hash=guild_avatar.key if guild_avatar else None,
    )


def author_snapshot(message: discord.Message) -> tuple[str, UserSnapshot]:
    """The ghost id and snapshot of a message's author.

    A webhook message's author is the webhook, under whatever name and avatar the poster
    chose: it becomes one ghost per webhook and name, shown as a bot.
    """
    author = message.author
    if message.webhook_id is None:
        return user_ghost_id(author.id), user_snapshot(author)
    snapshot = user_snapshot(author)
    snapshot = UserSnapshot(
        id=message.webhook_id,
        username=snapshot.username,
        global_name=snapshot.global_name,
        avatar_url=snapshot.avatar_url,
        avatar_hash=snapshot.avatar_hash,
        is_bot=True,
    )
    return webhook_ghost_id(message.webhook_id, snapshot.username), snapshot
