"""A real Synapse on a free loopback port, for tests and the demo.

The server name is fixed (``sandbox.local`` by default) rather than ``localhost:PORT``:
Synapse refuses to start on a database created under another server name, so a fixed name
lets a data dir be reused across runs on whatever port is free, and it lets an appservice
registration (whose namespaces contain the server name) be written before the port is known.
Nothing resolves the name: clients talk to :attr:`LocalSynapse.url`, and there is no federation.

``homeserver.yaml`` is rewritten on every start (port, registrations, secrets); the database,
signing key and media store in the data dir are kept.

Run standalone for the demo::

    python -m bridge.sandbox.homeserver --dir D [--registration FILE ...]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from .synapse_config import DEFAULT_SERVER_NAME, homeserver_config, logging_config

# Runs in the child before Synapse: ask the kernel to SIGTERM it when its parent dies, so that
# not even `kill -9` of the test run (or pytest-timeout's os._exit) leaves an orphan. This is
# done in a tiny launcher, not in a preexec_fn, because preexec_fn is unsafe with threads.
_LAUNCHER = """\
import ctypes, os, signal, sys
if sys.platform.startswith("linux"):
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit("parent died before Synapse started")
os.execv(sys.executable, [sys.executable, "-m", "synapse.app.homeserver", *sys.argv[2:]])
"""


class SynapseError(RuntimeError):
    """Synapse is missing, failed to start, or refused a request."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class LocalSynapse:
    """One Synapse subprocess with SQLite, in its own process group.

    Use ``async with LocalSynapse(...) as hs:`` or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        registrations: Sequence[str | os.PathLike[str]] = (),
        server_name: str = DEFAULT_SERVER_NAME,
        port: int | None = None,
        start_timeout: float = 60.0,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="synapse-")).resolve()
        self.registrations = [Path(r).resolve() for r in registrations]
        self.server_name = server_name
        self._fixed_port = port
        self.port = port or 0
        self.start_timeout = start_timeout
        self.extra_config = extra_config or {}
        self.shared_secret = ""
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._session: aiohttp.ClientSession | None = None

    # Paths and properties

    @property
    def url(self) -> str:
        """Base URL of the client-server API, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "homeserver.yaml"

    @property
    def log_path(self) -> Path:
        """Synapse's own log (WARNING and above)."""
        return self.data_dir / "homeserver.log"

    @property
    def output_path(self) -> Path:
        """The process's stdout and stderr (config errors end up here)."""
        return self.data_dir / "synapse.out"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of Synapse's output and log, for error messages."""
        parts = []
        for path in (self.output_path, self.log_path):
            tail = _tail(path, lines)
            if tail:
                parts.append(f"--- {path} ---\n{tail}")
        return "\n".join(parts) or "(no output)"

    # Configuration

    def homeserver_config(self) -> dict[str, Any]:
        """The homeserver.yaml content for the current port and secret."""
        config = homeserver_config(
            self.data_dir,
            server_name=self.server_name,
            port=self.port,
            shared_secret=self.shared_secret,
            registrations=self.registrations,
        )
        config.update(self.extra_config)
        return config

    def write_config(self) -> None:
        """Write homeserver.yaml and log.config (JSON, which is valid YAML)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_config = logging_config(self.log_path)
        (self.data_dir / "log.config").write_text(json.dumps(log_config, indent=2))
        self.config_path.write_text(json.dumps(self.homeserver_config(), indent=2))

    # Lifecycle

    async def start(self) -> None:
        """Start Synapse and wait until the client API answers."""
        if self.running:
            return
        if importlib.util.find_spec("synapse") is None:
            raise SynapseError(
                f"matrix-synapse is not installed in {sys.executable}; "
                "install the sandbox extra: pip install -e '.[sandbox]'"
            )
        for r in self.registrations:
            if not r.is_file():
                raise SynapseError(f"appservice registration not found: {r}")
        began = time.monotonic()
        try:
            for attempt in range(3):
                self.port = self._fixed_port or free_port()
                self.shared_secret = secrets.token_hex(16)
                self.write_config()
                self._spawn()
                try:
                    await self._wait_ready(began + self.start_timeout)
                    break
                except SynapseError:
                    self._kill()
                    bind_failed = "Address already in use" in self.log_tail(200)
                    if self._fixed_port or not bind_failed or attempt == 2:
                        raise
        except BaseException:
            self._kill()
            await self._close_session()
            raise
        self.startup_seconds = time.monotonic() - began

    def _spawn(self) -> None:
        # Synapse's default mode (`--generate-missing-and-run`, which its second argument parser
        # rejects when given explicitly) writes the signing key if it is missing, then runs: the
        # same as a separate `--generate-keys` step, without a second interpreter start-up.
        args = ["-c", str(self.config_path)]
        out = self.output_path.open("wb")  # this attempt's output only: it goes into errors
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *args],
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: Ctrl-C of the tests doesn't hit it
            )
        finally:
            out.close()
        _live.add(self)

    async def _wait_ready(self, deadline: float) -> None:
        session = self._http()
        url = f"{self.url}/_matrix/client/versions"
        while True:
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                raise SynapseError(
                    f"Synapse exited with code {code} during start-up.\n{self.log_tail()}"
                )
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return
            if time.monotonic() > deadline:
                raise SynapseError(
                    f"Synapse did not answer on {url} within {self.start_timeout:.0f} s.\n"
                    f"{self.log_tail()}"
                )
            await asyncio.sleep(0.1)

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, wait, SIGKILL if it lingers. Safe to call twice."""
        if self._proc is not None:
            self._signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self._proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            self._kill()
        await self._close_session()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _signal(self, sig: int) -> None:
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    def _kill(self, grace: float = 0.0) -> None:
        """Synchronous last resort (also used at exit): TERM, wait ``grace``, then KILL."""
        if self._proc is None:
            return
        if grace and self._proc.poll() is None:
            self._signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(grace)
        if self._proc.poll() is None:  # once reaped, its pid (and group id) may be reused
            self._signal(signal.SIGKILL)
            self._proc.wait()
        self._proc = None
        _live.discard(self)

    async def __aenter__(self) -> LocalSynapse:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # Requests

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def register_user(
        self,
        localpart: str,
        password: str,
        admin: bool = False,
        displayname: str | None = None,
    ) -> tuple[str, str]:
        """Create a user with the shared-secret admin API; return (user_id, access_token)."""
        url = f"{self.url}/_synapse/admin/v1/register"
        session = self._http()
        async with session.get(url) as resp:
            nonce = (await resp.json())["nonce"]
        message = b"\x00".join(
            [
                nonce.encode(),
                localpart.encode(),
                password.encode(),
                b"admin" if admin else b"notadmin",
            ]
        )
        mac = hmac.new(self.shared_secret.encode(), message, hashlib.sha1).hexdigest()
        body: dict[str, Any] = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac,
        }
        if displayname is not None:
            body["displayname"] = displayname
        async with session.post(url, json=body) as resp:
            data = await resp.json()
            if resp.status != 200:
                raise SynapseError(f"registering {localpart!r} failed: HTTP {resp.status} {data}")
        return data["user_id"], data["access_token"]


# Every started server, killed at interpreter exit if nobody stopped it.
_live: set[LocalSynapse] = set()


@atexit.register
def _kill_all() -> None:
    for hs in list(_live):
        hs._kill(grace=3.0)
        if hs._own_dir:
            shutil.rmtree(hs.data_dir, ignore_errors=True)


async def _serve(args: argparse.Namespace) -> None:
    hs = LocalSynapse(
        args.dir, registrations=args.registration, server_name=args.server_name, port=args.port
    )
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    async with hs:
        line = {
            "url": hs.url,
            "server_name": hs.server_name,
            "data_dir": str(hs.data_dir),
            "registration_shared_secret": hs.shared_secret,
            "pid": hs.pid,
            "startup_seconds": round(hs.startup_seconds or 0, 2),
        }
        print(json.dumps(line), flush=True)
        await stopped.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a sandbox Synapse until SIGINT/SIGTERM.")
    parser.add_argument("--dir", required=True, help="data dir (created, kept and reused)")
    parser.add_argument(
        "--registration", action="append", default=[], help="appservice registration YAML"
    )
    parser.add_argument("--server-name", default=DEFAULT_SERVER_NAME)
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except SynapseError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main()
