"""``python -m bridge import --export PATH --dry-run`` from the command line: it reports and
writes nothing, not the database, not even the config file that a normal start upgrades.
(The homeserver side is in tests/test_import_dry_run.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bridge.__main__ import main
from bridge.config import write_example
from tests.importer.export_helpers import FIXTURES, GENERAL


def old_config(tmp_path: Path) -> Path:
    """A usable config from an older version: it lacks a key this version has."""
    path = tmp_path / "config.yaml"
    write_example(path)
    yaml = YAML()
    data = yaml.load(path)
    data["homeserver"].update(address="http://127.0.0.1:9", domain="example.org")
    data["appservice"].update(as_token="a" * 32, hs_token="h" * 32)
    data["appservice"]["database"]["url"] = f"sqlite:{tmp_path / 'bridge.db'}"
    data["discord"]["bot_token"] = "MTIz.fake.token"
    del data["bridge"]["limits"]["import_concurrency"]
    with path.open("w") as stream:
        yaml.dump(data, stream)
    return path


def test_an_export_dry_run_reports_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = old_config(tmp_path)
    before = config.read_text()
    assert main(["-c", str(config), "import", "--export", str(FIXTURES), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Dry run: importing 3 export file(s) would create or use:" in out
    assert "#general: 14 messages, 1 threads, 2 attachments" in out
    assert "#media: 4 messages, 0 threads, 3 attachments" in out
    assert "Total: 18 messages" in out and "under a minute" in out
    assert "nothing was created, sent or stored" in out
    assert list(tmp_path.iterdir()) == [config]
    assert config.read_text() == before


def test_a_dry_run_of_something_that_is_not_an_export_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = old_config(tmp_path)
    missing = tmp_path / "nowhere"
    assert main(["-c", str(config), "import", "--export", str(missing), "--dry-run"]) == 1
    assert "no such file or folder" in capsys.readouterr().out
    assert GENERAL.exists()  # the fixtures are only read
