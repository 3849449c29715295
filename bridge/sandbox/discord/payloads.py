"""Serialisers from store records to Discord's JSON shapes (as the OpenAPI description has them).

Every function takes the store (for lookups and URLs) and a record, and returns a fresh dict.
Message payloads are in ``payloads_messages``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from .events import Intents
from .snowflake import snowflake_time
from .store.models import (
    Application,
    Channel,
    Emoji,
    Guild,
    Member,
    Role,
    Sticker,
    ThreadMember,
    User,
    Webhook,
)

if TYPE_CHECKING:
    from .store.base import StoreBase as Store


def iso(when: datetime | None) -> str | None:
    """Discord's timestamp format, e.g. ``2024-05-01T12:00:00.000000+00:00``."""
    return when.isoformat(timespec="microseconds") if when is not None else None


def sid(value: int | None) -> str | None:
    return str(value) if value is not None else None


def user(store: Store, u: User) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(u.id),
        "username": u.username,
        "global_name": u.global_name,
        "discriminator": u.discriminator,
        "avatar": u.avatar,
        "banner": u.banner,
        "accent_color": None,
        "avatar_decoration_data": None,
        "collectibles": None,
        "primary_guild": None,
        "public_flags": u.public_flags,
        "flags": u.public_flags,
    }
    if u.bot:
        data["bot"] = True
    if u.system:
        data["system"] = True
    return data


def user_pii(store: Store, u: User) -> dict[str, Any]:
    """``GET /users/@me``: the user with the private fields a bot sees about itself."""
    data = user(store, u)
    data.update(mfa_enabled=False, locale="en-US", verified=True, email=None, premium_type=0)
    return data


def role(store: Store, r: Role) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(r.id),
        "name": r.name,
        "description": None,
        "permissions": str(r.permissions),
        "position": r.position,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": r.hoist,
        "managed": r.managed,
        "mentionable": r.mentionable,
        "icon": r.icon,
        "unicode_emoji": r.unicode_emoji,
        "flags": r.flags,
    }
    if r.tags is not None:
        data["tags"] = dict(r.tags)
    return data


def member(store: Store, m: Member, *, with_user: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "avatar": m.avatar,
        "avatar_decoration_data": None,
        "banner": m.banner,
        "collectibles": None,
        "communication_disabled_until": iso(m.communication_disabled_until),
        "flags": m.flags,
        "joined_at": iso(m.joined_at),
        "nick": m.nick,
        "pending": m.pending,
        "premium_since": iso(m.premium_since),
        "roles": [str(r) for r in m.roles],
        "mute": m.mute,
        "deaf": m.deaf,
    }
    if with_user:
        data["user"] = user(store, store.users[m.user_id])
    return data


def emoji(store: Store, e: Emoji, *, with_user: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(e.id),
        "name": e.name,
        "roles": [str(r) for r in e.roles],
        "require_colons": e.require_colons,
        "managed": e.managed,
        "animated": e.animated,
        "available": e.available,
    }
    if with_user and e.user_id in store.users:
        data["user"] = user(store, store.users[e.user_id])
    return data


def sticker(store: Store, s: Sticker, *, with_user: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(s.id),
        "name": s.name,
        "tags": s.tags,
        "type": 2,  # GUILD
        "format_type": s.format_type,
        "description": s.description,
        "available": s.available,
        "guild_id": str(s.guild_id),
    }
    if with_user and s.user_id in store.users:
        data["user"] = user(store, store.users[s.user_id])
    return data


def guild(store: Store, g: Guild, *, with_counts: bool = False) -> dict[str, Any]:
    """The guild object of ``GET /guilds/{id}`` and GUILD_UPDATE (no channels or members)."""
    roles = sorted(g.roles.values(), key=lambda r: (r.position, r.id))
    data: dict[str, Any] = {
        "id": str(g.id),
        "name": g.name,
        "icon": g.icon,
        "description": g.description,
        "home_header": None,
        "splash": g.splash,
        "discovery_splash": None,
        "features": list(g.features),
        "banner": g.banner,
        "owner_id": str(g.owner_id),
        "application_id": None,
        "region": "deprecated",
        "afk_channel_id": sid(g.afk_channel_id),
        "afk_timeout": g.afk_timeout,
        "system_channel_id": sid(g.system_channel_id),
        "system_channel_flags": 0,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": g.verification_level,
        "roles": [role(store, r) for r in roles],
        "default_message_notifications": g.default_message_notifications,
        "mfa_level": 0,
        "explicit_content_filter": g.explicit_content_filter,
        "max_presences": None,
        "max_members": 500000,
        "max_stage_video_channel_users": 50,
        "max_video_channel_users": 25,
        "vanity_url_code": None,
        "premium_tier": g.premium_tier,
        "premium_subscription_count": 0,
        "preferred_locale": g.preferred_locale,
        "rules_channel_id": sid(g.rules_channel_id),
        "safety_alerts_channel_id": None,
        "public_updates_channel_id": None,
        "premium_progress_bar_enabled": False,
        "nsfw": False,
        "nsfw_level": g.nsfw_level,
        "emojis": [emoji(store, e) for e in g.emojis.values()],
        "stickers": [sticker(store, s) for s in g.stickers.values()],
        "incidents_data": None,
    }
    if with_counts:
        data["approximate_member_count"] = len(g.members)
        data["approximate_presence_count"] = 0
    return data


