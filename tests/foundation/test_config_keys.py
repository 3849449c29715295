"""Mistakes in the config named for what they are: unknown keys (with the key meant), bad
environment values (with the variable), YAML errors (at the line where they start)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge import config as config_module
from bridge import config_keys
from bridge.__main__ import main
from bridge.config import ConfigError, load_config, write_example

from .conftest import WriteConfig


def example_with(tmp_path: Path, old: str, new: str, name: str = "config.yaml") -> Path:
    """The example config with one exact piece of text replaced (the change a user makes)."""
    path = tmp_path / name
    write_example(path)
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def run_cli(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["-c", str(path), *args])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    address: http://localhost:8008",
            "    adress: http://hs.internal:8008",
            "homeserver.adress: unknown key — did you mean homeserver.address?",
        ),
        (
            "    guilds: []",
            "    guild: [123]",
            "bridge.guild: unknown key — did you mean bridge.guilds?",
        ),
        (
            "    bridge_voice_channels: false",
            "    bridge_voice_channels: false\n    room_mentions: false",
            "bridge.room_mentions: unknown key — did you mean bridge.messages.room_mentions?",
        ),
        (
            "\ndiscord:\n",
            "\ndiscrod:\n    foo: 1\ndiscord:\n",
            "discrod: unknown key — did you mean discord?",
        ),
        (
            "\ndiscord:\n",
            "\nsomething_else: 1\ndiscord:\n",
            "something_else: unknown key (the example config has no such key); remove it",
        ),
    ],
)
def test_unknown_key_is_named_with_the_key_meant_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str
) -> None:
    path = example_with(tmp_path, old, new)
    before = path.read_bytes()
    status, err = run_cli(path, capsys, "-g", "-r", str(tmp_path / "registration.yaml"))
    assert status == 1
    assert f"  - {expected}\n" in err
    # Nothing written: neither the default beside the typo nor the registration's tokens.
    assert path.read_bytes() == before
    assert not (tmp_path / "registration.yaml").exists()


def test_unknown_keys_are_listed_with_the_other_problems(tmp_path: Path) -> None:
    path = example_with(tmp_path, "    port: 29334", "    prot: 29334\n    hostname2: x")
    path.write_text(path.read_text().replace("domain: example.com", "domain: not a domain!"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.problems == [
        "appservice.prot: unknown key — did you mean appservice.port?",
        "appservice.hostname2: unknown key — did you mean appservice.hostname?",
        "homeserver.domain: expected the homeserver's server name, e.g. example.com, "
        "got 'not a domain!'",
    ]


def test_entries_of_the_users_own_maps_are_not_keys(write_config: WriteConfig) -> None:
    path = write_config(
        {
            "bridge.permissions": {"*": "relay", "@ops:example.org": "admin"},
            "logging.loggers.bridge": {"level": "DEBUG"},
        }
    )
    config = load_config(path, environ={})
    assert config["bridge.permissions"]["@ops:example.org"] == "admin"


def test_a_removed_key_says_what_replaced_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        config_keys.REMOVED_KEYS, "bridge.sync_avatars", "replaced by bridge.public_address"
    )
    path = example_with(tmp_path, '    public_address: ""', "    sync_avatars: true")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.problems == [
        "bridge.sync_avatars: no longer used by this version of the bridge — "
        "replaced by bridge.public_address"
    ]


def test_known_keys_come_from_the_example_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key another version adds to the example is known without any list to update."""
    text = (Path(config_module.__file__).parent / "example-config.yaml").read_text()
    monkeypatch.setattr(
        config_module, "_example_text", lambda: text + "\nbackups:\n    keep_days: 7\n"
    )
    path = example_with(tmp_path, "\ndiscord:\n", "\nbackups:\n    keep_days: 30\ndiscord:\n")
    assert load_config(path, environ={})["backups.keep_days"] == 30
    path = example_with(tmp_path, "\ndiscord:\n", "\nbackups:\n    keep_day: 30\ndiscord:\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.problems == [
        "backups.keep_day: unknown key — did you mean backups.keep_days?"
    ]


def test_a_bad_environment_value_names_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    write_example(path)
    monkeypatch.setenv("DISCORD_BRIDGE__APPSERVICE__PORT", "abc")
    monkeypatch.setenv("DISCORD_BRIDGE__BRIDGE__GUILD", "[1]")
    status, err = run_cli(path, capsys, "db", "upgrade")
    assert status == 1
    assert (
        "  - DISCORD_BRIDGE__APPSERVICE__PORT=abc: expected an integer from 1 to 65535, "
        "got 'abc' (it sets appservice.port)\n" in err
    )
    assert (
        "  - DISCORD_BRIDGE__BRIDGE__GUILD: no config key 'bridge.guild' to override; "
        "did you mean DISCORD_BRIDGE__BRIDGE__GUILDS?\n" in err
    )
    assert "and the DISCORD_BRIDGE__* environment variables" in err
    # The file's own port is fine: no line blames it.
    assert "  - appservice.port" not in err


def test_an_unclosed_quote_is_reported_at_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = example_with(tmp_path, "    domain: example.com", '    domain: "example.com')
    assert path.read_text().splitlines()[12] == '    domain: "example.com'  # line 13
    status, err = run_cli(path, capsys, "db", "upgrade")
    assert status == 1
    assert "not valid YAML: line 13 opens a quote that it does not close" in err
    assert '  13 |     domain: "example.com\n' in err


def test_other_yaml_errors_show_the_failing_line(tmp_path: Path) -> None:
    path = example_with(tmp_path, "    port: 29334", "    port: 29334\n  stray: indentation")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    (problem,) = caught.value.problems
    line = path.read_text().splitlines().index("  stray: indentation") + 1
    assert problem.startswith(f"not valid YAML at line {line}, column 3:"), problem
    assert f"  {line} |   stray: indentation" in problem
