"""A stand-in for the bridge's HTTP server while doctor runs, when the bridge is not running.

It answers the homeserver's ping (POST /_matrix/app/v1/ping, checking hs_token like the
bridge: 401 without, 403 with a wrong one) and the public probe route, on
appservice.hostname:appservice.port. When that port is taken, the running bridge answers.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from ..config import Config
from ..matrix.appservice import hs_token_middleware
from ..web.probe import add_probe_route


def port_is_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now (False: something, e.g. the bridge, listens)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


async def _ping(_: web.Request) -> web.Response:
    return web.json_response({})


def stand_in_app(config: Config) -> web.Application:
    """The stand-in's routes: the appservice ping and the public probe."""
    app = web.Application(
        middlewares=[hs_token_middleware(config["appservice.hs_token"], lambda: False)]
    )
    app.router.add_post("/_matrix/app/v1/ping", _ping)
    add_probe_route(app, config["appservice.id"])
    return app


@asynccontextmanager
async def bridge_listener(config: Config) -> AsyncIterator[str]:
    """Listen as the bridge for the block, unless something already does.

    Yields a note for people: who answers (doctor's stand-in or the running bridge).
    Raises OSError when the address cannot be bound for another reason than being taken.
    """
    host, port = config["appservice.hostname"], config["appservice.port"]
    if not port_is_free(host, port):
        yield f"{host}:{port} is taken: the running bridge answers"
        return
    runner = web.AppRunner(stand_in_app(config), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield f"doctor answered on {host}:{port} in the bridge's place"
    finally:
        await runner.cleanup()
