"""REST routes of Discord's HTTP API v10, one module per area, mounted under ``/api/v10``.

aiohttp route templates are written exactly as the OpenAPI paths, so that a response can be
matched with its schema by the route it came from.
"""

from aiohttp import web

from . import (
    bans,
    channels,
    expressions,
    guilds,
    interactions,
    members,
    messages,
    polls,
    reactions,
    threads,
    users,
    webhooks,
)


def add_rest_routes(app: web.Application) -> None:
    for module in (
        users,
        guilds,
        members,
        bans,
        expressions,
        channels,
        reactions,  # before messages: /messages/pins is not /messages/{message_id}
        messages,
        polls,
        threads,
        webhooks,
        interactions,
    ):
        module.add_routes(app.router)
