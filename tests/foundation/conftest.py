"""Fixtures for the foundation tests: config files and fresh databases of both kinds."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bridge.config import write_example
from tests.fixtures.postgres import fresh_postgres_database

WriteConfig = Callable[..., Path]


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data[part]
    data[last] = value


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write the example config with some keys changed (``{"a.b": value}``); returns its path."""

    def write(changes: dict[str, Any] | None = None, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        write_example(path)
        yaml = YAML()
        data = yaml.load(path)
        for key, value in {
            "homeserver.address": "http://127.0.0.1:8008",
            "homeserver.domain": "example.org",
            **(changes or {}),
        }.items():
            set_path(data, key, value)
        with path.open("w") as stream:
            yaml.dump(data, stream)
        return path

    return write


@pytest.fixture
def ready_config(write_config: WriteConfig) -> Path:
    """A config that can run the bridge: tokens generated and a Discord bot token set."""
    return write_config(
        {
            "appservice.as_token": secrets.token_urlsafe(32),
            "appservice.hs_token": secrets.token_urlsafe(32),
            "discord.bot_token": "MTIz.fake.token",
        }
    )


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A config-style database URL of each kind: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'bridge.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url
