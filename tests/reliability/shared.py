"""Small helpers shared by the reliability tests that run the bridge as a process."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.fixtures.discord import SandboxGuild

#: A webhook execute (Matrix → Discord), as a fault rule's pattern.
EXECUTE = r"^POST /webhooks/\d+/[^/]+$"


def message_payload(**fields: Any) -> dict[str, Any]:
    """A MESSAGE_CREATE's data as Discord sends it: a plain message (not edited, no mentions,
    attachments or embeds) with ``fields`` (id, channel_id, author, content, timestamp…) set;
    a field given as ``...`` is left out."""
    data: dict[str, Any] = {
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not ...}


def query(database: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the bridge's SQLite database (read while the bridge runs)."""
    with sqlite3.connect(database) as connection:
        return list(connection.execute(sql, args))


def logging_at(level: str) -> str:
    """A ``logging`` config (JSON, for an environment override): everything at ``level``,
    discord.py's HTTP log and aiosqlite's queries included, to the process's output."""
    return json.dumps(
        {
            "version": 1,
            "formatters": {
                "normal": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"}
            },
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "normal"}},
            "loggers": {name: {"level": level} for name in ("discord", "aiosqlite", "mau")},
            "root": {"level": level, "handlers": ["console"]},
        }
    )


def secrets_of_the_run(
    bridge_config_path: Path, sandbox: SandboxGuild, extra: dict[str, str]
) -> dict[str, str]:
    """Every secret the bridge held: appservice tokens, the bot token, the webhook tokens the
    emulator issued in the test's guild, and ``extra`` (name → value, e.g. the provisioning
    secret)."""
    config = YAML(typ="safe").load(bridge_config_path)
    channels = set(sandbox.guild.channel_ids)
    hooks = [h for h in sandbox.emulator.store.webhooks.values() if h.channel_id in channels]
    return {
        "appservice.as_token": config["appservice"]["as_token"],
        "appservice.hs_token": config["appservice"]["hs_token"],
        "discord.bot_token": sandbox.bot_token,
        **{f"webhook {hook.id} token": hook.token for hook in hooks if hook.token},
        **extra,
    }


def leaked(output: str, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets that show in ``output``."""
    return [name for name, secret in secrets.items() if secret and secret in output]
