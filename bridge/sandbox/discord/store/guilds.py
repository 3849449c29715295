"""Users, bot applications, guilds, members and roles."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from .. import errors, payloads
from .. import permissions as perms
from ..events import PRIVILEGED_INTENTS, Intents
from .base import utcnow
from .expressions import ExpressionsMixin
from .models import Application, Guild, Member, Role, User

_UNSET: Any = object()
_GUILD_CONTAINERS = ("id", "roles", "members", "emojis", "stickers", "bans")


class GuildsMixin(ExpressionsMixin):
    # ---- users and bots ------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        avatar: bytes | None = None,
        bot: bool = False,
        user_id: int | None = None,
    ) -> User:
        """A Discord account. ``avatar`` (image bytes) is kept and served by the CDN."""
        uid = user_id or self.ids.next()
        avatar_hash = self.put_blob(avatar, animated=avatar[:4] == b"GIF8") if avatar else None
        user = User(uid, username, global_name=global_name, avatar=avatar_hash, bot=bot)
        self.users[uid] = user
        return user

    def create_bot(
        self,
        username: str = "Bridge Bot",
        *,
        owner_id: int | None = None,
        privileged_intents: Intents = PRIVILEGED_INTENTS,
        token: str | None = None,
        avatar: bytes | None = None,
    ) -> tuple[User, Application, str]:
        """A bot account with its application and token.

        ``privileged_intents`` are the privileged intents enabled for the application; the
        gateway refuses (4014) an IDENTIFY asking for others.
        """
        if owner_id is None:
            owner_id = self.create_user(f"{username} owner").id
        bot = self.create_user(username, avatar=avatar, bot=True)
        app_id = bot.id  # Discord gives newer bots their application's id
        token = (
            token
            or f"{secrets.token_urlsafe(18)}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"
        )
        app = Application(
            app_id,
            username,
            bot_id=bot.id,
            owner_id=owner_id,
            token=token,
            verify_key=secrets.token_hex(32),
            privileged_intents=privileged_intents,
        )
        self.applications[app_id] = app
        self.tokens[token] = app_id
        return bot, app, token

    def update_user(
        self,
        user_id: int,
        *,
        username: str = _UNSET,
        global_name: str | None = _UNSET,
        avatar: bytes | None = _UNSET,
    ) -> User:
        """Change a user; emits GUILD_MEMBER_UPDATE in each guild they are in."""
        user = self.get_user(user_id)
        if username is not _UNSET:
            user.username = username
        if global_name is not _UNSET:
            user.global_name = global_name
        if avatar is not _UNSET:
            user.avatar = self.put_blob(avatar, animated=avatar[:4] == b"GIF8") if avatar else None
        for guild_id in self.user_guild_ids(user.id):
            self._emit_member_update(self.guilds[guild_id].members[user.id])
        return user

    # ---- guilds --------------------------------------------------------------------------

    def create_guild(
        self,
        name: str,
        owner_id: int,
        *,
        icon: bytes | None = None,
        guild_id: int | None = None,
        everyone_permissions: int = perms.DEFAULT_EVERYONE,
        system_channel: bool = True,
    ) -> Guild:
        """A guild with its @everyone role, the owner as member and a ``general`` channel.

        Emits nothing: no bot is in it yet (adding a bot emits GUILD_MEMBER_ADD, on which the
        gateway sends that bot GUILD_CREATE).
        """
        gid = guild_id or self.ids.next()
        guild = Guild(gid, name, owner_id, icon=self.put_blob(icon) if icon else None)
        guild.roles[gid] = Role(gid, gid, "@everyone", permissions=everyone_permissions)
        self.guilds[gid] = guild
        guild.members[owner_id] = Member(owner_id, gid, joined_at=utcnow())
        if system_channel:
            general = self.create_channel(gid, "general", emit=False)
            guild.system_channel_id = general.id
        return guild

    def update_guild(self, guild_id: int, **fields: Any) -> Guild:
        """Set guild fields (``name``, ``description``, ``icon`` as bytes or None, ``system_channel_id``…)."""
        guild = self.get_guild(guild_id)
        for key, value in fields.items():
            if key in ("icon", "banner", "splash"):
                value = self.put_blob(value) if isinstance(value, bytes) else value
            if not hasattr(guild, key) or key in _GUILD_CONTAINERS:
                raise errors.field_error(key, "UNKNOWN_FIELD", f"Unknown field {key}")
            setattr(guild, key, value)
        self.emit("GUILD_UPDATE", payloads.guild(self, guild), guild.id, Intents.GUILDS)
        return guild

    # ---- members -------------------------------------------------------------------------

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        nick: str | None = None,
        roles: list[int] | None = None,
        joined_at: datetime | None = None,
        avatar: bytes | None = None,
        bot_permissions: int = perms.ADMINISTRATOR,
        join_message: bool = True,
    ) -> Member:
        """Add a user to a guild; emits GUILD_MEMBER_ADD (and a type 7 join message in the
        system channel, like Discord, if ``join_message``).

        A bot also gets its managed role with ``bot_permissions``, as when invited by OAuth2.
        A banned user is refused (403 / 40007) until unbanned.
        """
        guild = self.get_guild(guild_id)
        user = self.get_user(user_id)
        if user.id in guild.members:
            return guild.members[user.id]
        if user.id in guild.bans:
            raise errors.DiscordError(403, 40007, "The user is banned from this guild.")
        member = Member(
            user.id,
            guild.id,
            joined_at=joined_at or utcnow(),
            nick=nick,
            roles=list(roles or []),
            avatar=self.put_blob(avatar) if avatar else None,
        )
        guild.members[user.id] = member
        if user.bot:
            role = self.create_role(
                guild.id,
                user.username,
                permissions=bot_permissions,
                managed=True,
                tags={"bot_id": str(user.id)},
                emit=False,
            )
            member.roles.append(role.id)
        data = payloads.member(self, member)
        data["guild_id"] = str(guild.id)
        self.emit("GUILD_MEMBER_ADD", data, guild.id, Intents.GUILD_MEMBERS)
        if join_message and guild.system_channel_id and not user.bot:
            self.create_message(guild.system_channel_id, user.id, "", type=7)
        return member

    def seed_members(
        self,
        guild_id: int,
        members: Iterable[tuple[str, Sequence[int]]],
        *,
        joined_at: datetime | None = None,
    ) -> list[int]:
        """Many new users as members at once, for benchmarks and large fixtures: ``members``
        is ``(username, role ids)`` pairs; returns the new users' ids, in order.

        Emits nothing and posts no join message, as if they had joined before any bot
        connected (50 000 members take about a second, where ``add_member`` builds and emits
        a GUILD_MEMBER_ADD each). Bots and unknown roles are refused.
        """
        guild = self.get_guild(guild_id)
        when = joined_at or utcnow()
        ids = []
        for username, roles in members:
            if any(int(r) not in guild.roles for r in roles):
                raise errors.not_found(errors.UNKNOWN_ROLE)
            uid = self.ids.next()
            self.users[uid] = User(uid, username)
            guild.members[uid] = Member(
                uid, guild.id, joined_at=when, roles=[int(r) for r in roles]
            )
            ids.append(uid)
        return ids

    def update_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        nick: str | None = _UNSET,
        roles: list[int] = _UNSET,
        avatar: bytes | None = _UNSET,
        communication_disabled_until: datetime | None = _UNSET,
        mute: bool = _UNSET,
        deaf: bool = _UNSET,
    ) -> Member:
        """Change a member; emits GUILD_MEMBER_UPDATE."""
        member = self.get_member(guild_id, user_id)
        guild = self.guilds[member.guild_id]
        if nick is not _UNSET:
            member.nick = nick or None
        if roles is not _UNSET:
            for role_id in roles:
                if int(role_id) not in guild.roles:
                    raise errors.not_found(errors.UNKNOWN_ROLE)
            member.roles = [int(r) for r in roles if int(r) != guild.id]
        if avatar is not _UNSET:
            member.avatar = self.put_blob(avatar) if avatar else None
        if communication_disabled_until is not _UNSET:
            member.communication_disabled_until = communication_disabled_until
        if mute is not _UNSET:
            member.mute = mute
        if deaf is not _UNSET:
            member.deaf = deaf
        self._emit_member_update(member)
        return member

    def _emit_member_update(self, member: Member) -> None:
        data = payloads.member(self, member)
        data["guild_id"] = str(member.guild_id)
        self.emit("GUILD_MEMBER_UPDATE", data, member.guild_id, Intents.GUILD_MEMBERS)

    def remove_member(self, guild_id: int, user_id: int) -> None:
        """Remove a member (leave/kick); emits GUILD_MEMBER_REMOVE."""
        member = self.get_member(guild_id, user_id)
        del self.guilds[member.guild_id].members[member.user_id]
        data = {"guild_id": str(guild_id), "user": payloads.user(self, self.users[member.user_id])}
        self.emit("GUILD_MEMBER_REMOVE", data, int(guild_id), Intents.GUILD_MEMBERS)

    def list_members(self, guild_id: int, *, after: int = 0, limit: int = 1) -> list[Member]:
        """Members ordered by user id, after ``after`` (as ``GET /guilds/{id}/members``)."""
        members = sorted(self.get_guild(guild_id).members.values(), key=lambda m: m.user_id)
        return [m for m in members if m.user_id > after][:limit]

    def query_members(
        self,
        guild_id: int,
        *,
        query: str = "",
        limit: int = 0,
        user_ids: list[int] | None = None,
    ) -> list[Member]:
        """Members for gateway op 8 and member search: by ids, or whose username or nick starts
        with ``query`` (case-insensitive; empty query: everyone). ``limit`` 0: no limit."""
        guild = self.get_guild(guild_id)
        if user_ids is not None:
            found = [guild.members[int(u)] for u in user_ids if int(u) in guild.members]
        else:
            q = query.casefold()
            found = []
            for m in sorted(guild.members.values(), key=lambda m: m.user_id):
                u = self.users[m.user_id]
                names = (u.username, u.global_name or "", m.nick or "")
                if any(n.casefold().startswith(q) for n in names):
                    found.append(m)
        return found[:limit] if limit else found

    # ---- roles ---------------------------------------------------------------------------

    def create_role(
        self,
        guild_id: int,
        name: str = "new role",
        *,
        permissions: int = 0,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
        managed: bool = False,
        tags: dict[str, Any] | None = None,
        emit: bool = True,
    ) -> Role:
        """A role just above @everyone's other roles; emits GUILD_ROLE_CREATE."""
        guild = self.get_guild(guild_id)
        position = max((r.position for r in guild.roles.values()), default=0) + 1
        role = Role(
            self.ids.next(),
            guild.id,
            name,
            permissions=permissions,
            position=position,
            color=color,
            hoist=hoist,
            mentionable=mentionable,
            managed=managed,
            tags=tags,
        )
        guild.roles[role.id] = role
        if emit:
            self._emit_role("GUILD_ROLE_CREATE", role)
        return role

    def update_role(self, guild_id: int, role_id: int, **fields: Any) -> Role:
        """Set role fields (name, permissions, color, hoist, mentionable, position…)."""
        role = self.get_guild(guild_id).roles.get(int(role_id))
        if role is None:
            raise errors.not_found(errors.UNKNOWN_ROLE)
        for key, value in fields.items():
            if key in ("id", "guild_id") or not hasattr(role, key):
                raise errors.field_error(key, "UNKNOWN_FIELD", f"Unknown field {key}")
            setattr(role, key, value)
        self._emit_role("GUILD_ROLE_UPDATE", role)
        return role

    def delete_role(self, guild_id: int, role_id: int) -> None:
        guild = self.get_guild(guild_id)
        if int(role_id) not in guild.roles or int(role_id) == guild.id:
            raise errors.not_found(errors.UNKNOWN_ROLE)
        del guild.roles[int(role_id)]
        for member in guild.members.values():
            if int(role_id) in member.roles:
                member.roles.remove(int(role_id))
        data = {"guild_id": str(guild.id), "role_id": str(role_id)}
        self.emit("GUILD_ROLE_DELETE", data, guild.id, Intents.GUILDS)

    def _emit_role(self, name: str, role: Role) -> None:
        data = {"guild_id": str(role.guild_id), "role": payloads.role(self, role)}
        self.emit(name, data, role.guild_id, Intents.GUILDS)
