"""The appservice registration: the file the homeserver loads to know the bridge."""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from .config import Config
from .config_schema import PLACEHOLDER_TOKEN


def namespace_regex(template: str, sigil: str, domain: str) -> str:
    """A regex matching every ID built from ``template`` (which holds ``{id}``) on ``domain``."""
    prefix, suffix = template.split("{id}", 1)
    return f"{re.escape(sigil + prefix)}.+{re.escape(suffix + ':' + domain)}"


def build_registration(config: Config, as_token: str, hs_token: str) -> dict[str, Any]:
    """The registration for ``config``: pure, so the same config gives the same file.

    Asks for ephemeral events (MSC2409: typing, receipts) only when
    ``appservice.ephemeral_events`` is on.
    """
    domain = config["homeserver.domain"]
    registration: dict[str, Any] = {
        "id": config["appservice.id"],
        "url": config["appservice.address"],
        "as_token": as_token,
        "hs_token": hs_token,
        "sender_localpart": config["appservice.bot.username"],
        "rate_limited": False,
        "namespaces": {
            "users": [
                {
                    "exclusive": True,
                    "regex": namespace_regex(config["bridge.username_template"], "@", domain),
                }
            ],
            "aliases": [
                {
                    "exclusive": True,
                    "regex": namespace_regex(config["bridge.alias_template"], "#", domain),
                }
            ],
            "rooms": [],
        },
    }
    if config["appservice.ephemeral_events"]:
        # Typing notifications and receipts (MSC2409), stable and unstable names.
        registration["receive_ephemeral"] = True
        registration["de.sorunome.msc2409.push_ephemeral"] = True
    return registration


def _token(current: Any) -> str:
    """Keep a token already generated, so regenerating never breaks a loaded registration."""
    if isinstance(current, str) and len(current) >= 16 and current != PLACEHOLDER_TOKEN:
        return current
    return secrets.token_urlsafe(48)


def generate_registration(config: Config, output: Path) -> dict[str, Any]:
    """Write the registration to ``output`` and its tokens into the config file."""
    as_token = _token(config["appservice.as_token"])
    hs_token = _token(config["appservice.hs_token"])
    registration = build_registration(config, as_token, hs_token)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w") as stream:
        YAML().dump(registration, stream)
    config.save_tokens(as_token, hs_token)
    return registration


DOUBLE_PUPPET_FILE = "double-puppet-registration.yaml"


def build_double_puppet_registration(
    as_token: str, appservice_id: str, domain: str
) -> dict[str, Any]:
    """The second registration that lets the bridge act as the homeserver's own users
    (double puppeting), for ``bridge.double_puppet.as_token``. Pure.

    As mautrix bridges set it up (docs.mau.fi, "Double puppeting", appservice method): no
    ``url`` (the homeserver pushes nothing to it), a non-exclusive users namespace covering
    the whole server, and the token the bridge sends with ``?user_id=`` (spec: Application
    Service API, "Identity assertion"). ``hs_token`` and ``sender_localpart`` are never used;
    they are derived from the token, so regenerating writes the same file.
    """
    digest = hashlib.sha256(as_token.encode()).hexdigest()
    return {
        "id": f"{appservice_id}-double-puppet",
        "url": None,
        "as_token": as_token,
        "hs_token": digest[:48],
        "sender_localpart": f"doublepuppet_{digest[48:]}",
        "rate_limited": False,
        "namespaces": {"users": [{"exclusive": False, "regex": f"@.*:{re.escape(domain)}"}]},
    }


def write_double_puppet_registration(config: Config, folder: Path) -> Path | None:
    """Write the double-puppet registration to ``folder``/double-puppet-registration.yaml;
    its path, or None (nothing written) when ``bridge.double_puppet.as_token`` is "" (off)."""
    token = config["bridge.double_puppet.as_token"]
    if not token:
        return None
    registration = build_double_puppet_registration(
        token, config["appservice.id"], config["homeserver.domain"]
    )
    output = folder / DOUBLE_PUPPET_FILE
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w") as stream:
        YAML().dump(registration, stream)
    return output
