"""HTTP control API to act on the emulator as Discord users and admins, and to inject faults.

JSON in and out, no auth, answered only to loopback clients. Every endpoint is listed with curl
examples in ``README.md`` next to this module (section CONTROL_API). From Python, call the
store's methods directly (``emulator.store``) and the gateway faults on
``get_hub(emulator.app)``; :mod:`.control_client` wraps this HTTP API for other processes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .control_common import Route, body, control_handler, emulator_of, ok, optional_id, store_of
from .control_messages import MESSAGE_ROUTES
from .control_routes import ENTITY_ROUTES
from .events import Intents
from .gateway import get_hub, install_hub, shutdown_gateway
from .gateway_store import emit_thread_list_sync


def add_control_routes(app: web.Application, prefix: str = "/_control") -> None:
    """Mount the control API under ``prefix`` (and give ``app`` its gateway hub)."""
    install_hub(app)
    app.on_shutdown.append(shutdown_gateway)
    for method, path, handler in [*ENTITY_ROUTES, *MESSAGE_ROUTES, *ROUTES]:
        app.router.add_route(method, prefix + path, handler)


# ---- state, sample, raw events ---------------------------------------------------------------


@control_handler
async def state(request: web.Request) -> web.Response:
    """A summary: URLs, bots with tokens, guilds with their channels."""
    emulator, store = emulator_of(request), store_of(request)
    bots = [
        {
            "user_id": str(app.bot_id),
            "username": store.users[app.bot_id].username,
            "application_id": str(app.id),
            "token": app.token,
            "privileged_intents": int(app.privileged_intents),
        }
        for app in store.applications.values()
    ]
    guilds = [
        {
            "id": str(guild.id),
            "name": guild.name,
            "member_count": len(guild.members),
            "channels": [
                {"id": str(c.id), "name": c.name, "type": c.type}
                for c in (store.channels[cid] for cid in guild.channel_ids)
            ],
        }
        for guild in store.guilds.values()
    ]
    return ok(
        {
            "api_url": emulator.api_url,
            "gateway_url": emulator.gateway_url,
            "cdn_url": emulator.cdn_url,
            "bots": bots,
            "guilds": guilds,
            "users": len(store.users),
            "messages": len(store.messages),
        }
    )


@control_handler
async def build_sample(request: web.Request) -> web.Response:
    """Build the sample community (see :mod:`.sample`); returns its ids."""
    from .sample import build_sample_community

    data = await body(request)
    ids = build_sample_community(store_of(request), bot_token=data.get("bot_token"))
    return ok(ids.as_json(), 201)


@control_handler
async def dispatch_raw(request: web.Request) -> web.Response:
    """Emit any gateway dispatch: ``{"t", "d", "guild_id"?, "intent"?}`` (intent: a name)."""
    data = await body(request)
    intent = Intents[data["intent"]] if data.get("intent") else None
    guild_id = optional_id(data, "guild_id")
    store_of(request).events.emit(data["t"], data["d"], guild_id=guild_id, intent=intent)
    return ok()


@control_handler
async def thread_list_sync(request: web.Request) -> web.Response:
    data = await body(request)
    channel_ids = [int(c) for c in data["channel_ids"]] if "channel_ids" in data else None
    guild_id = int(request.match_info["guild_id"])
    return ok(emit_thread_list_sync(store_of(request), guild_id, channel_ids))


# ---- faults --------------------------------------------------------------------------------


def _rest_faults(request: web.Request) -> dict[str, Any]:
    faults = emulator_of(request).faults
    return {
        "delay": faults.delay,
        "rules": [
            {
                "status": r.status,
                "count": r.count,
                "pattern": r.pattern,
                "retry_after": r.retry_after,
                "via": r.via,
            }
            for r in faults.rules
        ],
    }


@control_handler
async def get_faults(request: web.Request) -> web.Response:
    return ok({"rest": _rest_faults(request), "gateway": get_hub(request.app).status()})


@control_handler
async def set_rest_faults(request: web.Request) -> web.Response:
    """``{"delay": s}`` and/or ``{"fail": {"status", "count", "pattern", "retry_after"?,
    "via"?}}`` (429 and 204: see :class:`.faults.FaultRule`)."""
    data, faults = await body(request), emulator_of(request).faults
    if "delay" in data:
        faults.delay = max(0.0, float(data["delay"]))
    fail = data.get("fail")
    if fail is not None:
        count = fail.get("count", 1)
        retry_after = fail.get("retry_after")
        faults.fail_next(
            None if count is None else int(count),
            int(fail.get("status", 500)),
            fail.get("pattern"),
            retry_after=None if retry_after is None else float(retry_after),
            via=bool(fail.get("via", False)),
        )
    return ok(_rest_faults(request))


@control_handler
async def clear_rest_faults(request: web.Request) -> web.Response:
    emulator_of(request).faults.clear()
    return ok(_rest_faults(request))


@control_handler
async def gateway_status(request: web.Request) -> web.Response:
    return ok(get_hub(request.app).status())


@control_handler
async def gateway_drop(request: web.Request) -> web.Response:
    """``{"code": 4000, "abort": false, "expire": false}``; see ``GatewayHub.drop_connections``."""
    data = await body(request)
    dropped = await get_hub(request.app).drop_connections(
        int(data.get("code", 4000)),
        abort=bool(data.get("abort", False)),
        expire=bool(data.get("expire", False)),
    )
    return ok({"dropped": dropped})


@control_handler
async def gateway_reconnect(request: web.Request) -> web.Response:
    return ok({"sent": get_hub(request.app).send_reconnect()})


@control_handler
async def gateway_invalidate(request: web.Request) -> web.Response:
    data = await body(request)
    sent = get_hub(request.app).invalidate_sessions(bool(data.get("resumable", False)))
    return ok({"sent": sent})


@control_handler
async def gateway_dispatch(request: web.Request) -> web.Response:
    """Send ``{"t", "d"}`` as it is (``d`` any JSON) to every connected gateway session."""
    data = await body(request)
    if not isinstance(data.get("t"), str):
        raise ValueError("t must be the dispatch's type, a string")
    sessions = get_hub(request.app).dispatch_raw(data["t"], data.get("d"))
    return ok({"sessions": sessions})


@control_handler
async def gateway_delay(request: web.Request) -> web.Response:
    data = await body(request)
    hub = get_hub(request.app)
    hub.set_dispatch_delay(float(data.get("seconds", 0)))
    return ok({"dispatch_delay": hub.dispatch_delay})


ROUTES: list[Route] = [
    ("GET", "/state", state),
    ("POST", "/sample", build_sample),
    ("POST", "/dispatch", dispatch_raw),
    ("POST", "/guilds/{guild_id}/thread-list-sync", thread_list_sync),
    ("GET", "/faults", get_faults),
    ("POST", "/faults/rest", set_rest_faults),
    ("DELETE", "/faults/rest", clear_rest_faults),
    ("GET", "/gateway", gateway_status),
    ("POST", "/faults/gateway/drop", gateway_drop),
    ("POST", "/faults/gateway/reconnect", gateway_reconnect),
    ("POST", "/faults/gateway/invalidate", gateway_invalidate),
    ("POST", "/faults/gateway/delay", gateway_delay),
    ("POST", "/gateway/dispatch", gateway_dispatch),
]
