"""What a new admin is told at start-up: failures worded with the config key to look at, and
how to bridge a first guild."""

from __future__ import annotations

import errno


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


class ListenFailed(OSError):
    """The appservice's listener could not be opened; ``strerror`` says why, with the keys."""

    def __str__(self) -> str:
        return str(self.strerror)


def listen_failure(error: OSError, hostname: str, port: int) -> ListenFailed:
    """``error`` from binding the appservice's listener, reworded with the keys to check.

    "Address already in use" (EADDRINUSE) most often means the bridge, or an import (which
    runs the bridge), is already running. The result keeps the errno, so the CLI prints it
    as one line like other OSErrors.
    """
    where = f"{hostname}:{port} (appservice.hostname, appservice.port)"
    if error.errno == errno.EADDRINUSE:
        return ListenFailed(
            error.errno,
            f"cannot listen on {where}: the address is already in use. The bridge, or an "
            "import (which runs the bridge), may already be running: stop it first. If "
            "another program uses the port, choose another appservice.port and change "
            "appservice.address to match, then regenerate the registration with -g.",
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return ListenFailed(
            error.errno,
            f"cannot listen on {where}: no network interface of this machine has that "
            "address; use 127.0.0.1, or 0.0.0.0 inside a container.",
        )
    return ListenFailed(error.errno, f"cannot listen on {where}: {error.strerror or error}")
