"""The provisioning API: the admin actions over HTTP, under ``/_matrix/provision/v1`` on the
appservice's port, for tools that manage the bridge.

Routes only: each reads its input (:mod:`.provisioning_input`), calls an admin action and
answers JSON. Every request needs ``Authorization: Bearer <bridge.provisioning.shared_secret>``
(401 without it, 403 with a wrong one) except ``GET /openapi.yaml``, the API's description
(``provisioning.openapi.yaml`` beside this module). Errors are ``{"errcode", "error"}``.
Discord IDs are strings in JSON. With an empty secret the routes are not added at all.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aiohttp import web

from ..actions.admin import bridging, info
from ..actions.admin.imports import ImportJob
from ..actions.admin.services import ActionError, Actor, AdminServices
from ..migration.progress import migration_report, report_json
from .provisioning_input import (
    BadRequest,
    flag,
    parse_body,
    room_id_field,
    since_field,
    snowflake,
    snowflake_field,
)

log = logging.getLogger("bridge.web.provisioning")

PREFIX = "/_matrix/provision/v1"
OPENAPI_FILE = Path(__file__).with_name("provisioning.openapi.yaml")
ACTOR = Actor("provisioning")
# ActionError's status → errcode (502: Discord failed; anything else is M_UNKNOWN too).
ERRCODES = {400: "M_INVALID_PARAM", 404: "M_NOT_FOUND", 409: "M_BAD_STATE"}

ServicesSource = Callable[[], AdminServices | None]
Handler = Callable[[web.Request, AdminServices], Awaitable[web.Response]]


def error_response(status: int, errcode: str, message: str, **headers: str) -> web.Response:
    """The API's error shape: ``{"errcode": "M_…", "error": "what went wrong and what to do"}``."""
    return web.json_response({"errcode": errcode, "error": message}, status=status, headers=headers)


def add_provisioning_routes(app: web.Application, secret: str, services: ServicesSource) -> bool:
    """Add the API's routes to the appservice's app when ``secret`` is set (else none: 404).

    Must run before the app's runner is set up (aiohttp then freezes the router); ``services``
    returns the admin services, or None while the bridge starts (then the API answers 503).
    Returns whether the API is on.
    """
    if not secret:
        return False
    ProvisioningAPI(secret, services).add_routes(app)
    return True


