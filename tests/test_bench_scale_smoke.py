"""``bench/scale.py`` at a tiny size, as a subprocess: it runs to the end, loses no message,
and its restart with nothing changed sends no state event (figures printed, never timed)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
TINY = ["--members", "60", "--channels", "4", "--categories", "2", "--roles", "6"]
TINY += ["--emoji", "2", "--messages", "30", "--authors", "6", "--timeout", "60"]
TINY += ["--settle", "0.3"]


def test_the_scale_bench_at_a_tiny_size() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), *TINY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    restart = re.search(r"restart, nothing changed: .*; (\d+) state events \(target 0\)", output)
    assert restart is not None, output
    assert int(restart[1]) == 0
    assert "traffic: 30 messages from 6 authors" in output
    last = done.stdout.strip().splitlines()[-1]
    shape = r"scale: 60 members in sync in [\d.]+ s, VmRSS \d+ MB after sync, \d+ MB after traffic"
    assert re.fullmatch(shape, last), last
