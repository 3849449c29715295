"""Second chances for gateway dispatches that discord.py could not parse.

When discord.py's parser raises on a dispatch's data (see :mod:`.dispatch_guard`), the guard
asks :func:`repairs_for` for repaired copies of the data, mildest first, and parses each until
one goes through. A repair keeps what is sound and fixes or drops only what is malformed:
a message whose ``attachments`` is a string still relays its text; role objects where Discord
sends role ids (seen from Spacebar, an independent Discord-compatible server) become ids; a
channel without ``position`` gets 0. What cannot be repaired (a message without ``id``,
``author`` or ``channel_id``, a reaction without ``emoji``) gets no repair and is skipped.

Some malformed data discord.py reads without a word (a message without ``author``: its
``Message`` has no ``author`` attribute, and the bridge's handlers fail on it later, once per
message). :func:`unusable` recognises those before parsing, so the guard skips them as it
skips what discord.py rejects.

Repairs never invent an identity: ids, authors, channels and member roles are used as sent or
not at all (a member update whose roles are unreadable is skipped, never read as "no roles").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from discord.utils import parse_time, snowflake_time

#: Finds the guild of a channel (the bridge's discord.py cache), for a bad ``guild_id``.
GuildOf = Callable[[int], int | None]

#: A message's fields that are lists of objects, dropped (or filtered) when malformed.
MESSAGE_OBJECT_LISTS = (
    "attachments",
    "embeds",
    "mentions",
    "reactions",
    "sticker_items",
    "stickers",
    "components",
)
#: A message's fields that are lists of ids.
MESSAGE_ID_LISTS = ("mention_roles",)
#: A message's optional object fields, dropped when they are not objects.
MESSAGE_OBJECTS = (
    "member",
    "thread",
    "referenced_message",
    "message_reference",
    "interaction",
    "interaction_metadata",
    "application",
    "activity",
    "poll",
    "call",
    "role_subscription_data",
    "resolved",
    "message_snapshots",
)
#: What a message keeps at the last resort: the fields the bridge needs to relay its text.
MESSAGE_CORE = (
    "id",
    "channel_id",
    "guild_id",
    "author",
    "content",
    "timestamp",
    "edited_timestamp",
    "type",
    "tts",
    "mention_everyone",
    "pinned",
    "flags",
    "webhook_id",
    "nonce",
)


def is_snowflake(value: Any) -> bool:
    """Whether ``value`` reads as a Discord id (a non-negative integer, or its decimal text)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, str) and value.isdigit()


