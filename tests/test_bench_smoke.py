"""The benches on the stub homeserver (``import_ceiling.py``, ``live_ceiling.py``,
``relay_load.py``, ``scale.py``) at tiny sizes, as subprocesses: they run to the end, every
message arrives (they exit 1 otherwise), a restart with nothing changed sends no state event,
the last line has the headline's shape (figures printed, never timed) and the bench folder is
gone afterwards; and ``stub_homeserver.py`` on its own prints its url line and stops on
SIGINT with its stats line."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.sandbox.bridge_config import write_sandbox_config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
RATE = r"\d+"
MS = r"-?[\d.]+"


def run(script: str, *arguments: str, timeout: float = 60) -> tuple[str, str]:
    """The script's whole output and its last line; asserts it ended well and lost nothing."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "LOST" not in output, output
    folders = re.findall(r"^bench folder: (\S+)", done.stdout, re.MULTILINE)
    assert folders, output
    assert not any(Path(folder).exists() for folder in folders), folders  # no --keep
    return output, done.stdout.strip().splitlines()[-1]


def test_the_import_ceiling_at_a_tiny_size() -> None:
    output, last = run("import_ceiling.py", "--only", "text", "--messages", "40", "--channels", "2")
    assert "text: 40 messages in 2 channels:" in output
    assert "40 message events" in output
    shape = rf"import ceiling: {RATE} messages/s \(text, (one core|not pinned); target ≥ 1000\)"
    assert re.fullmatch(shape, last), last


def test_the_stub_homeserver_on_its_own(tmp_path: Path) -> None:
    write_sandbox_config(tmp_path, 29999)  # the bridge's config and its registration
    registration = tmp_path / "registration.yaml"
    command = [sys.executable, str(ROOT / "bench" / "stub_homeserver.py")]
    stub = subprocess.Popen(
        [*command, "--registration", str(registration), "--no-push", "--max-seconds", "30"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert stub.stdout is not None
        first = json.loads(stub.stdout.readline())
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", first["url"]), first
        assert first["stats_url"] == first["url"] + "/_stub/stats"
        stub.send_signal(signal.SIGINT)
        rest, errors = stub.communicate(timeout=15)
    finally:
        stub.kill()
    assert stub.returncode == 0, errors
    stats = json.loads(rest.strip().splitlines()[-1])
    assert stats["requests_total"] == 0 and stats["events"] == 0, stats


def test_the_live_ceiling_at_a_tiny_size() -> None:
    tiny = ["--messages", "100", "--events", "60", "--channels", "3", "--authors", "4"]
    output, last = run("live_ceiling.py", *tiny, "--timeout", "30")
    assert "first message of each author (ghost registered): 4 messages" in output
    assert "first in each other room (ghost joins): 8 messages" in output
    assert "steady state: 100 messages in" in output
    assert "first in each room (webhook made): 3 events" in output
    assert "steady state: 60 events in" in output
    shape = (
        rf"live ceiling \((one core|not pinned)\): Discord → Matrix {RATE} messages/s "
        rf"\(target ≥ 1000\), Matrix → Discord {RATE} events/s \(target ≥ 500\)"
    )
    assert re.fullmatch(shape, last), last


def test_the_relay_under_load_at_a_tiny_size() -> None:
    tiny = ["--seconds", "1", "--rate", "20", "--channels", "3", "--authors", "2"]
    output, last = run("relay_load.py", *tiny, "--baseline", "10", "--timeout", "20")
    assert re.search(r"Discord → Matrix: total .*\(20\)", output), output
    assert re.search(r"Matrix → Discord: total .*\(20\)", output), output
    shape = (
        rf"relay under load \(20/s each way\): added Discord → Matrix p50 {MS} ms / p99 {MS} ms, "
        rf"Matrix → Discord p50 {MS} ms / p99 {MS} ms \(targets ≤ 5 / ≤ 25 ms\)"
    )
    assert re.fullmatch(shape, last), last


def test_the_scale_bench_at_a_tiny_size() -> None:
    tiny = ["--members", "60", "--channels", "4", "--categories", "2", "--roles", "6"]
    tiny += ["--emoji", "2", "--messages", "30", "--authors", "6", "--settle", "0.3"]
    output, last = run("scale.py", *tiny, "--timeout", "60", timeout=120)
    restart = re.search(r"restart, nothing changed: .*; (\d+) state events \(target 0\)", output)
    assert restart is not None, output
    assert int(restart[1]) == 0
    assert "traffic: 30 messages from 6 authors" in output
    shape = r"scale: 60 members in sync in [\d.]+ s, VmRSS \d+ MB after sync, \d+ MB after traffic"
    assert re.fullmatch(shape, last), last
