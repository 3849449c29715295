"""What the stub-homeserver benches share: the bridge as a child process pinned to one core.

- :func:`cpu_seconds` (a process's user + system CPU s, from ``/proc/PID/stat``) and :func:`at`
  (CPU s at a moment, interpolated between ``(monotonic s, CPU s)`` samples);
- :func:`pin_parent`: this process (emulator, stub) onto the cores other than 0;
- :func:`bridge_environ` / :func:`bridge_command` / :class:`Child`: the real command
  ``python -m bridge -c CONFIG ...`` with ``DISCORD_BRIDGE__*`` overrides, under ``taskset -c 0``
  (optionally under ``-m cProfile -o FILE``), its CPU sampled every 50 ms;
- :func:`bench_setup` (a fresh folder with a config and its registration), :func:`run_bench`
  (run a bench's coroutine: Ctrl-C stops it cleanly with status 130, an error with 1, the
  folders removed after a success unless ``--keep``) and the argparse types
  :func:`positive_int` / :func:`positive_float` / :func:`non_negative_int` /
  :func:`non_negative_float`;
- :func:`start_bridge`: the long-running bridge for one guild (``bridge.guilds: [G]``), waited for
  until ``GET /_matrix/mau/ready`` answers 200 (it does once every configured guild's rooms
  exist); :class:`RunningBridge` then maps channel id → room id (the ``portal`` table of its
  SQLite database) and stops it with SIGINT (cProfile writes its file on the way out).

``time.monotonic`` is system-wide on Linux: times taken here and in the child compare.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import logging
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from aiohttp import ClientError, ClientSession, ClientTimeout

from bridge.interrupt import run_command
from bridge.sandbox.bridge_config import write_sandbox_config
from bridge.sandbox.homeserver import free_port

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
READY_PATH = "/_matrix/mau/ready"
CATEGORY = 4  # Discord's channel type of a category
Samples = list[tuple[float, float]]  # (time.monotonic() s, the child's CPU s)
SERVER = "sandbox.local"
# Nobody is an admin: an admin on another server would be invited to each space (federation
# denied, a warning); local users may still talk through the bridge.
PERMISSIONS = {"*": "relay", SERVER: "user"}
FOLDERS: list[Path] = []  # made by bench_setup: removed or kept by run_bench


def _number(text: str, kind: type[int] | type[float], least: float, wanted: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}") from None
    if value < least or value != value:  # NaN too
        raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}")
    return value


def positive_int(text: str) -> int:
    """argparse ``type=``: a whole number ≥ 1."""
    return int(_number(text, int, 1, "a whole number of at least 1"))


def non_negative_int(text: str) -> int:
    """argparse ``type=``: a whole number ≥ 0."""
    return int(_number(text, int, 0, "a whole number of at least 0"))


def positive_float(text: str) -> float:
    """argparse ``type=``: a number > 0 (and finite)."""
    value = float(_number(text, float, 0, "a number above 0"))
    if value <= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
    return value


def non_negative_float(text: str) -> float:
    """argparse ``type=``: a number ≥ 0 (and finite)."""
    value = float(_number(text, float, 0, "a number of at least 0"))
    if value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def add_keep(parser: argparse.ArgumentParser) -> None:
    """The ``--keep`` option every bench has."""
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the bench's /tmp/bridge-* folder (logs, databases) after a success "
        "(it is always kept after a failure or Ctrl-C)",
    )


def add_top(parser: argparse.ArgumentParser) -> None:
    """The ``--top`` option of the benches that can profile."""
    parser.add_argument(
        "--top", type=positive_int, default=30, help="functions shown in the profile (30)"
    )


def add_no_pin(parser: argparse.ArgumentParser) -> None:
    """The ``--no-pin`` option (``pin``) of the benches that pin the bridge to core 0."""
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="no taskset: the bridge not on core 0"
    )


def bench_setup(prefix: str) -> tuple[Path, int, Path, Path]:
    """A fresh folder ``/tmp/PREFIX*`` (printed) with a config for a free appservice port
    (no admins) and its registration: (folder, port, config, registration). :func:`run_bench`
    removes it after a success unless ``--keep``."""
    logging.basicConfig(level=logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    FOLDERS.append(folder)
    print(f"bench folder: {folder} (logs, databases)", flush=True)
    port = free_port()
    config_path = write_sandbox_config(folder, port, {"bridge": {"permissions": PERMISSIONS}})
    return folder, port, config_path, folder / "registration.yaml"


def run_bench(work: Coroutine[Any, Any, int | None], keep: bool = False) -> NoReturn:
    """Run a bench's ``work`` and exit with its status (None: 0). The first Ctrl-C or SIGTERM
    cancels it (its ``finally`` blocks stop the bridge, Synapse, the emulator) and prints
    ``interrupted`` (status 130 or 143); an error prints ``FAILED: ...`` (status 1). The
    folders of :func:`bench_setup` are removed after a success unless ``keep``, else
    printed. The process then ends at once: no stray thread keeps it (or a database) alive."""

    async def status_of() -> int:
        return (await work) or 0

    try:
        status = run_command(status_of())
    except SystemExit as error:  # e.g. SystemExit("gateway probe: ...")
        if not isinstance(error.code, int):
            print(f"FAILED: {error.code}", flush=True)
        status = error.code if isinstance(error.code, int) else 1
    except Exception as error:
        traceback.print_exc()
        print(f"FAILED: {type(error).__name__}: {error}", flush=True)
        status = 1
    if status in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        print("interrupted", flush=True)
    for folder in FOLDERS:
        if status == 0 and not keep:
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.exists():
            print(f"kept the bench folder {folder}", flush=True)
    atexit._run_exitfuncs()  # e.g. a LocalSynapse still running is killed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def at(samples: Samples, when: float) -> float:
    """The child's CPU seconds at ``when`` (monotonic s), interpolated between samples."""
    before = [s for s in samples if s[0] <= when] or samples[:1]
    after = [s for s in samples if s[0] >= when] or samples[-1:]
    (t0, c0), (t1, c1) = before[-1], after[0]
    return c0 if t1 == t0 else c0 + (c1 - c0) * (when - t0) / (t1 - t0)


