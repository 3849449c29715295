"""Upgrades and -g change only the lines they must: added keys and the two token values.

The user's indentation, quoting, flow lists, comments at odd places and line endings stay
byte for byte.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import bridge
from bridge.__main__ import main
from bridge.config import WHOLE_MAPS, load_config
from bridge.config_keys import known_leaves

EXAMPLE = Path(bridge.__file__).parent / "example-config.yaml"

# Two-space indents, both quote styles, flow collections, comments at odd places, a key
# order of the user's own, no newline at the end; lacking many of the example's keys.
ODD_CONFIG = """\
# my header, right above the first section
homeserver:
  address: 'http://127.0.0.1:8008'   # single quotes, odd comment spacing
  domain: "example.org"
appservice:
  port: 29334
  address: http://localhost:29334
  hostname: 127.0.0.1
  id: discord
  bot: {username: discordbot, displayname: "Discord bridge bot", avatar: ""}
  as_token: "This value is generated when generating the registration"
  hs_token: 'This value is generated when generating the registration'  # keep me
       # a comment at an odd place
  database:
    url: sqlite:discord-bridge.db
discord:
    bot_token: ""    # four spaces in this section
bridge:
  guilds: [ 123,   456 ]
  permissions:
    '*': relay
    "@admin:example.org": admin
logging:
  version: 1
  root: {level: INFO, handlers: [console]}
  handlers: {console: {class: logging.StreamHandler}}"""

TOKEN_LINES = (
    '  as_token: "This value is generated when generating the registration"\n',
    "  hs_token: 'This value is generated when generating the registration'  # keep me\n",
)


def changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines removed or replaced, lines added) between two texts, line endings included."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += old[i1:i2]
            added += new[j1:j2]
    return removed, added


def test_generate_changes_only_the_token_values_and_adds_missing_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(ODD_CONFIG)
    assert main(["-c", str(path), "-g", "-r", str(tmp_path / "registration.yaml")]) == 0
    after = path.read_text()
    removed, added = changes(ODD_CONFIG, after)
    assert removed == list(TOKEN_LINES)
    data = YAML(typ="safe").load(after)
    as_token, hs_token = data["appservice"]["as_token"], data["appservice"]["hs_token"]
    # The new token lines keep their quotes and their comment.
    assert f'  as_token: "{as_token}"\n' in added
    assert f"  hs_token: '{hs_token}'  # keep me\n" in added
    # Added keys: the example's values and comment lines, at two-space indents in their sections.
    assert "  verify_ssl: true\n" in added
    assert (
        "  # Check the homeserver's TLS certificate. Only turn off for a self-signed test setup.\n"
        in added
    )
    assert "    min_size: 1\n" in added
    assert "    captions: false\n" in added
    assert data["bridge"]["messages"]["captions"] is False
    assert data["discord"]["api_url"] == "https://discord.com/api/v10"
    assert "    api_url: https://discord.com/api/v10\n" in added  # that section has four
    # The new keys sit in their section, after their neighbour in the example.
    lines = after.splitlines()
    assert lines.index("  verify_ssl: true") == lines.index('  domain: "example.org"') + 2
    assert data["bridge"]["guilds"] == [123, 456]


def test_an_upgrade_at_start_only_adds_lines(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(ODD_CONFIG + "\n")
    load_config(path, environ={})
    after = path.read_text()
    removed, added = changes(ODD_CONFIG + "\n", after)
    assert removed == []
    assert "  ephemeral_events: true\n" in added
    # Every key of the example is now in the file, each new one in its section.
    data = YAML(typ="safe").load(after)
    example = load_config(EXAMPLE, environ={}, save_upgrades=False)
    for key in known_leaves(example._data, WHOLE_MAPS):
        node = data
        for part in key.split("."):
            assert part in node, key
            node = node[part]
    # A key that comes before all of its section's keys in the example goes first there.
    lines = after.splitlines()
    assert lines.index("  username_template: discord_{id}") < lines.index(
        "  guilds: [ 123,   456 ]"
    )
    # Loading again changes nothing at all.
    upgraded = path.read_bytes()
    load_config(path, environ={})
    assert path.read_bytes() == upgraded


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    original = (ODD_CONFIG + "\n").replace("\n", "\r\n").encode()
    path.write_bytes(original)
    assert main(["-c", str(path), "-g", "-r", str(tmp_path / "registration.yaml")]) == 0
    after = path.read_bytes()
    assert b"\n" not in after.replace(b"\r\n", b"")
    removed, added = changes(original.decode(), after.decode())
    assert removed == [line.replace("\n", "\r\n") for line in TOKEN_LINES]
    assert "  verify_ssl: true\r\n" in added


def test_a_flow_section_missing_keys_is_left_alone_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Lines cannot go into `{...}`: that section keeps its line and the example's value is
    used for its missing key; every other missing key (here the whole `metrics:` section,
    which ODD_CONFIG lacks) is still added as text."""
    path = tmp_path / "config.yaml"
    text = ODD_CONFIG.replace('displayname: "Discord bridge bot", ', "") + "\n"
    path.write_text(text)
    with caplog.at_level(logging.WARNING, logger="bridge.config"):
        config = load_config(path, environ={})
    after = path.read_text()
    removed, added = changes(text, after)
    assert removed == []
    assert "metrics:\n" in added and "  enabled: false\n" in added
    assert "  verify_ssl: true\n" in added
    assert '  bot: {username: discordbot, avatar: ""}\n' in after.splitlines(keepends=True)
    assert config["appservice.bot.displayname"] == "Discord bridge bot"
    assert YAML(typ="safe").load(after)["metrics"]["enabled"] is False
    warnings = [r.getMessage() for r in caplog.records if "could not be added" in r.getMessage()]
    assert len(warnings) == 1
    assert " lacks appservice.bot.displayname; they could not be added" in warnings[0]
    # Loading again adds nothing more and warns the same way.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bridge.config"):
        load_config(path, environ={})
    assert path.read_text() == after
    assert " lacks appservice.bot.displayname; " in caplog.text
    # -g still writes the tokens line by line.
    assert main(["-c", str(path), "-g", "-r", str(tmp_path / "registration.yaml")]) == 0
    removed, _ = changes(after, path.read_text())
    assert removed == list(TOKEN_LINES)


def test_the_file_mode_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(ODD_CONFIG + "\n")
    path.chmod(0o640)
    load_config(path, environ={})
    assert path.stat().st_mode & 0o777 == 0o640
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
