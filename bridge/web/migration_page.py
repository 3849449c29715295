"""The migration page: per bridged guild, how far its members have moved to Matrix.

Served on the appservice's port (reached through ``bridge.public_address``) under
:data:`PREFIX`:

- ``GET {PREFIX}/``: the page (``static/migration.html``): no data in it, so no login needed;
  its script reads the credential from the address's fragment (``#secret=…`` or
  ``#openid=…&server=…``, never sent to the server nor logged), removes it from the address
  bar, and asks the JSON routes below with it.
- ``GET {PREFIX}/api/guilds``: ``{"viewer", "guilds": [{"guild_id", "name"}]}`` (bridged
  guilds by name; Discord IDs as strings).
- ``GET {PREFIX}/api/guilds/{guild_id}``: the guild's
  :func:`~bridge.migration.progress.report_json`.
- ``GET {PREFIX}/static/…``: the page's script and style, and the charting library once
  :mod:`bridge.web.assets` fetched it (without it the page shows tables only and says so).

The JSON routes need ``Authorization: Bearer <bridge.provisioning.shared_secret>`` or
``Authorization: OpenID <matrix_server_name> <access_token>`` with a Matrix OpenID token of a
user with the ``admin`` level in ``bridge.permissions`` (checked by :mod:`.openid`). No
credential: 401; a wrong one, or a user who is not an admin: 403. Errors are
``{"errcode", "error"}``, or a short HTML page for a browser that opened the route itself.
"""

from __future__ import annotations

import hmac
import html
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from ..actions.admin.services import ActionError, AdminServices
from ..migration.progress import migration_report, report_json
from ..permissions import Level, permission_level
from .openid import OpenIDRefused, OpenIDVerifier, admin_possible_on

log = logging.getLogger("bridge.web.migration_page")

PREFIX = "/_discord_bridge/migration"
STATIC_DIR = Path(__file__).with_name("static")
PAGE_FILE = "migration.html"
# The page loads nothing from elsewhere and runs no inline script; nobody may frame it.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
HOW_TO_SIGN_IN = (
    "Open the page with the shared secret (…/migration/#secret=<bridge.provisioning."
    "shared_secret>) or a Matrix OpenID token of a bridge admin (…/migration/#openid=<token>"
    "&server=<your server name>); API clients send Authorization: Bearer <secret> or "
    "Authorization: OpenID <server name> <token>"
)

ServicesSource = Callable[[], AdminServices | None]
Handler = Callable[[web.Request, AdminServices, str], Awaitable[web.Response]]


def add_migration_page_routes(
    app: web.Application,
    secret: str,
    services: ServicesSource,
    verifier: OpenIDVerifier,
    static_dir: Path = STATIC_DIR,
) -> None:
    """Add the page's routes to ``app`` (before its runner is set up: aiohttp then freezes
    the router). ``secret``: ``bridge.provisioning.shared_secret`` ("" accepts no secret, only
    admins' OpenID tokens); ``services`` returns None while the bridge starts (then 503);
    ``static_dir``: where ``migration.html`` and the files under ``static/`` are."""
    MigrationPage(secret, services, verifier, static_dir).add_routes(app)


