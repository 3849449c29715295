"""Gateway v10 websocket endpoint (to be written: see the sandbox issue)."""

from aiohttp import web


async def handle_gateway(request: web.Request) -> web.StreamResponse:
    """Serve one gateway connection. Placeholder until the gateway lands."""
    raise web.HTTPNotImplemented(text="gateway not written yet")
