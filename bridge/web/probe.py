"""``GET /_discord_bridge/ping``: a public route saying "this is that bridge".

``doctor`` fetches it through ``bridge.public_address`` to check that the reverse proxy
passes the bridge's public paths (``/_discord_bridge/…``) to the bridge. The answer names the
appservice id, so a proxy pointing at another bridge is told apart. Nothing secret in it.
"""

from __future__ import annotations

from aiohttp import web

PATH = "/_discord_bridge/ping"
BRIDGE_NAME = "discord-matrix-bridge"


def probe_body(appservice_id: str) -> dict[str, str]:
    """The JSON the route answers: ``{"bridge": BRIDGE_NAME, "appservice_id": id}``."""
    return {"bridge": BRIDGE_NAME, "appservice_id": appservice_id}


def add_probe_route(app: web.Application, appservice_id: str) -> None:
    """Add GET PATH to ``app``, answering probe_body(appservice_id) with 200."""

    async def answer(_: web.Request) -> web.Response:
        return web.json_response(probe_body(appservice_id))

    app.router.add_get(PATH, answer)
