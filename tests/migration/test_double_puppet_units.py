"""Double puppeting without a homeserver: the second registration -g writes, the config rule,
and which pushed events are the bridge's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bridge.__main__ import main
from bridge.config import write_example
from bridge.config_schema import find_problems
from bridge.migration.double_puppet import DoublePuppets

TOKEN = "a-double-puppet-token-of-mine"


def config_with(tmp_path: Path, token: str) -> Path:
    path = tmp_path / "config.yaml"
    write_example(path)
    yaml = YAML()
    data = yaml.load(path)
    data["bridge"]["double_puppet"]["as_token"] = token
    yaml.dump(data, path)
    return path


def test_generate_writes_the_second_registration_when_a_token_is_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, TOKEN)
    assert main(["-c", str(config), "-g", "-r", str(tmp_path / "registration.yaml")]) == 0
    written = tmp_path / "double-puppet-registration.yaml"
    assert f"double-puppet registration to {written}" in capsys.readouterr().out
    registration = YAML(typ="safe").load(written)
    assert registration["id"] == "discord-double-puppet"
    assert registration["url"] is None
    assert registration["as_token"] == TOKEN
    assert registration["namespaces"] == {
        "users": [{"exclusive": False, "regex": r"@.*:example\.com"}]
    }
    main_registration = YAML(typ="safe").load(tmp_path / "registration.yaml")
    assert registration["sender_localpart"] != main_registration["sender_localpart"]
    assert registration["hs_token"] != TOKEN
    # Regenerating writes the same file (nothing to reload on the homeserver).
    text = written.read_text()
    assert main(["-c", str(config), "-g", "-r", str(tmp_path / "registration.yaml")]) == 0
    assert written.read_text() == text


def test_generate_writes_no_second_registration_when_off(tmp_path: Path) -> None:
    config = config_with(tmp_path, "")
    assert main(["-c", str(config), "-g", "-r", str(tmp_path / "registration.yaml")]) == 0
    assert not (tmp_path / "double-puppet-registration.yaml").exists()


@pytest.mark.parametrize("token", ["short", 42])
def test_a_bad_token_is_named(token: Any) -> None:
    data = {"bridge": {"double_puppet": {"as_token": token}}}
    (problem,) = [p for p in find_problems(data) if "double_puppet" in p]
    assert problem.startswith("bridge.double_puppet.as_token: expected the as_token of the")


def test_the_token_must_not_be_the_bridges_own() -> None:
    data = {"appservice": {"as_token": TOKEN}, "bridge": {"double_puppet": {"as_token": TOKEN}}}
    problems = [p for p in find_problems(data) if "double_puppet" in p]
    assert problems == [
        "bridge.double_puppet.as_token: expected a token of its own (the double-puppet "
        "registration's), got appservice.as_token's"
    ]
    for off in ("", None):
        data["bridge"]["double_puppet"]["as_token"] = off
        assert not [p for p in find_problems(data) if "double_puppet" in p]


def test_own_events_are_those_marked_with_this_appservice() -> None:
    double = DoublePuppets(None, None, as_token=TOKEN, source="discord")  # type: ignore[arg-type]
    marked = {"type": "m.room.message", "content": {"fi.mau.double_puppet_source": "discord"}}
    other_bridge = {"content": {"fi.mau.double_puppet_source": "telegram"}}
    assert double.is_own_event(marked)
    assert not double.is_own_event(other_bridge)  # another bridge's double puppet: relayed
    assert not double.is_own_event({"content": {"body": "hi"}})
    assert not double.is_own_event({"content": "not a map"})
