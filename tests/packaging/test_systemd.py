"""The systemd unit: sandboxed, running the installed console script, its state in
StateDirectory; ``systemd-analyze verify`` and ``security`` judge it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.packaging.files import INSTALL_PREFIX, REPO

UNIT = REPO / "contrib" / "systemd" / "discord-bridge.service"


def unit_settings(path: Path = UNIT) -> dict[str, dict[str, list[str]]]:
    """``{section: {key: [values in order]}}``; systemd allows a key more than once."""
    settings: dict[str, dict[str, list[str]]] = {}
    section = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            settings[section] = {}
            continue
        key, _, value = line.partition("=")
        settings[section].setdefault(key.strip(), []).append(value.strip())
    return settings


SERVICE = unit_settings()["Service"]
UNIT_SECTION = unit_settings()["Unit"]


def _one(key: str) -> str:
    (value,) = SERVICE[key]
    return value


def test_the_service_is_sandboxed() -> None:
    assert _one("DynamicUser") == "yes"
    assert _one("ProtectSystem") == "strict"
    assert _one("ProtectHome") == "yes"
    assert _one("PrivateTmp") == "yes"
    assert _one("NoNewPrivileges") == "yes"
    assert _one("CapabilityBoundingSet") == ""
    assert _one("Restart") == "on-failure"


def test_it_runs_the_installed_console_script_on_its_state_directory() -> None:
    state = Path("/var/lib") / _one("StateDirectory")
    assert _one("WorkingDirectory") == str(state)
    program, *arguments = shlex.split(_one("ExecStart"))
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert Path(program).name in scripts
    assert Path(program).parent == Path(INSTALL_PREFIX) / "bin"
    assert arguments == ["-c", str(state / "config.yaml")]


def test_it_starts_after_the_network_and_a_local_homeserver() -> None:
    after = " ".join(UNIT_SECTION["After"]).split()
    assert "network-online.target" in after and "network-online.target" in UNIT_SECTION["Wants"]
    assert {"matrix-synapse.service", "conduwuit.service", "tuwunel.service"} <= set(after)


def _analyze(*arguments: str) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: apt-get install systemd"
    return subprocess.run([analyze, *arguments], capture_output=True, text=True)


@pytest.fixture
def unit_with_this_install(tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at this environment's console script (verify checks
    that the program exists; /opt/discord-bridge is not installed here)."""
    script = Path(sys.executable).parent / "discord-matrix-bridge"
    assert script.exists()
    unit = tmp_path / UNIT.name
    unit.write_text(
        UNIT.read_text().replace(f"{INSTALL_PREFIX}/bin/discord-matrix-bridge", str(script))
    )
    return unit


def test_systemd_analyze_verify_finds_nothing(unit_with_this_install: Path) -> None:
    result = _analyze("verify", str(unit_with_this_install))
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_systemd_analyze_security_rates_it_ok(unit_with_this_install: Path) -> None:
    result = _analyze("security", "--offline=yes", str(unit_with_this_install))
    assert result.returncode == 0, result.stderr
    verdict = result.stdout.strip().splitlines()[-1]
    assert "Overall exposure level for discord-bridge.service" in verdict
    exposure = float(verdict.split(":")[1].split()[0])
    assert exposure <= 2.0, result.stdout  # systemd's "OK" band ends at 3.9; this unit has 1.8


def _seconds(timespan: str) -> float:
    """A systemd time span ("10s", "10min") in seconds, as systemd reads it."""
    result = _analyze("timespan", timespan)
    assert result.returncode == 0, result.stderr
    (micro,) = [line for line in result.stdout.splitlines() if line.strip().startswith("μs:")]
    return int(micro.split(":")[1]) / 1e6


def test_a_persistent_failure_stops_after_a_few_restarts() -> None:
    """Restart=on-failure every RestartSec must reach the start limit (StartLimitBurst starts
    within StartLimitIntervalSec, in [Unit]), else a config error restarts forever; systemd's
    default (5 in 10 s) is never reached with RestartSec=10s. A few tries stay, for a
    homeserver that comes up late."""
    assert "StartLimitBurst" not in SERVICE and "StartLimitIntervalSec" not in SERVICE
    (burst,) = UNIT_SECTION["StartLimitBurst"]
    (interval,) = UNIT_SECTION["StartLimitIntervalSec"]
    restart = _seconds(_one("RestartSec"))
    assert 3 <= int(burst) <= 10
    assert int(burst) * restart < _seconds(interval)
    assert (int(burst) - 1) * restart >= 30  # the first start, then retries for 30 s or more