def refusal(request: web.Request, status: int, errcode: str, message: str) -> web.Response:
    """An error as ``{"errcode", "error"}``, or as a short page for a browser that asked for
    HTML rather than JSON (someone who opened an API address)."""
    headers = dict(SECURITY_HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="discord-bridge migration page"'
    accept = request.headers.get("Accept", "")
    if "text/html" in accept and "application/json" not in accept:
        body = (
            "<!doctype html><meta charset=utf-8><title>Migration page: not signed in</title>"
            f"<h1>{status}: {html.escape(errcode)}</h1><p>{html.escape(message)}</p>"
            f'<p><a href="{PREFIX}/">Open the migration page</a></p>'
        )
        return web.Response(status=status, text=body, content_type="text/html", headers=headers)
    return web.json_response({"errcode": errcode, "error": message}, status=status, headers=headers)


class MigrationPage:
    """The page's routes, behind the shared secret or an admin's OpenID token."""

    def __init__(
        self,
        secret: str,
        services: ServicesSource,
        verifier: OpenIDVerifier,
        static_dir: Path = STATIC_DIR,
    ) -> None:
        self.secret = secret.encode()
        self._services = services
        self.verifier = verifier
        self.static_dir = static_dir

    def add_routes(self, app: web.Application) -> None:
        """The page, its static files and its two JSON routes."""
        app.router.add_get(PREFIX + "/", self.page, allow_head=False)
        app.router.add_get(PREFIX + "/api/guilds", self._endpoint(self.guilds), allow_head=False)
        app.router.add_get(
            PREFIX + "/api/guilds/{guild_id}", self._endpoint(self.report), allow_head=False
        )
        app.router.add_static(PREFIX + "/static", self.static_dir, append_version=False)

    async def page(self, request: web.Request) -> web.Response:
        """The page itself (static HTML: its script asks for the data)."""
        return web.Response(
            text=(self.static_dir / PAGE_FILE).read_text("utf-8"),
            content_type="text/html",
            headers=SECURITY_HEADERS,
        )

    def _endpoint(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """``handler`` behind the credential check, once the bridge is ready."""

        async def handle(request: web.Request) -> web.Response:
            services = self._services()
            viewer = await self._viewer(request, services)
            if isinstance(viewer, web.Response):
                return viewer
            if services is None:
                return refusal(
                    request, 503, "M_NOT_READY", "The bridge is still starting; retry shortly"
                )
            try:
                response = await handler(request, services, viewer)
            except ActionError as error:
                errcode = "M_NOT_FOUND" if error.status == 404 else "M_UNKNOWN"
                return refusal(request, error.status, errcode, str(error))
            except Exception:
                log.exception("Migration page request %s failed", request.path)
                return refusal(
                    request, 500, "M_UNKNOWN", "The bridge failed to answer; its log says why"
                )
            response.headers.update(SECURITY_HEADERS)
            return response

        return handle

    async def _viewer(
        self, request: web.Request, services: AdminServices | None
    ) -> str | web.Response:
        """Who asks ("the provisioning secret" or an admin's MXID), or the refusal to answer."""
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        scheme, credential = scheme.lower(), credential.strip()
        if scheme == "bearer" and credential:
            if self.secret and hmac.compare_digest(credential.encode(), self.secret):
                return "the provisioning secret"
            return refusal(
                request, 403, "M_FORBIDDEN", "Wrong secret: use bridge.provisioning.shared_secret"
            )
        if scheme == "openid" and credential:
            return await self._openid_admin(request, services, credential)
        return refusal(request, 401, "M_MISSING_TOKEN", HOW_TO_SIGN_IN)

    async def _openid_admin(
        self, request: web.Request, services: AdminServices | None, credential: str
    ) -> str | web.Response:
        server_name, _, token = credential.partition(" ")
        if services is None:
            return refusal(
                request, 503, "M_NOT_READY", "The bridge is still starting; retry shortly"
            )
        permissions = services.config["bridge.permissions"]
        if not admin_possible_on(server_name, permissions):
            return refusal(
                request, 403, "M_FORBIDDEN", f"No bridge admin is on {server_name or '(none)'}"
            )
        try:
            mxid = await self.verifier.user_of(server_name, token.strip())
        except OpenIDRefused as error:
            return refusal(request, error.status, "M_FORBIDDEN", str(error))
        if permission_level(mxid, permissions) < Level.ADMIN:
            return refusal(
                request, 403, "M_FORBIDDEN", f"{mxid} is not a bridge admin (bridge.permissions)"
            )
        return mxid

    async def guilds(
        self, request: web.Request, services: AdminServices, viewer: str
    ) -> web.Response:
        """The bridged guilds, by name, for the page's picker."""
        rows = sorted(
            await services.tables.guilds.find(), key=lambda g: (g.name.lower(), g.discord_id)
        )
        return web.json_response(
            {
                "viewer": viewer,
                "guilds": [{"guild_id": str(row.discord_id), "name": row.name} for row in rows],
            }
        )

    async def report(
        self, request: web.Request, services: AdminServices, viewer: str
    ) -> web.Response:
        """One guild's migration report (404 when the guild is not bridged)."""
        raw = request.match_info["guild_id"]
        if not raw.isdecimal() or len(raw) > 20:
            return refusal(request, 400, "M_INVALID_PARAM", f"Not a Discord guild ID: {raw!r}")
        report = await migration_report(services, int(raw))
        return web.json_response(report_json(report))
