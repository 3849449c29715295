"""-g: the registration the homeserver loads, and the tokens kept in the config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bridge.__main__ import main
from bridge.config import load_config

from .conftest import WriteConfig


def generate(config_path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    registration = config_path.parent / "registration.yaml"
    assert main(["-c", str(config_path), "-g", "-r", str(registration)]) == 0
    assert "Wrote the registration" in capsys.readouterr().out
    return YAML(typ="safe").load(registration)


def test_registration_has_everything_the_homeserver_needs(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config({"appservice.address": "http://bridge.internal:29334"})
    registration = generate(path, capsys)
    assert registration["id"] == "discord"
    assert registration["url"] == "http://bridge.internal:29334"
    assert registration["sender_localpart"] == "discordbot"
    assert registration["rate_limited"] is False
    assert registration["receive_ephemeral"] is True
    assert registration["de.sorunome.msc2409.push_ephemeral"] is True
    assert len(registration["as_token"]) >= 32 and len(registration["hs_token"]) >= 32
    assert registration["as_token"] != registration["hs_token"]
    users = registration["namespaces"]["users"]
    aliases = registration["namespaces"]["aliases"]
    assert users[0]["exclusive"] is True and aliases[0]["exclusive"] is True


def test_namespaces_cover_exactly_the_ghosts_and_aliases(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    registration = generate(write_config({"bridge.username_template": "dc.{id}.ghost"}), capsys)
    users = re.compile(registration["namespaces"]["users"][0]["regex"])
    aliases = re.compile(registration["namespaces"]["aliases"][0]["regex"])
    assert users.fullmatch("@dc.123456789012345678.ghost:example.org")
    assert not users.fullmatch("@dcx123.ghost:example.org")  # the dot is literal
    assert not users.fullmatch("@dc.1.ghost:example.org.evil")
    assert not users.fullmatch("@alice:example.org")
    assert aliases.fullmatch("#discord_987:example.org")
    assert not aliases.fullmatch("#general:example.org")


def test_tokens_are_stored_in_the_config_with_comments_kept(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config()
    registration = generate(path, capsys)
    config = load_config(path, require=("tokens",), environ={})
    assert config["appservice.as_token"] == registration["as_token"]
    assert config["appservice.hs_token"] == registration["hs_token"]
    assert "# Tokens shared with the homeserver." in path.read_text()


def test_generating_again_keeps_the_tokens(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config()
    first = generate(path, capsys)
    second = generate(path, capsys)
    assert first == second


def test_environment_overrides_do_not_leak_into_the_file(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config()
    monkeypatch.setenv("DISCORD_BRIDGE__DISCORD__BOT_TOKEN", "secret.from.env")
    generate(path, capsys)
    assert "secret.from.env" not in path.read_text()


def test_the_example_registration_matches_the_generator(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    example_file = Path(__file__).parents[2] / "registration.yaml.example"
    example = YAML(typ="safe").load(example_file)
    generated = generate(write_config({"homeserver.domain": "example.com"}), capsys)
    for token in ("as_token", "hs_token"):
        generated.pop(token)
        example.pop(token)
    generated["url"] = example["url"]
    assert generated == example
