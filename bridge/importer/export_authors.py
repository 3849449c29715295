"""DCE export authors and users → the live relay's user and member snapshots.

A custom avatar is kept (as URL or, with ``--media``, local path); Discord's default
pictures are dropped, as the live side gives no avatar then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..convert.d2m.puppet import user_ghost_id, webhook_ghost_id
from ..convert.model import MemberSnapshot, UserSnapshot
from .export_values import MediaFiles, flag, objects, opt_text, snowflake, text

_AVATAR_HASH = re.compile(r"^(?:a_)?[0-9a-f]{32}$")
# DCE's downloaded file names: "<name, at most 42 chars>-<5 hex of the URL's hash><.ext>".
_MEDIA_NAME_HASH = re.compile(r"-[0-9a-f]{5}$")


def _avatar(url: str | None, media: MediaFiles) -> tuple[str, str, bool] | None:
    """(url or local path, hash, is a guild avatar) of a custom avatar; None for Discord's
    default pictures, as the live side gives no avatar then."""
    if not url:
        return None
    if media.is_local(url):
        path = media.local(url)
        if path is None:
            return None
        stem = _MEDIA_NAME_HASH.sub("", path.stem)
        return (str(path), stem, False) if _AVATAR_HASH.match(stem) else None
    parts = urlsplit(url).path.strip("/").split("/")
    avatar_hash = parts[-1].rsplit(".", 1)[0] if parts else ""
    if not _AVATAR_HASH.match(avatar_hash) or len(parts) < 3 or parts[-3] == "embed":
        return None
    return url, avatar_hash, parts[0] == "guilds"


def user_snapshot(raw: Mapping[str, Any], where: str, media: MediaFiles) -> UserSnapshot:
    return _user(raw, where, _avatar(opt_text(raw, "avatarUrl", where), media))


def _user(raw: Mapping[str, Any], where: str, avatar: tuple[str, str, bool] | None) -> UserSnapshot:
    user_avatar = avatar if avatar is not None and not avatar[2] else None
    return UserSnapshot(
        id=snowflake(raw, "id", where),
        username=text(raw, "name", where),
        avatar_url=user_avatar[0] if user_avatar else None,
        avatar_hash=user_avatar[1] if user_avatar else None,
        is_bot=flag(raw, "isBot", where),
    )


def _is_webhook(raw: Mapping[str, Any]) -> bool:
    """Webhook authors are bots with discriminator 0000 (real bots keep a discriminator;
    people on the new usernames have "0000" too, but are no bots)."""
    return raw.get("isBot") is True and raw.get("discriminator") == "0000"


def export_author(
    raw: Mapping[str, Any], where: str, media: MediaFiles
) -> tuple[str, UserSnapshot, MemberSnapshot | None, int | None]:
    """(ghost id, user, member, webhook id), as ``author_snapshot`` makes them live.

    DCE's ``nickname`` is the guild nick, else the global name, else the username: it
    becomes the member's nick when it differs from the username (the name shown in the
    guild's rooms either way). Roles become the member's role ids.
    """
    avatar = _avatar(opt_text(raw, "avatarUrl", where), media)
    user = _user(raw, where, avatar)
    if _is_webhook(raw):
        return webhook_ghost_id(user.id, user.username), user, None, user.id
    guild_avatar = avatar if avatar is not None and avatar[2] else None
    nickname = opt_text(raw, "nickname", where)
    member = MemberSnapshot(
        user_id=user.id,
        role_ids=tuple(
            snowflake(role, "id", f"{where}.roles[{i}]")
            for i, role in enumerate(objects(raw, "roles", where))
        ),
        nick=nickname if nickname and nickname != user.username else None,
        guild_avatar_url=guild_avatar[0] if guild_avatar else None,
        guild_avatar_hash=guild_avatar[1] if guild_avatar else None,
    )
    return user_ghost_id(user.id), user, member, None
