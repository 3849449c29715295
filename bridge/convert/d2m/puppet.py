"""What a Discord user's Matrix ghost is called and shows: ids, localparts, display names.

Pure functions of snapshots and config templates; ``bridge.puppet`` does the I/O.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..model import MemberSnapshot, UserSnapshot

#: Matrix caps display names loosely; Synapse refuses more than 256 characters.
MAX_DISPLAYNAME = 256
#: Query parameters that change between fetches of the same file: the signature of
#: attachment URLs (``ex`` expiry, ``is`` issued, ``hm`` HMAC) and the requested size.
VOLATILE_QUERY_PARAMS = frozenset({"ex", "is", "hm", "size"})
_PLACEHOLDER = re.compile(r"\{(name|username|id)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def user_ghost_id(user_id: int) -> str:
    """The ghost id of a Discord user: its snowflake in decimal."""
    return str(user_id)


def webhook_ghost_id(webhook_id: int, name: str) -> str:
    """One ghost per webhook and author name: integrations post as many "authors" through
    one webhook, and each should look like its own Matrix user."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return f"w{webhook_id}_{digest}"


def ghost_localpart(template: str, ghost_id: str) -> str:
    """The localpart of a ghost's MXID (``discord_{id}`` → ``discord_123``)."""
    return template.replace("{id}", ghost_id).lower()


def _fill(template: str, values: dict[str, str]) -> str:
    # One pass, so that a name containing "{id}" is not substituted again.
    return _PLACEHOLDER.sub(lambda match: values[match[1]], template)


def _clean(text: str | None) -> str:
    return _CONTROL.sub(" ", text or "").strip()


def _finish(text: str, suffix: str, fallback: str) -> str:
    """Strip, append the suffix, clip to the Matrix limit keeping the suffix; never empty."""
    text = text.strip() or fallback.strip()
    suffix = suffix.rstrip() if suffix.strip() else ""
    room = max(MAX_DISPLAYNAME - len(suffix), 1)
    return (text[:room].rstrip() + suffix)[:MAX_DISPLAYNAME]


def ghost_displayname(user: UserSnapshot, template: str, bot_suffix: str) -> str:
    """The ghost's global display name from ``bridge.displayname_template``.

    ``{name}`` is the global name, else the username. Bots and webhook authors (snapshots
    with ``is_bot``) get ``bot_suffix`` so that people see they are not a person.
    """
    username = _clean(user.username)
    name = _clean(user.global_name) or username or str(user.id)
    text = _fill(template, {"name": name, "username": username, "id": str(user.id)})
    return _finish(_clean(text), bot_suffix if user.is_bot else "", username or str(user.id))


def name_in_displayname(displayname: str, template: str, bot_suffix: str) -> str | None:
    """The Discord name a ghost display name was made from: :func:`ghost_displayname` and
    :func:`room_displayname` undone (``"Zoë (Discord)"`` → ``"Zoë"``, ``"Hook (Discord)
    [bot]"`` → ``"Hook"``).

    The ``{name}`` of the template, else its ``{username}``; None when the display name does
    not have the template's shape or the template names neither.
    """
    text = _clean(displayname)
    suffix = bot_suffix.rstrip() if bot_suffix.strip() else ""
    candidates = [text.removesuffix(suffix).rstrip(), text] if suffix else [text]
    for key in ("name", "username"):
        if "{" + key + "}" not in template:
            continue
        pattern = _template_pattern(template, key)
        for candidate in candidates:
            found = pattern.fullmatch(candidate)
            if found and found.group(key).strip():
                return found.group(key).strip()
    return None


def _template_pattern(template: str, wanted: str) -> re.Pattern[str]:
    """The template as a pattern: ``wanted`` captured (its first place), the rest any text."""
    template = template.strip()  # as the display name is
    pieces: list[str] = []
    captured = False
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        pieces.append(re.escape(template[position : match.start()]))
        if match[1] == wanted and not captured:
            pieces.append(f"(?P<{wanted}>.+?)")
            captured = True
        elif match[1] == wanted:
            pieces.append(f"(?P={wanted})")
        else:
            pieces.append(".*?")
        position = match.end()
    pieces.append(re.escape(template[position:]))
    return re.compile("".join(pieces), re.DOTALL)


def room_displayname(
    user: UserSnapshot, member: MemberSnapshot | None, template: str, bot_suffix: str
) -> str | None:
    """The name the ghost shows in one guild's rooms: its guild nick, through the same
    template; None when it has no nick there (the global name applies)."""
    nick = _clean(member.nick) if member else ""
    if not nick:
        return None
    username = _clean(user.username)
    text = _fill(template, {"name": nick, "username": username, "id": str(user.id)})
    return _finish(_clean(text), bot_suffix if user.is_bot else "", nick)


def media_source_key(url: str) -> str:
    """The cache key of a Discord media URL: the URL without its expiring signature and
    size, so that every fetch of one file finds the same cache entry."""
    parts = urlsplit(url)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in VOLATILE_QUERY_PARAMS
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, urlencode(query), "")
    )


def avatar_source_key(avatar_hash: str, url: str) -> str:
    """The cache key of an avatar (global or guild): one upload per hash and format, even
    when several users or guilds show the same picture under different paths."""
    path = urlsplit(url).path
    extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else "png"
    return f"discord-avatar:{avatar_hash}.{extension}"
