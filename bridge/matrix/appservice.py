"""The appservice HTTP server (mautrix AppService) with the bridge's extra safeguards.

Beyond mautrix:
- a request with a wrong ``hs_token`` gets 403 as the spec says (mautrix answers 401 to both
  missing and wrong tokens);
- handled transaction ids are kept in the database, so a transaction the homeserver retries
  after a restart is not handled twice;
- events to relay are kept in the database (``matrix_inbox``) before the transaction is
  acknowledged, and leave it once relayed: acknowledging at once loses nothing in a crash,
  and one slow room never holds back the homeserver's pushes for the others;
- the bridge's own events, echoed back, are dropped before they are parsed;
- a transaction may be as large as a homeserver sends (100 PDUs of 64 KiB and EDUs: mautrix's
  aiohttp app took 1 MiB and answered 413, which the homeserver retries forever); a body that
  is not JSON, or not a JSON object, gets 400 (M_NOT_JSON, M_BAD_JSON), never 500;
- every intent's requests wait out a homeserver outage inside
  :func:`~bridge.matrix.homeserver_wait.patiently` (the Discord → Matrix relay).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from mautrix.appservice import AppService

from ..config import Config
from ..db.connect import OpenDatabase
from ..db.rows import MatrixInboxRow
from .homeserver_wait import HomeserverWait, PatientAppServiceAPI
from .state_store import CachedStateStore

if TYPE_CHECKING:
    from ..metrics import BridgeMetrics

log = logging.getLogger("bridge.matrix")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The homeserver retries a failed transaction for hours; a week is plenty.
TRANSACTION_MEMORY_MS = 7 * 24 * 3600 * 1000
# Bytes: the largest request body read. A transaction holds at most 100 PDUs of at most
# 64 KiB each, plus EDUs (typing, receipts, presence) and to-device events: 64 MiB is ample.
MAX_REQUEST_BYTES = 64 * 1024 * 1024
# Lists a transaction body may hold (mautrix iterates them).
TRANSACTION_LISTS = ("events", "ephemeral", "to_device", "de.sorunome.msc2409.ephemeral")


def _matrix_error(status: int, errcode: str, message: str) -> web.Response:
    body = json.dumps({"errcode": errcode, "error": message})
    return web.Response(status=status, text=body, content_type="application/json")


def hs_token_middleware(
    hs_token: str,
    stopping: Callable[[], bool],
    until_ready: Callable[[], Awaitable[bool]] | None = None,
) -> Any:
    """Reject appservice API calls that lack the homeserver's token (401) or get it wrong
    (403), and transactions while the bridge stops (503: the homeserver retries later).

    ``until_ready`` (if given) holds a transaction until the bridge can handle it; False means
    the bridge began to stop meanwhile: 503, and the homeserver keeps the transaction.
    """

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(("/_matrix/app/", "/transactions/", "/users/", "/rooms/")):
            return await handler(request)
        if stopping() and "/transactions/" in request.path:
            return _matrix_error(503, "M_UNKNOWN", "The bridge is stopping; retry later")
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        token = token or request.query.get("access_token")
        if not token:
            return _matrix_error(401, "M_MISSING_TOKEN", "Missing access token")
        if not hmac.compare_digest(token.encode(), hs_token.encode()):
            return _matrix_error(403, "M_FORBIDDEN", "Bad token supplied")
        transaction = until_ready is not None and "/transactions/" in request.path
        if transaction and not await until_ready():  # type: ignore[misc]
            return _matrix_error(503, "M_UNKNOWN", "The bridge is stopping; retry later")
        return await handler(request)

    return check_token


def _bad_request(errcode: str, message: str) -> web.HTTPBadRequest:
    body = json.dumps({"errcode": errcode, "error": message})
    return web.HTTPBadRequest(text=body, content_type="application/json")


def parse_transaction(body: bytes) -> dict[str, Any]:
    """A transaction body (bytes, as read) as a JSON object, or 400: ``M_NOT_JSON`` when it
    is not JSON (or too deeply nested to parse), ``M_BAD_JSON`` when it is JSON but not an
    object, or one of its event lists is not a list."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
        raise _bad_request("M_NOT_JSON", f"Body is not JSON: {type(error).__name__}") from None
    if not isinstance(data, dict):
        raise _bad_request("M_BAD_JSON", "A transaction must be a JSON object")
    for key in TRANSACTION_LISTS:
        if key in data and not isinstance(data[key], list):
            raise _bad_request("M_BAD_JSON", f"{key} must be a list")
    return data


