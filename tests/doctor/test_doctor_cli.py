"""doctor's command line and report, without any server: a bad config stops every check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bridge.doctor.render import exit_status, render
from bridge.doctor.result import CheckResult


def test_bad_config_is_reported_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("homeserver:\n    address: 42\n")
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "-c", str(config), "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"✗ config: {config} has ")
    assert "homeserver.address" in lines[0] and "discord.bot_token" in lines[0]
    assert lines[1] == "– other checks: skipped: need a usable config"
    assert "Traceback" not in done.stdout + done.stderr


def test_missing_config_is_not_created(tmp_path: Path) -> None:
    config = tmp_path / "absent.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "-c", str(config), "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout.startswith(f"✗ config: no config file at {config} — fix: run")
    assert not config.exists()


def test_render_marks_and_fix() -> None:
    results = [
        CheckResult.ok("a", "fine"),
        CheckResult.fail("b", "broken", "mend it"),
        CheckResult.skip("c", "skipped: needs b"),
    ]
    assert render(results).splitlines() == [
        "✓ a: fine",
        "✗ b: broken — fix: mend it",
        "– c: skipped: needs b",
        "1 problem found.",
    ]
    assert exit_status(results) == 1
    assert exit_status(results[::2]) == 0
