"""The one-command demo, headless: every scripted step arrives on the other side."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_the_headless_demo_migrates_and_relays_both_ways(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "demo", "--headless", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-4000:]
    assert "== Importing the community's history ==" in out
    assert "#help-forum:" in out and "refused or failed" not in out
    assert out.count("✓ arrived in Matrix") == 3
    assert out.count("✓ arrived in Discord") == 3
    assert "✗" not in out
    assert "relayed live: 3 Discord → Matrix, 3 Matrix → Discord" in out
    assert "Stopped: nothing is left running" in out