def _has_work(transaction: dict[str, Any]) -> bool:
    """Whether a pushed transaction holds anything for the bridge's handlers."""
    if any(transaction.get(key) for key in ("events", "ephemeral", "to_device", "otk_counts")):
        return True
    device_lists = transaction.get("device_lists")
    return bool(device_lists and (device_lists.changed or device_lists.left))


class BridgeAppService(AppService):
    """mautrix's AppService, remembering handled transactions in the database."""

    def __init__(
        self, config: Config, database: OpenDatabase, metrics: BridgeMetrics | None = None
    ) -> None:
        # Discord → Matrix sends wait out a homeserver outage (see homeserver_wait).
        self.homeserver_wait = HomeserverWait(config["homeserver.max_retry_wait"], metrics=metrics)
        super().__init__(
            server=config["homeserver.address"],
            domain=config["homeserver.domain"],
            verify_ssl=config["homeserver.verify_ssl"],
            as_token=config["appservice.as_token"],
            hs_token=config["appservice.hs_token"],
            bot_localpart=config["appservice.bot.username"],
            id=config["appservice.id"],
            state_store=CachedStateStore(database.pool),
            ephemeral_events=config["appservice.ephemeral_events"],
            aiohttp_params={
                "client_max_size": MAX_REQUEST_BYTES,
                "middlewares": [
                    hs_token_middleware(
                        config["appservice.hs_token"], lambda: self.stopping, self._until_ready
                    )
                ],
            },
            bridge_name="discord",
            default_http_retry_count=4,
        )
        self.tables = database.tables
        self._stop_requested = asyncio.Event()
        # Called with each event as the homeserver sent it, before mautrix parses it (parsing
        # adds defaults, e.g. "suggested": false, that would make state look different).
        self.raw_event_listeners: list[Callable[[dict[str, Any]], None]] = []
        # The bridge's ghosts (set once they exist); the bot is always the bridge's own.
        self.is_ghost: Callable[[str], bool] = lambda mxid: False
        # Events the bridge sent through a Matrix user's own account (double puppeting).
        self.is_double_puppeted: Callable[[dict[str, Any]], bool] = lambda raw: False
        # Transactions wait until the bridge's handlers exist (and have queued again what the
        # inbox kept from before a restart).
        self.handlers_ready = asyncio.Event()
        self.handlers_ready.set()
        # Events kept in the database (matrix_inbox) until their handler is done with them,
        # so that a transaction is acknowledged at once and a crash still loses nothing.
        self.keep_until_handled: Callable[[dict[str, Any]], bool] = lambda raw: False

    def matrix_event_handler(self, func: Any) -> Any:
        """Register ``func`` as mautrix does, tracking its runs so that a shutdown can wait for
        them before the database closes (mautrix runs each handler in a background task)."""

        async def tracked(event: Any) -> None:
            running: set[asyncio.Task] = self.__dict__.setdefault("_handler_runs", set())
            task = asyncio.current_task()
            if task is not None:
                running.add(task)
            try:
                await func(event)
            finally:
                running.discard(task)  # type: ignore[arg-type]

        super().matrix_event_handler(tracked)
        return func

    async def handlers_idle(self, timeout: float = 5.0) -> None:
        """Wait (at most ``timeout`` s) for event handlers still running, e.g. at shutdown."""
        running = set(self.__dict__.get("_handler_runs", ()))
        if running:
            await asyncio.wait(running, timeout=timeout)

    @property
    def stopping(self) -> bool:
        """Whether the bridge is stopping: new transactions get 503, waiting ones too."""
        return self._stop_requested.is_set()

    @stopping.setter
    def stopping(self, value: bool) -> None:
        if value:
            self._stop_requested.set()
            self.homeserver_wait.stop()  # sends waiting for the homeserver give up
        else:
            self._stop_requested.clear()

    async def _until_ready(self) -> bool:
        """Wait until the handlers are ready (True) or the bridge stops first (False).

        Without this, a transaction pushed during a start that then fails would wait for
        handlers forever, and the server's shutdown would wait for it.
        """
        if self.handlers_ready.is_set():
            return True
        ready = asyncio.ensure_future(self.handlers_ready.wait())
        stop = asyncio.ensure_future(self._stop_requested.wait())
        try:
            await asyncio.wait({ready, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
            stop.cancel()
        return self.handlers_ready.is_set() and not self.stopping

    async def _keep(self, raw_events: list[Any]) -> None:
        now = time.time_ns() // 1000
        rows = [
            MatrixInboxRow(str(e["event_id"]), str(e["room_id"]), now + place, json.dumps(e))
            for place, e in enumerate(raw_events)
            if isinstance(e, dict) and "event_id" in e and self.keep_until_handled(e)
        ]
        if rows:
            # An event pushed again (a transaction retried after a crash) keeps its first
            # arrival: a replay looks on Discord for what was posted since then.
            await self.tables.matrix_inbox.insert_new_many(rows)

    def _is_own_echo(self, raw_event: Any) -> bool:
        """A message, reaction or redaction the bridge itself sent. Every handler ignores
        those, so they are dropped before parsing: an import's whole history comes back this
        way. State events always go through (memberships and room state are tracked)."""
        if not isinstance(raw_event, dict) or "state_key" in raw_event:
            return False
        if self.is_double_puppeted(raw_event):
            return True
        sender = raw_event.get("sender")
        if not isinstance(sender, str):
            return False
        return sender == self.bot_mxid or self.is_ghost(sender)

    async def start(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        # mautrix's state cache keeps its own mx_* tables, outside Alembic's schema.
        await CachedStateStore.upgrade_table.upgrade(self.tables.db)
        await self.tables.forget_transactions_before(
            int(time.time() * 1000) - TRANSACTION_MEMORY_MS
        )
        await super().start(host, port)
        # mautrix made a plain AppServiceAPI; the same, with patient requests, replaces it
        # (before any handler runs: transactions wait for handlers_ready).
        api = PatientAppServiceAPI(
            base_url=self.server,
            bot_mxid=self.bot_mxid,
            log=self.log,
            token=self.as_token,
            state_store=self.state_store,
            bridge_name=self.bridge_name,
            client_session=self.http_session,
            default_retry_count=self.default_http_retry_count,
        )
        api.homeserver_wait = self.homeserver_wait
        self._intent = api.bot_intent()

    async def _http_ping(self, request: web.Request) -> web.Response:
        """``POST /_matrix/app/v1/ping``, its body read as safely as a transaction's (the
        token is checked by :func:`hs_token_middleware`)."""
        body = await request.read()
        data = parse_transaction(body) if body.strip() else {}
        log.info("Received a ping from the homeserver (transaction %s)", data.get("transaction_id"))
        return web.json_response({})

    async def _read_transaction_header(self, request: web.Request) -> tuple[str, dict[str, Any]]:
        """The transaction's id and body, read safely (see :func:`parse_transaction`); a body
        over :data:`MAX_REQUEST_BYTES` gets 413 from aiohttp."""
        if not self._check_token(request):
            raise web.HTTPUnauthorized(
                content_type="application/json",
                text=json.dumps({"error": "Invalid auth token", "errcode": "M_UNKNOWN_TOKEN"}),
            )
        transaction_id = request.match_info["transaction_id"]
        if transaction_id in self.transactions:
            raise web.HTTPOk(content_type="application/json", text="{}")
        return transaction_id, parse_transaction(await request.read())

    async def handle_transaction(self, txn_id: str, **kwargs: Any) -> dict:  # type: ignore[override]
        await self.handlers_ready.wait()
        kwargs["events"] = [e for e in kwargs.get("events") or [] if not self._is_own_echo(e)]
        if not _has_work(kwargs):
            return {}  # only the bridge's own events, echoed back: nothing to do or remember
        if await self.tables.handled_transactions.get(txn_id):
            log.debug("Transaction %s was handled before a restart; skipping it", txn_id)
            return {}
        for raw_event in kwargs.get("events") or []:
            for listener in self.raw_event_listeners:
                listener(raw_event)
        await self._keep(kwargs["events"])
        output = await super().handle_transaction(txn_id, **kwargs)
        await self.tables.mark_transaction_handled(txn_id, int(time.time() * 1000))
        return output
