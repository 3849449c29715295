"""The Discord emulator as one aiohttp application: REST under ``/api/v10``, CDN, gateway and
control API, on a loopback port."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from . import cdn, control, errors, gateway
from .appkeys import EMULATOR
from .faults import FaultSettings
from .ratelimit import RateLimitConfig, RateLimiter
from .rest import add_rest_routes
from .rest.common import BOT_USER, json_response
from .store import Store

API_PREFIX = "/api/v10"

#: Routes reachable without a bot token (webhook tokens and interaction tokens authorise them).
_PUBLIC_PREFIXES = ("/webhooks/{webhook_id}/{webhook_token}", "/interactions/", "/gateway")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RecordedResponse:
    """One REST answer, for tests that validate every response against the OpenAPI schema."""

    method: str
    route: str  # template as in the OpenAPI paths, e.g. /channels/{channel_id}/messages
    status: int
    body: Any  # decoded JSON, or None


class DiscordEmulator:
    """Holds the :class:`Store` and serves it.

    ``rate_limits`` and ``faults`` can be changed while running; ``recorders`` are called with
    every REST answer.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        rate_limits: RateLimitConfig | None = None,
        faults: FaultSettings | None = None,
    ) -> None:
        self.store = store or Store()
        self.ratelimiter = RateLimiter(rate_limits)
        self.faults = faults or FaultSettings()
        self.recorders: list[Callable[[RecordedResponse], None]] = []
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self._base = ""

    @property
    def rate_limits(self) -> RateLimitConfig:
        return self.ratelimiter.config

    def _build_app(self) -> web.Application:
        # Uploads are limited by the store's max_file_size (413 / 40005), not by aiohttp.
        api = web.Application(
            middlewares=[
                self._record_mw,
                self._error_mw,
                self._fault_mw,
                self._auth_mw,
                self._ratelimit_mw,
            ],
            client_max_size=1024**3,
        )
        add_rest_routes(api)
        app = web.Application(client_max_size=1024**3)
        app[EMULATOR] = self
        api[EMULATOR] = self
        app.add_subapp(API_PREFIX, api)
        app.router.add_get("/gateway", gateway.handle_gateway)
        cdn.add_cdn_routes(app)
        control.add_control_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self._base = f"{host}:{bound_port}"
        self.store.cdn_url = self.cdn_url
        self.store.api_url = self.api_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self._base}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self._base}/gateway"

    @property
    def cdn_url(self) -> str:
        return self.base_url

    # ---- middlewares ---------------------------------------------------------------------

    @staticmethod
    def _template(request: web.Request) -> str:
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        return canonical.removeprefix(API_PREFIX)

    @web.middleware
    async def _record_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if self.recorders and isinstance(response, web.Response):
            body = None
            if isinstance(response.body, bytes) and response.content_type == "application/json":
                body = json.loads(response.body)
            record = RecordedResponse(
                request.method, self._template(request), response.status, body
            )
            for recorder in list(self.recorders):
                recorder(record)
        return response

    @web.middleware
    async def _error_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except errors.DiscordError as exc:
            return json_response(exc.body(), exc.status)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return json_response({"message": f"{exc.status}: {exc.reason}", "code": 0}, exc.status)

    @web.middleware
    async def _fault_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        rule = self.faults.take(request.method, request.path.removeprefix(API_PREFIX))
        if rule is None:
            return await handler(request)
        if rule.status == 204:  # done, but answered without a body (``wait`` ignored)
            await handler(request)
            return web.Response(status=204)
        if rule.status == 429:
            retry = rule.retry_after if rule.retry_after is not None else 0.1
            limited = {"message": "You are being rate limited.", "retry_after": retry}
            response = json_response({**limited, "global": False, "code": 0}, 429)
            response.headers["Retry-After"] = str(math.ceil(retry))
            response.headers["X-RateLimit-Reset-After"] = f"{retry:.3f}"
            response.headers["X-RateLimit-Scope"] = "user"
            if rule.via:
                response.headers["Via"] = "1.1 google"
            return response
        body = {"message": f"{rule.status}: {_reason(rule.status)}", "code": 0}
        return json_response(body, rule.status)

    @web.middleware
    async def _auth_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        template = self._template(request)
        auth = request.headers.get("Authorization", "")
        user = self.store.authenticate(auth) if auth else None
        if user is not None:
            request[BOT_USER] = user
        elif not template.startswith(_PUBLIC_PREFIXES):
            raise errors.unauthorized()
        return await handler(request)

    @web.middleware
    async def _ratelimit_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        template = self._template(request)
        who = request.headers.get("Authorization", "") or request.match_info.get(
            "webhook_token", ""
        )
        is_webhook = template.startswith(
            ("/webhooks/{webhook_id}/{webhook_token}", "/interactions/")
        )
        decision = self.ratelimiter.check(
            who, request.method, template, dict(request.match_info), use_global=not is_webhook
        )
        response: web.StreamResponse
        if decision.retry_after is not None:
            body = {
                "message": "You are being rate limited.",
                "retry_after": round(decision.retry_after, 3),
                "global": decision.is_global,
                "code": 0,
            }
            response = json_response(body, 429)
            # discord.py takes a 429 without Via for a Cloudflare ban; Discord's API sends it.
            response.headers["Via"] = "1.1 google"
        else:
            try:
                response = await handler(request)
            except errors.DiscordError as exc:
                response = json_response(exc.body(), exc.status)
        response.headers.update(decision.headers)
        return response


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
