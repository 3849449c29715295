"""Keys under which the emulator keeps its objects in the aiohttp application.

A module of its own so that ``gateway``, ``control`` and the REST routes can import the key
without importing ``server`` (which imports them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .server import DiscordEmulator

#: The running :class:`~bridge.sandbox.discord.server.DiscordEmulator`; ``request.app[EMULATOR]``.
EMULATOR: web.AppKey[DiscordEmulator] = web.AppKey("discord_emulator")