def thread_member(store: Store, channel: Channel, tm: ThreadMember) -> dict[str, Any]:
    return {
        "id": str(channel.id),
        "user_id": str(tm.user_id),
        "join_timestamp": iso(tm.join_timestamp),
        "flags": tm.flags,
    }


def thread_list(
    store: Store, threads: list[Channel], bot_id: int, *, has_more: bool = False
) -> dict[str, Any]:
    """A list of threads as the thread-list routes answer: with the bot's own thread members."""
    return {
        "threads": [channel(store, t) for t in threads],
        "members": [
            thread_member(store, t, t.thread_members[bot_id])
            for t in threads
            if bot_id in t.thread_members
        ],
        "has_more": has_more,
    }


def channel(store: Store, c: Channel, *, for_user: int | None = None) -> dict[str, Any]:
    """A guild channel or thread. ``for_user``: add the thread's ``member`` for that user."""
    data: dict[str, Any] = {
        "id": str(c.id),
        "type": c.type,
        "guild_id": str(c.guild_id),
        "name": c.name,
        "parent_id": sid(c.parent_id),
        "flags": c.flags,
        "last_message_id": sid(c.last_message_id),
        "rate_limit_per_user": c.rate_limit_per_user,
    }
    if c.last_pin_timestamp is not None:
        data["last_pin_timestamp"] = iso(c.last_pin_timestamp)
    if c.thread is not None:
        meta = c.thread
        data["owner_id"] = str(c.owner_id)
        data["thread_metadata"] = {
            "archived": meta.archived,
            "archive_timestamp": iso(meta.archive_timestamp or snowflake_time(c.id)),
            "auto_archive_duration": meta.auto_archive_duration,
            "locked": meta.locked,
            "create_timestamp": iso(meta.create_timestamp or snowflake_time(c.id)),
        }
        if c.type == 12:
            data["thread_metadata"]["invitable"] = meta.invitable
        data["message_count"] = c.message_count
        data["member_count"] = min(len(c.thread_members), 50)
        data["total_message_sent"] = c.total_message_sent
        data["applied_tags"] = [str(t) for t in c.applied_tags]
        if for_user is not None and for_user in c.thread_members:
            data["member"] = thread_member(store, c, c.thread_members[for_user])
        return data
    data["position"] = c.position
    data["permission_overwrites"] = [dict(o) for o in c.permission_overwrites]
    data["nsfw"] = c.nsfw
    if c.type in (2, 13):
        data.update(bitrate=c.bitrate, user_limit=c.user_limit, rtc_region=None)
    if c.type in (0, 5, 15, 16):
        data["topic"] = c.topic
        if c.default_auto_archive_duration is not None:
            data["default_auto_archive_duration"] = c.default_auto_archive_duration
    if c.type in (15, 16):
        data["available_tags"] = [dict(t) for t in c.available_tags]
        data["default_reaction_emoji"] = None
        data["default_sort_order"] = None
        data["default_forum_layout"] = 0
        data["default_thread_rate_limit_per_user"] = 0
    return data


def webhook(store: Store, w: Webhook, *, with_token: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "application_id": sid(w.application_id),
        "avatar": w.avatar,
        "channel_id": str(w.channel_id),
        "guild_id": str(w.guild_id),
        "id": str(w.id),
        "name": w.name,
        "type": w.type,
    }
    if w.user_id is not None and w.user_id in store.users:
        data["user"] = user(store, store.users[w.user_id])
    if with_token:
        data["token"] = w.token
        data["url"] = f"{store.api_url}/webhooks/{w.id}/{w.token}"
    return data


def application(store: Store, app: Application) -> dict[str, Any]:
    """``GET /oauth2/applications/@me`` (PrivateApplicationResponse); ``flags`` carry the
    GATEWAY_* bits of the privileged intents the application may use."""
    flags = app.flags
    for intent, bit in (
        (Intents.GUILD_PRESENCES, 1 << 12),
        (Intents.GUILD_MEMBERS, 1 << 14),
        (Intents.MESSAGE_CONTENT, 1 << 18),
    ):
        if app.privileged_intents & intent:
            flags |= bit
    return {
        "id": str(app.id),
        "name": app.name,
        "icon": app.icon,
        "description": app.description,
        "type": None,
        "bot": user(store, store.users[app.bot_id]),
        "bot_public": app.bot_public,
        "bot_require_code_grant": False,
        "verify_key": app.verify_key,
        "flags": flags,
        "flags_new": str(flags),
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "owner": user(store, store.users[app.owner_id]),
        "approximate_guild_count": len(store.user_guild_ids(app.bot_id)),
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "team": None,
        "eligible_oauth2_scopes": [],
        "rpc_origins": [],
        "tags": [],
    }