def can_pin(pin: bool = True) -> bool:
    """Whether the bridge child can have core 0 to itself (taskset, more than one core)."""
    return bool(pin and shutil.which("taskset") and len(os.sched_getaffinity(0)) > 1)


def pin_parent(pin: bool = True) -> bool:
    """Move this process (the emulator, the stub) off core 0 when :func:`can_pin`; whether it
    did."""
    if not can_pin(pin):
        return False
    os.sched_setaffinity(0, os.sched_getaffinity(0) - {0})
    return True


def where(pinned: bool) -> str:
    """How the processes sit on the cores, for a bench's first line."""
    if not pinned:
        return "not pinned (no taskset, one core or --no-pin)"
    others = len(os.sched_getaffinity(0))
    return (
        "the bridge pinned to core 0 (taskset -c 0), the emulator and the stub on the other "
        f"{others} core(s)"
    )


def bridge_environ(
    homeserver_url: str,
    database: Path,
    emulator: Any,
    token: str,
    overrides: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a bridge child: this one's, with the homeserver, the SQLite
    ``database`` file, the emulator's URLs and bot ``token`` set, plus ``overrides`` (keys
    without the ``DISCORD_BRIDGE__`` prefix, e.g. ``{"BRIDGE__GUILDS": "[1]"}``)."""
    environ = {
        **os.environ,
        "DISCORD_BRIDGE__HOMESERVER__ADDRESS": homeserver_url,
        "DISCORD_BRIDGE__APPSERVICE__DATABASE__URL": f"sqlite:{database}",
        "DISCORD_BRIDGE__DISCORD__API_URL": emulator.api_url,
        "DISCORD_BRIDGE__DISCORD__GATEWAY_URL": emulator.gateway_url,
        "DISCORD_BRIDGE__DISCORD__CDN_URL": emulator.cdn_url,
        "DISCORD_BRIDGE__DISCORD__BOT_TOKEN": token,
    }
    for key, value in (overrides or {}).items():
        environ[key if key.startswith("DISCORD_BRIDGE__") else f"DISCORD_BRIDGE__{key}"] = value
    return environ


def bridge_command(
    config: Path, arguments: list[str], profile: Path | None = None, pin: bool = True
) -> list[str]:
    """``[taskset -c 0] python [-m cProfile -o PROFILE] -m bridge -c CONFIG ARGUMENTS``."""
    python = [sys.executable]
    if profile is not None:
        python += ["-m", "cProfile", "-o", str(profile)]
    return [*pinned_to_core_0(pin), *python, "-m", "bridge", "-c", str(config), *arguments]


def pinned_to_core_0(pin: bool = True) -> list[str]:
    """``["taskset", "-c", "0"]`` to start a child on core 0 (whatever this process's own
    affinity), or ``[]`` without taskset or ``pin``."""
    return ["taskset", "-c", "0"] if pin and shutil.which("taskset") else []


@dataclass
class Child:
    """A bridge child process, its output in ``log``, its CPU sampled every 50 ms."""

    process: asyncio.subprocess.Process
    started: float  # monotonic s
    samples: Samples = field(default_factory=list)
    sampler: asyncio.Task[None] | None = None

    @classmethod
    async def launch(cls, command: list[str], environ: dict[str, str], log: Path) -> Child:
        """Start ``command`` in the repository's root, stdout and stderr into ``log``."""
        with log.open("wb") as out:
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                *command, cwd=ROOT, env=environ, stdout=out, stderr=out
            )
        child = cls(process, started, [(started, 0.0)])
        child.sampler = asyncio.ensure_future(child._sample())
        return child

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _sample(self) -> None:
        while self.process.returncode is None:
            used = cpu_seconds(self.process.pid)
            if used is not None:
                self.samples.append((time.monotonic(), used))
            await asyncio.sleep(0.05)

    def cpu_now(self) -> float:
        """The child's CPU s so far (also recorded as a sample)."""
        used = cpu_seconds(self.process.pid)
        if used is not None:
            self.samples.append((time.monotonic(), used))
        return self.samples[-1][1]

    def cpu_between(self, start: float, end: float) -> float:
        """The child's CPU s between two monotonic times."""
        return at(self.samples, end) - at(self.samples, start)

    @property
    def cpu_total(self) -> float:
        return self.samples[-1][1]

    async def wait(self, timeout: float) -> int:
        """Wait for the child to end (killed after ``timeout`` s: TimeoutError); its status."""
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        finally:
            await self._stop_sampling()
        return self.process.returncode or 0

    async def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        """Send ``sig`` (the bridge stops cleanly, cProfile writes its file), wait up to
        ``timeout`` s (then kill); the exit status."""
        if self.process.returncode is None:
            self.cpu_now()
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
        with contextlib.suppress(TimeoutError):
            return await self.wait(timeout)
        return self.process.returncode or -9

    async def _stop_sampling(self) -> None:
        if self.sampler is not None:
            self.sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sampler