def is_time(value: Any) -> bool:
    """Whether ``value`` is an ISO 8601 time discord.py can read (``None`` counts: no time)."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        parse_time(value)
    except (ValueError, TypeError):
        return False
    return True


def role_ids(roles: Any) -> list[Any] | None:
    """Role ids from ``roles``: ids as they are, role objects as their ``id``; ``None`` if
    any entry is neither (the roles cannot be read)."""
    if not isinstance(roles, list):
        return None
    ids: list[Any] = []
    for role in roles:
        if isinstance(role, dict) and is_snowflake(role.get("id")):
            ids.append(role["id"])
        elif is_snowflake(role):
            ids.append(role)
        else:
            return None
    return ids


def repaired_member(member: Any) -> dict[str, Any] | None:
    """A member object with role objects turned into ids; ``None`` if it cannot be read."""
    if not isinstance(member, dict):
        return None
    roles = role_ids(member.get("roles", []))
    if roles is None:
        return None
    fixed = {**member, "roles": roles}
    for key in ("joined_at", "premium_since", "communication_disabled_until"):
        if not is_time(fixed.get(key)):
            fixed.pop(key, None)
    return fixed


def is_user(value: Any) -> bool:
    """Whether ``value`` is a user object with a readable ``id``."""
    return isinstance(value, dict) and is_snowflake(value.get("id"))


def message_author(data: dict[str, Any]) -> Any:
    """The message's author as sent; else its ``member.user`` (sent in some payloads);
    else ``None``."""
    author = data.get("author")
    if is_user(author):
        return author
    member = data.get("member")
    if isinstance(member, dict) and is_user(member.get("user")):
        return member["user"]
    return None


def _sound_message_fields(data: dict[str, Any], guild_of: GuildOf, edit: bool) -> dict[str, Any]:
    """The message with every malformed optional field fixed or dropped."""
    fixed = dict(data)
    for key in MESSAGE_OBJECT_LISTS:
        if key not in fixed:
            continue
        value = fixed[key]
        if isinstance(value, list):
            fixed[key] = [item for item in value if isinstance(item, dict)]
        else:
            del fixed[key]
    for key in MESSAGE_ID_LISTS:
        if key in fixed:
            value = fixed[key]
            fixed[key] = [v for v in value if is_snowflake(v)] if isinstance(value, list) else []
    for key in MESSAGE_OBJECTS:
        if key in fixed and not isinstance(fixed[key], dict):
            del fixed[key]
    if "member" in fixed:
        member = repaired_member(fixed["member"])
        if member is None:
            del fixed["member"]
        else:
            fixed["member"] = member
    if "guild_id" in fixed and not is_snowflake(fixed["guild_id"]):
        guild_id = guild_of(int(fixed["channel_id"]))
        if guild_id is None:
            del fixed["guild_id"]
        else:
            fixed["guild_id"] = str(guild_id)
    if not is_time(fixed.get("timestamp")):  # the id holds the time the message was sent
        fixed["timestamp"] = snowflake_time(int(fixed["id"])).isoformat()
    if not is_time(fixed.get("edited_timestamp")):
        fixed["edited_timestamp"] = datetime.now(UTC).isoformat() if edit else None
    if not isinstance(fixed.get("content", ""), str):
        fixed["content"] = ""
    if "author" in fixed and isinstance(fixed["author"], dict):
        author = dict(fixed["author"])
        for key in ("global_name", "avatar", "discriminator"):
            if key in author and author[key] is not None and not isinstance(author[key], str):
                author.pop(key)
        fixed["author"] = author
    return fixed


def message_repairs(data: Any, guild_of: GuildOf, *, edit: bool = False) -> Iterator[Any]:
    """MESSAGE_CREATE / MESSAGE_UPDATE: the message with its malformed optional fields fixed
    or dropped, then only its core fields (text, author, time). Nothing without a readable
    ``id``, ``channel_id`` and ``author``: such a message cannot be relayed."""
    if not isinstance(data, dict):
        return
    author = message_author(data)
    if not (is_snowflake(data.get("id")) and is_snowflake(data.get("channel_id"))):
        return
    if author is None:
        return
    sound = _sound_message_fields({**data, "author": author}, guild_of, edit)
    yield sound
    yield {key: sound[key] for key in MESSAGE_CORE if key in sound}


def member_repairs(data: Any, guild_of: GuildOf) -> Iterator[Any]:
    """GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE: role objects as ids, unreadable times dropped.
    Nothing without a user, or with roles that cannot be read."""
    if not isinstance(data, dict) or not isinstance(data.get("user"), dict):
        return
    member = repaired_member(data)
    if member is not None:
        yield member


def channel_repairs(data: Any, guild_of: GuildOf) -> Iterator[Any]:
    """CHANNEL_CREATE / CHANNEL_UPDATE: a missing or unreadable ``position`` is 0 (Spacebar
    leaves it out); a non-list ``permission_overwrites`` is none."""
    if not isinstance(data, dict) or not is_snowflake(data.get("id")):
        return
    fixed = dict(data)
    if not isinstance(fixed.get("position"), int):
        fixed["position"] = 0
    if "permission_overwrites" in fixed and not isinstance(fixed["permission_overwrites"], list):
        fixed["permission_overwrites"] = []
    yield fixed


def pins_repairs(data: Any, guild_of: GuildOf) -> Iterator[Any]:
    """CHANNEL_PINS_UPDATE: an unreadable ``last_pin_timestamp`` is left out (the bridge
    fetches the channel's pins itself)."""
    if isinstance(data, dict) and not is_time(data.get("last_pin_timestamp")):
        yield {key: value for key, value in data.items() if key != "last_pin_timestamp"}


def guild_create_repairs(data: Any, guild_of: GuildOf) -> Iterator[Any]:
    """GUILD_CREATE: channels without ``position`` get 0, members' role objects become ids
    (both seen from Spacebar)."""
    if not isinstance(data, dict) or not is_snowflake(data.get("id")):
        return
    fixed = dict(data)
    for key in ("channels", "threads"):
        if isinstance(fixed.get(key), list):
            fixed[key] = [
                next(channel_repairs(channel, guild_of), channel)
                for channel in fixed[key]
                if isinstance(channel, dict)
            ]
    if isinstance(fixed.get("members"), list):
        members = (repaired_member(member) for member in fixed["members"])
        fixed["members"] = [member for member in members if member is not None]
    yield fixed


Repairer = Callable[[Any, GuildOf], Iterator[Any]]

REPAIRS: dict[str, Repairer] = {
    "MESSAGE_CREATE": lambda data, guild_of: message_repairs(data, guild_of),
    "MESSAGE_UPDATE": lambda data, guild_of: message_repairs(data, guild_of, edit=True),
    "GUILD_MEMBER_ADD": member_repairs,
    "GUILD_MEMBER_UPDATE": member_repairs,
    "CHANNEL_CREATE": channel_repairs,
    "CHANNEL_UPDATE": channel_repairs,
    "CHANNEL_PINS_UPDATE": pins_repairs,
    "GUILD_CREATE": guild_create_repairs,
}


def unusable_message(data: Any, *, edit: bool = False) -> str | None:
    """MESSAGE_CREATE, and MESSAGE_UPDATE of a full message (an edit, or one that names an
    author): no readable author (discord.py would build a ``Message`` without one)."""
    if not isinstance(data, dict):
        return None  # discord.py rejects it itself
    if edit and "author" not in data and not data.get("edited_timestamp"):
        return None  # a partial update (embeds resolved…): the bridge reads no author from it
    if message_author(data) is None:
        if "author" not in data:
            return "no author and no member.user"
        return "author is not a user object"
    return None


def unusable_member(data: Any) -> str | None:
    """GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE / GUILD_MEMBER_REMOVE: no readable ``user``."""
    if isinstance(data, dict) and not is_user(data.get("user")):
        return "no user object"
    return None


UNUSABLE: dict[str, Callable[[Any], str | None]] = {
    "MESSAGE_CREATE": unusable_message,
    "MESSAGE_UPDATE": lambda data: unusable_message(data, edit=True),
    "GUILD_MEMBER_ADD": unusable_member,
    "GUILD_MEMBER_UPDATE": unusable_member,
    "GUILD_MEMBER_REMOVE": unusable_member,
}


def unusable(event: str, data: Any) -> str | None:
    """Why the bridge cannot use ``data`` (a dispatch's ``d``) for ``event`` although
    discord.py would read it without an error; ``None`` if nothing is known to be wrong."""
    check = UNUSABLE.get(event)
    if check is None:
        return None
    try:
        return check(data)
    except Exception:  # noqa: BLE001 - a check must never fail the gateway
        return None


def repairs_for(event: str, data: Any, guild_of: GuildOf) -> Iterator[Any]:
    """Repaired copies of ``data`` (a dispatch's ``d``) for the gateway event ``event``,
    mildest first; none if the event has no repair or the data cannot be repaired."""
    repairer = REPAIRS.get(event)
    if repairer is None:
        return iter(())
    return repairer(data, guild_of)
