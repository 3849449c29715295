"""Waiting for the homeserver instead of dropping Discord → Matrix events.

mautrix retries a request a few times (4, 8, 16, 32 s) and then raises: a homeserver down for
longer than a minute used to lose the event in flight in each channel. Requests made inside
:func:`patiently` (the Discord → Matrix relay: messages, edits, redactions, reactions, the
ghosts and uploads they need) instead wait as long as the homeserver is unreachable:

- what waits: no connection (refused, reset, DNS, TLS), a timeout, 502/503/504 (a reverse
  proxy in front of a homeserver that is down or restarting), 429 ``M_LIMIT_EXCEEDED`` (after
  its ``retry_after_ms``). Any other answer (403 ``M_FORBIDDEN``, 400 ``M_BAD_JSON``, 500 …) is
  the homeserver's verdict on the request: raised at once, never retried;
- how long between tries: 1 s doubling up to ``homeserver.max_retry_wait`` (30 s by default),
  each wait drawn between half and all of that (jitter: channels do not retry in step);
- order: the request is retried where it stands, so its channel's queue waits behind it;
- the log: one warning when the homeserver stops answering, a line every minute while sends
  wait, one when it answers again; metrics: sends waiting (gauge) and retries (counter);
- stopping: a send that waits gives up at once (:class:`HomeserverStopped`), and every later
  patient request gives up before trying, so nothing in a channel overtakes it: catch-up
  sends it after a restart, from the newest message relayed.

:class:`PatientAppServiceAPI` is mautrix's ``AppServiceAPI`` with this policy applied to
:meth:`request`; :class:`~bridge.matrix.appservice.BridgeAppService` uses it for every intent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from aiohttp import ClientError, ClientResponse, ContentTypeError
from mautrix.api import Method
from mautrix.appservice.api import AppServiceAPI, ChildAppServiceAPI
from mautrix.errors import MatrixConnectionError, MatrixRequestError, make_request_error
from mautrix.types import UserID

from ..backoff import capped_backoff

if TYPE_CHECKING:
    from ..metrics import BridgeMetrics

log = logging.getLogger("bridge.matrix.homeserver")
T = TypeVar("T")
P = ParamSpec("P")

#: Seconds before the first retry; doubled after each failed one, up to the cap.
FIRST_WAIT = 1.0
#: Seconds: the default cap (``homeserver.max_retry_wait``).
DEFAULT_MAX_WAIT = 30.0
#: Seconds between two "still waiting" log lines.
REPORT_EVERY = 60.0
#: Seconds: the longest ``retry_after_ms`` honoured as given (a larger one is cut to this).
MAX_RETRY_AFTER = 300.0
#: Seconds a try made before any failure may still take once the bridge stops.
STOP_GRACE = 10.0
#: Statuses a homeserver (or its reverse proxy) answers while down or restarting.
UNAVAILABLE = frozenset({502, 503, 504})

_PATIENT: ContextVar[bool] = ContextVar("homeserver_patient", default=False)


class HomeserverStopped(Exception):
    """The bridge stopped while a request waited for the homeserver: it was not sent."""


@contextlib.contextmanager
def patiently() -> Iterator[None]:
    """Within this block (this task), homeserver requests wait out an outage (see module)."""
    token = _PATIENT.set(True)
    try:
        yield
    finally:
        _PATIENT.reset(token)


def waits_for_homeserver(
    func: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[T]]:
    """Decorate a Discord → Matrix action: its homeserver requests run :func:`patiently`."""

    @functools.wraps(func)
    async def patient(*args: P.args, **kwargs: P.kwargs) -> T:
        with patiently():
            return await func(*args, **kwargs)

    return patient


def is_patient() -> bool:
    """Whether the current task is inside :func:`patiently`."""
    return _PATIENT.get()


def retry_delay(error: BaseException) -> float | None:
    """How an error reads: None for a real failure (raise it), else the seconds the homeserver
    asked to wait (``retry_after_ms`` of a 429, 0.0 when it gave none or it is not a 429)."""
    if isinstance(error, MatrixRequestError):
        if error.http_status in UNAVAILABLE:
            return 0.0
        if error.http_status == 429:
            after_ms = getattr(error, "retry_after_ms", None)
            if isinstance(after_ms, int | float) and after_ms > 0:
                return min(after_ms / 1000, MAX_RETRY_AFTER)
            return 0.0
        return None
    if isinstance(error, MatrixConnectionError | ClientError | asyncio.TimeoutError | OSError):
        return 0.0
    return None


class HomeserverWait:
    """The waiting policy, shared by every patient request of one bridge.

    ``max_wait`` (s) caps the backoff; ``first_wait`` (s) is the first one. ``metrics`` (if
    given) gets the gauge of waiting sends and the retry counter. ``random`` (0 ≤ x < 1) and
    ``clock`` (monotonic s) are replaceable for tests.
    """

    def __init__(
        self,
        max_wait: float = DEFAULT_MAX_WAIT,
        first_wait: float = FIRST_WAIT,
        metrics: BridgeMetrics | None = None,
        random: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_wait = max_wait
        self.first_wait = min(first_wait, max_wait)
        self.metrics = metrics
        self._random = random
        self._clock = clock
        self._stopped = asyncio.Event()
        self._gave_up = False
        self._first_tries: set[asyncio.Task] = set()  # tasks in a try made before any failure
        self._cut: set[asyncio.Task] = set()  # those cancelled by stop()
        self.waiting = 0  # sends waiting now
        self.retries = 0  # retries since the bridge started
        self._outage_since: float | None = None
        self._outage_retries = 0
        self._reported_at = 0.0

    def backoff(self, attempt: int, retry_after: float = 0.0) -> float:
        """Seconds to wait before retry number ``attempt`` (1, 2, …): the capped doubling
        backoff, drawn between half and all of it; at least the homeserver's ``retry_after``."""
        wait = capped_backoff(attempt - 1, self.first_wait, self.max_wait, 0.5, self._random())
        return max(wait, retry_after)

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called (the bridge is stopping)."""
        return self._stopped.is_set()

    def stop(self) -> None:
        """The bridge stops: waiting sends give up now, and so do later ones that would wait;
        a try still unanswered :data:`STOP_GRACE` s later (a homeserver that hangs) too."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        with contextlib.suppress(RuntimeError):  # no running loop: nothing is in flight
            asyncio.get_running_loop().call_later(STOP_GRACE, self._cut_first_tries)

    async def call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` (one request, no retries of its own) until it succeeds or fails for
        real; raises :class:`HomeserverStopped` if the bridge stops while it waits."""
        if self._gave_up:
            raise HomeserverStopped("an earlier send gave up: the bridge is stopping")
        failures = 0
        try:
            while True:
                try:
                    outage = failures > 0 or self._outage_since is not None
                    result = await self._attempt(attempt, outage)
                except HomeserverStopped:
                    raise
                except Exception as error:
                    retry_after = retry_delay(error)
                    if retry_after is None:
                        raise
                    if self.stopped:
                        raise self._give_up(error) from error
                    failures += 1
                    self._note_failure(error, first=failures == 1)
                    await self._sleep(self.backoff(failures, retry_after), error)
                    self._count_retry()
                else:
                    if failures:
                        self._back()
                    return result
        finally:
            if failures:
                self.waiting -= 1
                self._set_gauge()

    async def _attempt(self, attempt: Callable[[], Awaitable[T]], outage: bool) -> T:
        """One try; during an outage, cut short by a stop (the homeserver may never answer)."""
        if not outage:
            return await self._first_try(attempt)
        task = asyncio.ensure_future(attempt())
        stop = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            raise self._give_up(None)
        return task.result()

    async def _first_try(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """A try while the homeserver seemed fine: awaited in place (no extra task); if the
        bridge stops and it hangs past :data:`STOP_GRACE`, :meth:`stop` cancels it."""
        task = asyncio.current_task()
        if task is None:
            return await attempt()
        self._first_tries.add(task)
        try:
            return await attempt()
        except asyncio.CancelledError:
            if task not in self._cut:
                raise
            self._cut.discard(task)
            task.uncancel()
            raise self._give_up(None) from None
        finally:
            self._first_tries.discard(task)

    def _cut_first_tries(self) -> None:
        for task in list(self._first_tries):
            self._cut.add(task)
            task.cancel()

    async def _sleep(self, seconds: float, error: BaseException) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), timeout=seconds)
            raise self._give_up(error)
        self._report()

    def _give_up(self, error: BaseException | None) -> HomeserverStopped:
        self._gave_up = True
        return HomeserverStopped(
            f"the bridge stopped while waiting for the homeserver ({_describe(error)})"
        )

    def _note_failure(self, error: BaseException, first: bool) -> None:
        if first:
            self.waiting += 1
            self._set_gauge()
        if self._outage_since is None:
            self._outage_since = self._reported_at = self._clock()
            self._outage_retries = 0
            log.warning(
                "The homeserver is unreachable (%s); Discord → Matrix sends wait for it, in "
                "order, retrying at most every %g s",
                _describe(error),
                self.max_wait,
            )

    def _report(self) -> None:
        now = self._clock()
        if self._outage_since is not None and now - self._reported_at >= REPORT_EVERY:
            self._reported_at = now
            log.warning(
                "Still waiting for the homeserver after %.0f s: %d send(s) waiting, %d retries",
                now - self._outage_since,
                self.waiting,
                self._outage_retries,
            )

    def _count_retry(self) -> None:
        self.retries += 1
        self._outage_retries += 1
        if self.metrics is not None:
            self.metrics.homeserver_retries.inc()

    def _back(self) -> None:
        if self._outage_since is None:
            return
        log.info(
            "The homeserver answers again after %.0f s (%d retries); waiting sends go on",
            self._clock() - self._outage_since,
            self._outage_retries,
        )
        self._outage_since = None

    def _set_gauge(self) -> None:
        if self.metrics is not None:
            self.metrics.homeserver_waiting.set(self.waiting)


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "no answer"
    if isinstance(error, MatrixRequestError):
        return f"HTTP {error.http_status} {getattr(error, 'errcode', None) or ''}".strip()
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class PatientAppServiceAPI(AppServiceAPI):
    """``AppServiceAPI`` whose requests wait for the homeserver inside :func:`patiently`.

    Outside it, requests behave as mautrix's (its own few retries). Inside, each try is made
    without mautrix's retries and :class:`HomeserverWait` decides. A 429's ``retry_after_ms``
    is kept on the error (mautrix drops it).
    """

    homeserver_wait: HomeserverWait | None = None

    def request(  # type: ignore[override]
        self,
        method: Method,
        path: Any,
        content: Any = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
        query_params: dict[str, Any] | None = None,
        retry_count: int | None = None,
        metrics_method: str | None = "",
        min_iter_size: int = 25 * 1024 * 1024,
    ) -> Awaitable[dict]:
        wait = self.homeserver_wait
        if wait is None or not is_patient() or inspect.isasyncgen(content):
            return super().request(
                method, path, content, timestamp, headers, query_params, retry_count,
                metrics_method, min_iter_size,
            )  # fmt: skip

        def attempt() -> Awaitable[dict]:
            return AppServiceAPI.request(
                self, method, path, content, timestamp, dict(headers or {}),
                dict(query_params or {}), 0, metrics_method, min_iter_size,
            )  # fmt: skip

        return wait.call(attempt)

    async def _send(  # type: ignore[override]
        self,
        method: Method,
        url: Any,
        content: Any,
        query_params: dict[str, str],
        headers: dict[str, str],
    ) -> tuple[Any, ClientResponse]:
        request = self.session.request(
            str(method), url, data=content, params=query_params, headers=headers
        )
        async with request as response:
            if 200 <= response.status < 300:
                return await response.json(), response
            data: Any = None
            with contextlib.suppress(ValueError, ContentTypeError):
                data = await response.json()
            data = data if isinstance(data, dict) else {}
            error = make_request_error(
                http_status=response.status,
                text=await response.text(),
                errcode=data.get("errcode"),
                message=data.get("error"),
                unstable_errcode=data.get("org.matrix.msc3848.unstable.errcode"),
            )
            # The body's retry_after_ms, or the Retry-After header (s) that Matrix 1.10 added.
            after_ms = data.get("retry_after_ms")
            header = response.headers.get("Retry-After", "")
            if after_ms is None and header.isdigit():
                after_ms = int(header) * 1000
            error.retry_after_ms = after_ms  # type: ignore[attr-defined]
            raise error

    def user(self, user: UserID) -> ChildAppServiceAPI:
        """The API of a ghost: patient too, sharing this one's policy and transaction ids."""
        try:
            return self.children[user]
        except KeyError:
            child = PatientChildAPI(user, self)
            child.homeserver_wait = self.homeserver_wait
            self.children[user] = child
            return child


class PatientChildAPI(PatientAppServiceAPI, ChildAppServiceAPI):
    """A ghost's API (mautrix's ``ChildAppServiceAPI``) with the patient requests."""