def portal_rooms(database: Path, guild_id: int) -> dict[int, str]:
    """Channel id → room id of the guild's bridged channels and threads (the ``portal``
    table of the bridge's SQLite ``database``; categories, whose rooms are spaces, left out)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT discord_id, room_id, channel_type FROM portal "
            "WHERE guild_id = ? AND room_id IS NOT NULL",
            (guild_id,),
        ).fetchall()
    return {int(d): str(r) for d, r, kind in rows if int(kind) != CATEGORY}


@dataclass
class RunningBridge:
    """The long-running bridge child for one guild, ready; see :func:`start_bridge`."""

    child: Child
    database: Path
    guild_id: int
    rooms: dict[int, str]  # channel id → room id
    ready_seconds: float  # from launch until /_matrix/mau/ready answered 200

    async def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        """Stop it (SIGINT or SIGTERM; cProfile writes its output); the exit status."""
        return await self.child.stop(sig, timeout)


async def wait_ready(child: Child, port: int, timeout: float) -> float:
    """Poll ``GET http://127.0.0.1:PORT/_matrix/mau/ready`` until 200 (as
    ``docker/healthcheck.py`` does); seconds since launch. RuntimeError if the child ended,
    TimeoutError after ``timeout`` s."""
    url = f"http://127.0.0.1:{port}{READY_PATH}"
    deadline = time.monotonic() + timeout
    async with ClientSession(timeout=ClientTimeout(total=2)) as session:
        while True:
            if child.process.returncode is not None:
                raise RuntimeError(f"the bridge ended (status {child.process.returncode})")
            with contextlib.suppress(ClientError, OSError, TimeoutError):
                async with session.get(url) as answer:
                    if answer.status == 200:
                        return time.monotonic() - child.started
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bridge was not ready within {timeout:.0f} s")
            await asyncio.sleep(0.05)


async def start_bridge(
    folder: Path,
    config: Path,
    port: int,
    homeserver_url: str,
    emulator: Any,
    token: str,
    guild_id: int,
    name: str = "bridge",
    overrides: dict[str, str] | None = None,
    profile: Path | None = None,
    pin: bool = True,
    timeout: float = 120,
    channels: int | None = None,
) -> RunningBridge:
    """Run ``python -m bridge -c CONFIG`` (the long-running bridge) with ``bridge.guilds:
    [guild_id]``, a fresh database ``folder/NAME.db`` and log ``folder/NAME.log``; return once
    it is ready (appservice ``port``) and, if ``channels`` is given, that many channel rooms
    are in its database. The child is stopped again if it does not get there in ``timeout``
    s."""
    database = folder / f"{name}.db"
    environ = bridge_environ(
        homeserver_url,
        database,
        emulator,
        token,
        {"BRIDGE__GUILDS": f"[{guild_id}]", **(overrides or {})},
    )
    command = bridge_command(config, [], profile, pin)
    child = await Child.launch(command, environ, folder / f"{name}.log")
    try:
        ready = await wait_ready(child, port, timeout)
        deadline = time.monotonic() + timeout
        rooms = portal_rooms(database, guild_id)
        while channels is not None and len(rooms) < channels:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(rooms)} of {channels} channel rooms after {timeout} s")
            await asyncio.sleep(0.1)
            rooms = portal_rooms(database, guild_id)
    except BaseException:
        await child.stop(signal.SIGKILL, 5)
        raise
    return RunningBridge(child, database, guild_id, rooms, ready)
