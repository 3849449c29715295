"""Loading the config: a valid one loads, a broken one names every bad key at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bridge.__main__ import main
from bridge.config import ConfigCreated, ConfigError, load_config

from .conftest import WriteConfig


def problems_of(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={}, **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def test_valid_config_loads_with_its_values(write_config: WriteConfig) -> None:
    config = load_config(write_config({"appservice.port": 12345}), environ={})
    assert config["appservice.port"] == 12345
    assert config["homeserver.domain"] == "example.org"
    assert config["bridge.username_template"] == "discord_{id}"
    assert config["discord.api_url"] == "https://discord.com/api/v10"
    assert config["discord.gateway_url"] == "wss://gateway.discord.gg"


def test_missing_file_gets_the_example_and_a_message(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.yaml"
    with pytest.raises(ConfigCreated) as caught:
        load_config(path)
    assert path.exists()
    assert "homeserver.address" in str(caught.value) and "-g" in str(caught.value)
    assert "# The Matrix homeserver" in path.read_text()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "homeserver.address",
            "localhost:8008",
            "homeserver.address: expected an http:// or https:// URL",
        ),
        (
            "homeserver.domain",
            "not a domain!",
            "homeserver.domain: expected the homeserver's server name",
        ),
        (
            "homeserver.max_retry_wait",
            float("inf"),
            "homeserver.max_retry_wait: expected a number of seconds above 0, at most 3600",
        ),
        (
            "bridge.catch_up.window_messages",
            "lots",
            "bridge.catch_up.window_messages: expected a number of messages from 0 (off) to 1000",
        ),
        ("homeserver.verify_ssl", "yes please", "homeserver.verify_ssl: expected true or false"),
        (
            "appservice.port",
            "abc",
            "appservice.port: expected an integer from 1 to 65535, got 'abc'",
        ),
        (
            "appservice.port",
            70000,
            "appservice.port: expected an integer from 1 to 65535, got 70000",
        ),
        ("appservice.id", "", "appservice.id: expected a non-empty id"),
        (
            "appservice.bot.username",
            "Discord Bot",
            "appservice.bot.username: expected a Matrix localpart",
        ),
        (
            "appservice.bot.avatar",
            "https://x/y.png",
            "appservice.bot.avatar: expected an mxc:// URI",
        ),
        ("appservice.database.url", "mysql://db", "appservice.database.url: expected sqlite:PATH"),
        (
            "appservice.database.min_size",
            0,
            "appservice.database.min_size: expected an integer of at least 1",
        ),
        (
            "discord.application_id",
            "abc",
            "discord.application_id: expected a Discord application ID",
        ),
        (
            "discord.gateway_url",
            "https://gateway",
            "discord.gateway_url: expected a ws:// or wss:// URL",
        ),
        (
            "bridge.username_template",
            "discord_user",
            "bridge.username_template: expected a localpart template containing {id}",
        ),
        (
            "bridge.username_template",
            "Discord_{id}",
            "bridge.username_template: expected a localpart template",
        ),
        (
            "bridge.displayname_template",
            "{nick}",
            "bridge.displayname_template: expected a template using only",
        ),
        (
            "bridge.public_address",
            "bridge.example.org",
            "bridge.public_address: expected an http:// or https:// URL",
        ),
        ("bridge.permissions", {"*": "superuser"}, "bridge.permissions: expected a map of"),
        ("bridge.guilds", ["my guild"], "bridge.guilds: expected a list of Discord guild IDs"),
        ("bridge.join_rules.space", "knock", "bridge.join_rules.space: expected public or invite"),
        (
            "bridge.join_rules.public_channels",
            "invite",
            "bridge.join_rules.public_channels: expected restricted or public",
        ),
        (
            "bridge.bridge_voice_channels",
            "no",
            "bridge.bridge_voice_channels: expected true or false",
        ),
        ("bridge.permissions", {"not a user": "admin"}, "bridge.permissions: expected a map of"),
        (
            "bridge.limits.import_concurrency",
            0,
            "bridge.limits.import_concurrency: expected an integer from 1 to 64",
        ),
        ("logging", {"handlers": {}}, "logging: expected a logging dictConfig map with version: 1"),
    ],
)
def test_each_bad_value_is_named_with_what_is_expected(
    write_config: WriteConfig, key: str, value: object, expected: str
) -> None:
    problems = problems_of(write_config({key: value}))
    assert any(problem.startswith(expected) for problem in problems), problems
    assert len(problems) == 1, problems


def test_all_problems_are_listed_at_once(write_config: WriteConfig) -> None:
    path = write_config(
        {"appservice.port": "x", "homeserver.address": "nope", "appservice.database.max_size": -1}
    )
    problems = problems_of(path)
    assert [p.split(":")[0] for p in problems] == [
        "homeserver.address",
        "appservice.port",
        "appservice.database.max_size",
    ]


def test_max_pool_below_min_pool_is_refused(write_config: WriteConfig) -> None:
    path = write_config({"appservice.database.min_size": 5, "appservice.database.max_size": 2})
    assert problems_of(path) == [
        "appservice.database.max_size: expected at least min_size (5), got 2"
    ]


def test_tokens_and_bot_token_are_required_to_run(write_config: WriteConfig) -> None:
    problems = problems_of(write_config(), require=("tokens", "discord"))
    assert [p.split(":")[0] for p in problems] == [
        "appservice.as_token",
        "appservice.hs_token",
        "discord.bot_token",
    ]
    assert "run the bridge with -g" in problems[0]


def test_invalid_yaml_is_reported_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("homeserver:\n  address: [unclosed\n")
    problems = problems_of(path)
    assert problems[0].startswith("not valid YAML") and "line" in problems[0]


def test_a_section_of_the_wrong_shape_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("homeserver: 42\n")
    assert problems_of(path)


def test_upgrade_adds_new_keys_and_keeps_the_users_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "# my own header\n"
        "homeserver:\n"
        "    address: http://hs.internal:8008  # behind the proxy\n"
        "    domain: example.org\n"
    )
    load_config(path, environ={})
    text = path.read_text()
    assert "behind the proxy" in text
    assert "http://hs.internal:8008" in text
    # New keys arrive with the example's comments.
    assert "username_template: discord_{id}" in text
    assert "# Localpart of the Matrix ghost of a Discord user" in text
    data = YAML(typ="safe").load(text)
    assert data["appservice"]["port"] == 29334


def test_environment_overrides_keys_with_types(write_config: WriteConfig) -> None:
    path = write_config()
    config = load_config(
        path,
        environ={
            "DISCORD_BRIDGE__APPSERVICE__PORT": "4242",
            "DISCORD_BRIDGE__HOMESERVER__VERIFY_SSL": "false",
            "DISCORD_BRIDGE__DISCORD__BOT_TOKEN": "abc.def",
            "UNRELATED": "x",
        },
    )
    assert config["appservice.port"] == 4242
    assert config["homeserver.verify_ssl"] is False
    assert config["discord.bot_token"] == "abc.def"
    # Never written back to the file.
    assert "abc.def" not in path.read_text()


def test_environment_override_of_an_unknown_key_is_an_error(write_config: WriteConfig) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(), environ={"DISCORD_BRIDGE__APPSERVICE__PROT": "1"})
    assert caught.value.problems == [
        "DISCORD_BRIDGE__APPSERVICE__PROT: no config key 'appservice.prot' to override; "
        "did you mean DISCORD_BRIDGE__APPSERVICE__PORT?"
    ]


def test_environment_values_are_validated_too(write_config: WriteConfig) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(), environ={"DISCORD_BRIDGE__APPSERVICE__PORT": "high"})
    assert caught.value.problems == [
        "DISCORD_BRIDGE__APPSERVICE__PORT=high: expected an integer from 1 to 65535, "
        "got 'high' (it sets appservice.port)"
    ]
    assert "and the DISCORD_BRIDGE__* environment variables" in str(caught.value)


def test_cli_prints_every_problem_and_exits_non_zero(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config({"appservice.port": "x", "bridge.alias_template": "nope"})
    assert main(["-c", str(path), "db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "appservice.port: expected an integer" in err
    assert "bridge.alias_template: expected an alias localpart template" in err


def test_cli_without_config_writes_the_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    assert main(["-c", str(path)]) == 1
    assert path.exists()
    assert "an example config was written there" in capsys.readouterr().err


SCRIPT = Path(sys.executable).parent / "discord-matrix-bridge"  # the console script


@pytest.mark.parametrize(
    ("how", "shown"),
    [
        ("python -m bridge", "python -m bridge"),
        ("console script on PATH", "discord-matrix-bridge"),
        ("console script by its path", str(SCRIPT)),
    ],
)
def test_the_first_run_names_the_keys_and_the_command_that_was_run(
    tmp_path: Path, how: str, shown: str
) -> None:
    """The README's table of keys to edit, and -g spelled as the user runs the bridge."""
    path = tmp_path / "config.yaml"
    command = {
        "python -m bridge": [sys.executable, "-m", "bridge"],
        "console script on PATH": ["discord-matrix-bridge"],
        "console script by its path": [str(SCRIPT)],
    }[how]
    others = [part for part in os.environ["PATH"].split(os.pathsep) if Path(part) != SCRIPT.parent]
    on_path = [] if how == "console script by its path" else [str(SCRIPT.parent)]
    env = {**os.environ, "PATH": os.pathsep.join([*on_path, *others])}
    run = subprocess.run(
        [*command, "-c", str(path)], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode == 1
    assert run.stderr.endswith(
        "Edit it: at least homeserver.address, homeserver.domain, appservice.address, "
        "discord.bot_token and bridge.permissions (who may use the bridge); then generate "
        f"the registration with\n  {shown} -c {path} -g -r registration.yaml\n"
    ), run.stderr


def test_cli_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert "0.1.0" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--generate-registration" in out and "db" in out
