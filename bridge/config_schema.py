"""What every config key must hold, and a checker that lists all problems at once.

Each rule names a key path and says, in words for people, what it expects; the checker runs
every rule and returns one message per broken key, so a user fixes their config in one go.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PLACEHOLDER_TOKEN = "This value is generated when generating the registration"
PERMISSION_LEVELS = ("relay", "user", "admin")

_LOCALPART = re.compile(r"^[a-z0-9._=\-/+]+$")
_SERVER_NAME = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-]+)(:\d{1,5})?$")
_MXID = re.compile(r"^@[a-z0-9._=\-/+]+:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-]+)(:\d{1,5})?$")
_SNOWFLAKE = re.compile(r"^\d{1,20}$")
_MISSING = object()


@dataclass(frozen=True)
class Rule:
    """One key: ``test`` says whether a value is acceptable, ``expected`` says what is."""

    path: str
    expected: str
    test: Callable[[Any], bool]
    # Only checked when the caller asks for this group (e.g. tokens exist only after -g).
    group: str = "always"


def _is_int(value: Any, low: int, high: int | None = None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= low and (high is None or value <= high)


def _is_url(value: Any, schemes: tuple[str, ...]) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in schemes and bool(parts.hostname)


def _template_fields(template: str) -> set[str] | None:
    """The placeholder names in a str.format template, or None if it does not parse."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        return None


def _is_localpart_template(value: Any) -> bool:
    if not isinstance(value, str) or _template_fields(value) != {"id"}:
        return False
    return value.count("{id}") == 1 and bool(_LOCALPART.match(value.replace("{id}", "1")))


