"""What a new admin is told at start-up: failures worded with the config key to look at, and
how to bridge a first guild."""

from __future__ import annotations

import errno
import shutil
import sys
from pathlib import Path

#: The console script pyproject.toml installs ([project.scripts]).
CONSOLE_SCRIPT = "discord-matrix-bridge"


def no_guild_yet(bot_mxid: str, command_prefix: str) -> str:
    """The log line when no guild is bridged and ``bridge.guilds`` is empty (not an error).

    Discord's guild ids: Developer Mode (User Settings → Advanced), then "Copy Server ID" in
    the server's menu (Discord support article "Where can I find my User/Server/Message ID?").
    """
    return (
        "No guild is bridged yet and bridge.guilds is empty. To bridge one, put its ID in "
        "bridge.guilds and restart (in Discord: User Settings → Advanced → Developer Mode, "
        "then right-click the server's icon → Copy Server ID), or write `bridge <guild ID>` "
        f"to {bot_mxid} in a direct chat (`{command_prefix} bridge <guild ID>` in other rooms; "
        "`guilds` lists the guilds the bot is in)."
    )


def invoked_command(argv0: str | None = None) -> str:
    """How the user started the bridge (``argv0``, default ``sys.argv[0]``), for the commands
    that hints suggest: the console script (by name when that name on PATH finds it, else as
    it was run, e.g. ``.venv/bin/discord-matrix-bridge``), else ``python -m bridge``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    if Path(argv0).name != CONSOLE_SCRIPT:
        return "python -m bridge"  # argv0 is bridge/__main__.py (or a test runner)
    on_path = shutil.which(CONSOLE_SCRIPT)
    if on_path is not None and Path(on_path).resolve() == Path(argv0).resolve():
        return CONSOLE_SCRIPT
    return argv0


class ListenFailed(OSError):
    """A listener (appservice or metrics) could not be opened; ``strerror`` says why, with the keys."""

    def __str__(self) -> str:
        return str(self.strerror)


def listen_failure(error: OSError, hostname: str, port: int) -> ListenFailed:
    """``error`` from binding the appservice's listener, reworded with the keys to check.

    "Address already in use" (EADDRINUSE) most often means the bridge, or an import (which
    runs the bridge), is already running. The result keeps the errno, so the CLI prints it
    as one line like other OSErrors.
    """
    return _listen_failure(
        error,
        f"{hostname}:{port} (appservice.hostname, appservice.port)",
        "choose another appservice.port and change appservice.address to match, then "
        "regenerate the registration with -g.",
    )


def metrics_listen_failure(error: OSError, listen_address: str) -> ListenFailed:
    """``error`` from binding the metrics listener (``listen_address``, "host:port"),
    worded like listen_failure's but naming ``metrics.listen_address``."""
    return _listen_failure(
        error,
        f"{listen_address} (metrics.listen_address)",
        "choose another port in metrics.listen_address, or set metrics.enabled to false.",
    )


def _listen_failure(error: OSError, where: str, other_port: str) -> ListenFailed:
    """The one-line failure for a listener at ``where`` (address and its keys); ``other_port``
    says how to move away from another program holding the port."""
    if error.errno == errno.EADDRINUSE:
        return ListenFailed(
            error.errno,
            f"cannot listen on {where}: the address is already in use. The bridge, or an "
            "import (which runs the bridge), may already be running: stop it first. If "
            f"another program uses the port, {other_port}",
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return ListenFailed(
            error.errno,
            f"cannot listen on {where}: no network interface of this machine has that "
            "address; use 127.0.0.1, or 0.0.0.0 inside a container.",
        )
    return ListenFailed(error.errno, f"cannot listen on {where}: {error.strerror or error}")