class ProvisioningAPI:
    """The provisioning routes, checking the shared secret and mapping errors to JSON."""

    def __init__(self, secret: str, services: ServicesSource) -> None:
        self.secret = secret.encode()
        self._services = services

    def add_routes(self, app: web.Application) -> None:
        """Every route under :data:`PREFIX` (``GET`` routes answer no ``HEAD``)."""
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/guilds", self.list_guilds),
            ("POST", "/guilds/{guild_id}/bridge", self.bridge_guild),
            ("POST", "/guilds/{guild_id}/sync", self.sync_guild),
            ("POST", "/guilds/{guild_id}/unbridge", self.unbridge_guild),
            ("GET", "/guilds/{guild_id}/migration", self.migration),
            ("POST", "/channels/{channel_id}/bridge", self.bridge_channel),
            ("POST", "/channels/{channel_id}/unbridge", self.unbridge_channel),
            ("GET", "/status", self.status),
            ("POST", "/imports", self.start_import),
            ("GET", "/imports", self.list_imports),
            ("GET", "/imports/{import_id}", self.get_import),
            ("POST", "/imports/{import_id}/cancel", self.cancel_import),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, PREFIX + path, self._endpoint(handler))
        app.router.add_get(PREFIX + "/openapi.yaml", self.openapi, allow_head=False)

    def _endpoint(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """``handler`` behind the secret, once the bridge is ready, with errors as JSON."""

        async def handle(request: web.Request) -> web.Response:
            refused = self._refuse(request)
            if refused is not None:
                return refused
            services = self._services()
            if services is None:
                return error_response(
                    503, "M_NOT_READY", "The bridge is still starting; retry in a few seconds"
                )
            try:
                return await handler(request, services)
            except BadRequest as error:
                return error_response(400, error.errcode, str(error))
            except ActionError as error:
                return error_response(
                    error.status, ERRCODES.get(error.status, "M_UNKNOWN"), str(error)
                )
            except Exception:
                log.exception("Provisioning request %s %s failed", request.method, request.path)
                return error_response(
                    500, "M_UNKNOWN", "The bridge failed to do this; its log says why"
                )

        return handle

    def _refuse(self, request: web.Request) -> web.Response | None:
        """401 without a bearer token, 403 with a wrong one, None with the shared secret."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error_response(
                401,
                "M_MISSING_TOKEN",
                "Send the shared secret: Authorization: Bearer <bridge.provisioning.shared_secret>",
                **{"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(token.strip().encode(), self.secret):
            return error_response(
                403, "M_FORBIDDEN", "Wrong secret: use bridge.provisioning.shared_secret"
            )
        return None

    async def openapi(self, request: web.Request) -> web.Response:
        """The API's OpenAPI 3.1 description (no secret needed)."""
        return web.Response(text=OPENAPI_FILE.read_text("utf-8"), content_type="application/yaml")

    # ---- guilds and channels -----------------------------------------------------------

    async def list_guilds(self, request: web.Request, services: AdminServices) -> web.Response:
        guilds = await info.list_guilds(services)
        return web.json_response({"guilds": [guild_json(guild) for guild in guilds]})

    async def bridge_guild(self, request: web.Request, services: AdminServices) -> web.Response:
        guild_id = snowflake(request.match_info["guild_id"], "guild_id")
        body = parse_body(await request.read(), ["import"])
        with_import = flag(body, "import")
        outcome = await bridging.bridge_guild(services, guild_id, ACTOR)
        answer = bridge_json(outcome)
        if with_import:
            job = await services.imports.start(guild_id, actor=ACTOR)
            answer["import"] = job.to_json()
        return web.json_response(answer)

    async def sync_guild(self, request: web.Request, services: AdminServices) -> web.Response:
        guild_id = snowflake(request.match_info["guild_id"], "guild_id")
        parse_body(await request.read(), [])
        return web.json_response(bridge_json(await bridging.sync_guild(services, guild_id)))

    async def unbridge_guild(self, request: web.Request, services: AdminServices) -> web.Response:
        guild_id = snowflake(request.match_info["guild_id"], "guild_id")
        return await self._unbridge(request, services, guild_id, "guild")

    async def unbridge_channel(self, request: web.Request, services: AdminServices) -> web.Response:
        channel_id = snowflake(request.match_info["channel_id"], "channel_id")
        return await self._unbridge(request, services, channel_id, "channel")

    async def _unbridge(
        self, request: web.Request, services: AdminServices, target_id: int, kind: str
    ) -> web.Response:
        from ..actions.admin import unbridging

        body = parse_body(await request.read(), ["delete_rooms"])
        delete_rooms = flag(body, "delete_rooms")
        target = await unbridging.find_target(services, target_id)  # 404 when not bridged
        if target.kind != kind:
            raise BadRequest(
                f"{target_id} is a bridged {target.kind}, not a {kind}: "
                f"POST {PREFIX}/{target.kind}s/{target_id}/unbridge unbridges it"
            )
        outcome = await unbridging.unbridge(
            services, target_id, delete_rooms=delete_rooms, actor=ACTOR
        )
        return web.json_response(
            {
                "kind": outcome.kind,
                "target_id": str(outcome.target_id),
                "name": outcome.name,
                "rooms": outcome.rooms,
                "deleted": outcome.deleted,
            }
        )

    async def migration(self, request: web.Request, services: AdminServices) -> web.Response:
        """The guild's migration progress (bridge/migration/progress.py's report_json)."""
        guild_id = snowflake(request.match_info["guild_id"], "guild_id")
        return web.json_response(report_json(await migration_report(services, guild_id)))

    async def bridge_channel(self, request: web.Request, services: AdminServices) -> web.Response:
        from ..actions.admin import rooms

        channel_id = snowflake(request.match_info["channel_id"], "channel_id")
        room_id = room_id_field(parse_body(await request.read(), ["room_id"]), "room_id")
        outcome = await rooms.bridge_room(services, channel_id, room_id, ACTOR)
        return web.json_response(
            {
                "channel_id": str(outcome.channel_id),
                "name": outcome.name,
                "room_id": outcome.room_id,
                "guild_id": str(outcome.guild_id),
            }
        )

    async def status(self, request: web.Request, services: AdminServices) -> web.Response:
        from ..actions.admin import status

        raw = request.query.get("guild_id")
        guild_id = snowflake(raw, "guild_id") if raw is not None else None
        report = await status.status(services, guild_id)
        return web.json_response(report.to_json())

    # ---- imports -------------------------------------------------------------------------

    async def start_import(self, request: web.Request, services: AdminServices) -> web.Response:
        body = parse_body(await request.read(), ["target_id", "since", "replace_rooms"])
        target_id = snowflake_field(body, "target_id")
        since = since_field(body, "since")
        replace_rooms = flag(body, "replace_rooms")
        job = await services.imports.start(
            target_id, since=since, replace_rooms=replace_rooms, actor=ACTOR
        )
        answer = job.to_json()
        location = f"{PREFIX}/imports/{answer['id']}"
        return web.json_response(answer, status=202, headers={"Location": location})

    async def list_imports(self, request: web.Request, services: AdminServices) -> web.Response:
        return web.json_response({"imports": [job.to_json() for job in services.imports.all()]})

    async def get_import(self, request: web.Request, services: AdminServices) -> web.Response:
        return web.json_response(self._job(request, services).to_json())

    async def cancel_import(self, request: web.Request, services: AdminServices) -> web.Response:
        job_id = self._job(request, services).job_id
        stopped = await services.imports.cancel(job_id=job_id)
        job = self._job(request, services)
        if not stopped and job.state not in ("running", "cancelled"):
            raise ActionError(f"Import {job_id} is already {job.state}: nothing to cancel", 409)
        return web.json_response(job.to_json())

    def _job(self, request: web.Request, services: AdminServices) -> ImportJob:
        job_id = import_id(request)
        job = services.imports.get(job_id)
        if job is None:
            raise ActionError(
                f"There is no import with ID {job_id}; GET {PREFIX}/imports lists them", 404
            )
        return job


def import_id(request: web.Request) -> int:
    """The import job's ID from the path (a positive integer)."""
    raw = request.match_info["import_id"]
    if not (raw.isascii() and raw.isdigit()) or int(raw) == 0:
        raise BadRequest(f"import_id must be an import's ID (a positive integer), got {raw!r}")
    return int(raw)


def guild_json(guild: info.GuildInfo) -> dict[str, Any]:
    """A guild the bot is in, or a bridged one it has left."""
    return {
        "guild_id": str(guild.guild_id),
        "name": guild.name,
        "bridged": guild.bridged,
        "rooms": guild.room_count,
        "space_room_id": guild.space_room_id,
        "bot_in_guild": guild.bot_in_guild,
    }


def bridge_json(outcome: bridging.BridgeOutcome) -> dict[str, Any]:
    """A guild bridged or synced: its space and what the sync did."""
    answer = asdict(outcome)
    answer["guild_id"] = str(outcome.guild_id)
    answer["invited"] = list(outcome.invited)
    return answer