def _is_displayname_template(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    names = _template_fields(value)
    return names is not None and names <= {"name", "username", "id"}


def _is_db_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if value.startswith("sqlite:"):
        return len(value.removeprefix("sqlite:").lstrip("/")) > 0
    return _is_url(value, ("postgres", "postgresql"))


def _is_snowflake_or_empty(value: Any) -> bool:
    if value in ("", None):
        return True
    return bool(_SNOWFLAKE.match(str(value))) and not isinstance(value, bool)


def _is_permission_map(value: Any) -> bool:
    if not isinstance(value, Mapping) or not value:
        return False
    for who, level in value.items():
        key_ok = who == "*" or _SERVER_NAME.match(str(who)) or _MXID.match(str(who))
        if not key_ok or level not in PERMISSION_LEVELS:
            return False
    return True


def _is_real_token(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 16 and value != PLACEHOLDER_TOKEN


def _is_listen_address(value: Any) -> bool:
    """host:port, an IPv6 host in brackets ([::1]:29335)."""
    if not isinstance(value, str):
        return False
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    return bool(sep and host.strip()) and port.isdigit() and 1 <= int(port) <= 65535


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


RULES: tuple[Rule, ...] = (
    Rule(
        "homeserver.address", "an http:// or https:// URL", lambda v: _is_url(v, ("http", "https"))
    ),
    Rule(
        "homeserver.domain",
        "the homeserver's server name, e.g. example.com",
        lambda v: isinstance(v, str) and bool(_SERVER_NAME.match(v)),
    ),
    Rule("homeserver.verify_ssl", "true or false", lambda v: isinstance(v, bool)),
    Rule(
        "homeserver.max_retry_wait",
        "a number of seconds above 0, at most 3600",
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 3600,
    ),
    Rule(
        "appservice.address", "an http:// or https:// URL", lambda v: _is_url(v, ("http", "https"))
    ),
    Rule("appservice.hostname", "an interface to listen on, e.g. 127.0.0.1", _is_text),
    Rule("appservice.port", "an integer from 1 to 65535", lambda v: _is_int(v, 1, 65535)),
    Rule(
        "appservice.id",
        "a non-empty id made of letters, digits, '_', '-' or '.'",
        lambda v: isinstance(v, str) and bool(re.match(r"^[A-Za-z0-9_.\-]+$", v)),
    ),
    Rule(
        "appservice.bot.username",
        "a Matrix localpart: lowercase letters, digits and ._=-/+",
        lambda v: isinstance(v, str) and bool(_LOCALPART.match(v)),
    ),
    Rule("appservice.bot.displayname", "a text", lambda v: isinstance(v, str)),
    Rule(
        "appservice.bot.avatar",
        'an mxc:// URI or ""',
        lambda v: v == "" or (isinstance(v, str) and v.startswith("mxc://")),
    ),
    Rule("appservice.ephemeral_events", "true or false", lambda v: isinstance(v, bool)),
    Rule(
        "appservice.database.url",
        "sqlite:PATH or postgresql://user:password@host/database",
        _is_db_url,
    ),
    Rule("appservice.database.min_size", "an integer of at least 1", lambda v: _is_int(v, 1)),
    Rule("appservice.database.max_size", "an integer of at least 1", lambda v: _is_int(v, 1)),
    Rule(
        "appservice.as_token",
        "a generated token: run the bridge with -g to generate the registration",
        _is_real_token,
        group="tokens",
    ),
    Rule(
        "appservice.hs_token",
        "a generated token: run the bridge with -g to generate the registration",
        _is_real_token,
        group="tokens",
    ),
    Rule(
        "discord.bot_token",
        "the bot token of your Discord application (Developer Portal → Bot → Reset Token)",
        _is_text,
        group="discord",
    ),
    Rule(
        "discord.application_id",
        'a Discord application ID (digits) or ""',
        _is_snowflake_or_empty,
    ),
    Rule("discord.api_url", "an http:// or https:// URL", lambda v: _is_url(v, ("http", "https"))),
    Rule("discord.gateway_url", "a ws:// or wss:// URL", lambda v: _is_url(v, ("ws", "wss"))),
    Rule("discord.cdn_url", "an http:// or https:// URL", lambda v: _is_url(v, ("http", "https"))),
    Rule(
        "bridge.username_template",
        "a localpart template containing {id} once, e.g. discord_{id}",
        _is_localpart_template,
    ),
    Rule(
        "bridge.displayname_template",
        "a template using only {name}, {username} and {id}",
        _is_displayname_template,
    ),
    Rule("bridge.bot_suffix", 'a text, or "" for none', lambda v: isinstance(v, str)),
    Rule(
        "bridge.alias_template",
        "an alias localpart template containing {id} once, e.g. discord_{id}",
        _is_localpart_template,
    ),
    Rule(
        "bridge.public_address",
        'an http:// or https:// URL, or "" for none',
        lambda v: v == "" or _is_url(v, ("http", "https")),
    ),
    Rule(
        "bridge.guilds",
        "a list of Discord guild IDs (digits)",
        lambda v: isinstance(v, list) and all(_SNOWFLAKE.match(str(g)) for g in v),
    ),
    Rule("bridge.join_rules.space", "public or invite", lambda v: v in ("public", "invite")),
    Rule(
        "bridge.join_rules.public_channels",
        "restricted or public",
        lambda v: v in ("restricted", "public"),
    ),
    Rule("bridge.bridge_voice_channels", "true or false", lambda v: isinstance(v, bool)),
    Rule(
        "bridge.room_version",
        'a room version, e.g. "11", or "" for the homeserver\'s default',
        lambda v: (
            (isinstance(v, str) and v == v.strip())
            or (isinstance(v, int) and not isinstance(v, bool) and v > 0)
        ),
    ),
    Rule(
        "bridge.room_owners",
        "a list of Matrix user IDs (@user:example.com), the community's own admins; [] for none",
        lambda v: isinstance(v, list) and all(_MXID.match(str(u)) for u in v),
    ),
    Rule("bridge.messages.room_mentions", "true or false", lambda v: isinstance(v, bool)),
    Rule("bridge.messages.captions", "true or false", lambda v: isinstance(v, bool)),
    Rule("bridge.messages.system_messages", "true or false", lambda v: isinstance(v, bool)),
    Rule("bridge.messages.relay_notices", "true or false", lambda v: isinstance(v, bool)),
    Rule("bridge.messages.link_large_files", "true or false", lambda v: isinstance(v, bool)),
    Rule(
        "bridge.permissions",
        'a map of "*", a server name or a user ID to one of relay, user, admin',
        _is_permission_map,
    ),
    Rule(
        "bridge.command_prefix",
        'a word such as "!discord" (no spaces)',
        lambda v: isinstance(v, str) and bool(v.strip()) and not any(c.isspace() for c in v),
    ),
    Rule(
        "bridge.provisioning.shared_secret",
        'a secret of at least 16 characters, or "" to turn the provisioning API off',
        lambda v: isinstance(v, str) and (v == "" or len(v) >= 16),
    ),
    Rule(
        "bridge.double_puppet.as_token",
        "the as_token of the double-puppet registration (at least 16 characters, not "
        'appservice.as_token), or "" to turn double puppeting off',
        lambda v: v in ("", None) or _is_real_token(v),
    ),
    Rule(
        "bridge.catch_up.window_messages",
        "a number of messages from 0 (off) to 1000",
        lambda v: _is_int(v, 0, 1000),
    ),
    Rule(
        "bridge.catch_up.window_hours",
        "a number of hours from 0 (off) to 720",
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 720,
    ),
    Rule("bridge.limits.max_file_size", "a number of bytes of at least 1", lambda v: _is_int(v, 1)),
    Rule(
        "bridge.limits.import_concurrency",
        "an integer from 1 to 64",
        lambda v: _is_int(v, 1, 64),
    ),
    Rule("metrics.enabled", "true or false", lambda v: isinstance(v, bool)),
    Rule(
        "metrics.listen_address",
        "host:port to serve the metrics on, e.g. 127.0.0.1:29335",
        _is_listen_address,
    ),
    Rule(
        "logging",
        "a logging dictConfig map with version: 1",
        lambda v: isinstance(v, Mapping) and v.get("version") == 1,
    ),
)


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def find_problems(data: Mapping[str, Any], groups: tuple[str, ...] = ()) -> list[str]:
    """Every problem in ``data``, one line per key, naming the key and what it expects.

    ``groups`` adds the rules that only apply at some moments ("tokens", "discord").
    """
    wanted = {"always", *groups}
    problems: list[str] = []
    for rule in RULES:
        if rule.group not in wanted:
            continue
        value = _lookup(data, rule.path)
        if value is _MISSING:
            problems.append(f"{rule.path}: missing; expected {rule.expected}")
        elif not rule.test(value):
            problems.append(f"{rule.path}: expected {rule.expected}, got {_shown(value)}")
    low = _lookup(data, "appservice.database.min_size")
    high = _lookup(data, "appservice.database.max_size")
    if _is_int(low, 1) and _is_int(high, 1) and high < low:
        problems.append(
            f"appservice.database.max_size: expected at least min_size ({low}), got {high}"
        )
    double_puppet = _lookup(data, "bridge.double_puppet.as_token")
    if double_puppet and double_puppet == _lookup(data, "appservice.as_token"):
        problems.append(
            "bridge.double_puppet.as_token: expected a token of its own (the double-puppet "
            "registration's), got appservice.as_token's"
        )
    return problems
