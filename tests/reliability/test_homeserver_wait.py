"""The homeserver waiting policy (bridge.matrix.homeserver_wait), on its own and against a
loopback HTTP server that answers like a homeserver that is down, then back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from mautrix.api import Method
from mautrix.errors import (
    MatrixConnectionError,
    MatrixRequestError,
    MBadJSON,
    MForbidden,
    MLimitExceeded,
    MUnknown,
)

from bridge.matrix.homeserver_wait import (
    HomeserverStopped,
    HomeserverWait,
    PatientAppServiceAPI,
    patiently,
    retry_delay,
)
from bridge.metrics import BridgeMetrics

FAST = {"max_wait": 0.004, "first_wait": 0.001}


def status_error(status: int, errcode: str = "M_UNKNOWN") -> MatrixRequestError:
    classes = {
        "M_FORBIDDEN": MForbidden,
        "M_BAD_JSON": MBadJSON,
        "M_LIMIT_EXCEEDED": MLimitExceeded,
    }
    return classes.get(errcode, MUnknown)(status, "error")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (status_error(502), 0.0),
        (status_error(503), 0.0),
        (status_error(504), 0.0),
        (status_error(429, "M_LIMIT_EXCEEDED"), 0.0),
        (MatrixConnectionError("refused"), 0.0),
        (aiohttp.ClientConnectionError("reset"), 0.0),
        (aiohttp.ServerDisconnectedError(), 0.0),
        (TimeoutError(), 0.0),
        (ConnectionRefusedError(), 0.0),
        (status_error(403, "M_FORBIDDEN"), None),
        (status_error(400, "M_BAD_JSON"), None),
        (status_error(500), None),
        (status_error(404), None),
        (ValueError("a bug"), None),
    ],
)
def test_which_errors_wait(error: BaseException, expected: float | None) -> None:
    assert retry_delay(error) == expected


def test_a_429_waits_its_retry_after_ms_bounded() -> None:
    error = status_error(429, "M_LIMIT_EXCEEDED")
    error.retry_after_ms = 2500  # type: ignore[attr-defined]
    assert retry_delay(error) == 2.5
    error.retry_after_ms = 10**9  # type: ignore[attr-defined]
    assert retry_delay(error) == 300.0


def test_backoff_doubles_up_to_the_cap_with_jitter_between_half_and_all() -> None:
    low = HomeserverWait(max_wait=30, first_wait=1, random=lambda: 0.0)
    high = HomeserverWait(max_wait=30, first_wait=1, random=lambda: 0.999999)
    assert [low.backoff(n) for n in (1, 2, 3, 4, 5, 6, 50)] == [0.5, 1, 2, 4, 8, 15, 15]
    assert [round(high.backoff(n), 3) for n in (1, 2, 3, 6, 50)] == [1, 2, 4, 30, 30]
    assert low.backoff(1, retry_after=7.0) == 7.0  # the homeserver's own wait comes first


async def test_waits_through_many_failures_then_returns_in_order() -> None:
    metrics = BridgeMetrics()
    policy = HomeserverWait(metrics=metrics, **FAST)
    answers = [status_error(503)] * 5 + [MatrixConnectionError("refused")] * 15
    attempts = 0

    async def attempt() -> str:
        nonlocal attempts
        attempts += 1
        if answers:
            raise answers.pop(0)
        return "$event"

    assert await policy.call(attempt) == "$event"
    assert attempts == 21  # far beyond mautrix's 4 retries
    assert policy.retries == 20 and policy.waiting == 0
    assert metrics.homeserver_retries._value.get() == 20
    assert metrics.homeserver_waiting._value.get() == 0


async def test_a_real_failure_is_raised_at_once() -> None:
    policy = HomeserverWait(**FAST)
    attempts = 0

    async def forbidden() -> None:
        nonlocal attempts
        attempts += 1
        raise status_error(403, "M_FORBIDDEN")

    with pytest.raises(MForbidden):
        await policy.call(forbidden)
    assert attempts == 1 and policy.retries == 0


async def test_the_wait_is_logged_when_it_starts_every_minute_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    policy = HomeserverWait(clock=lambda: now[0], **FAST)
    failures = 8

    async def attempt() -> str:
        nonlocal failures
        now[0] += 25  # each try takes 25 s of the fake clock
        if failures:
            failures -= 1
            raise MatrixConnectionError("Cannot connect to host")
        return "ok"

    with caplog.at_level(logging.INFO, "bridge.matrix.homeserver"):
        await policy.call(attempt)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("The homeserver is unreachable (MatrixConnectionError")
    still = [line for line in lines if line.startswith("Still waiting for the homeserver")]
    assert still == [
        "Still waiting for the homeserver after 75 s: 1 send(s) waiting, 3 retries",
        "Still waiting for the homeserver after 150 s: 1 send(s) waiting, 6 retries",
    ]  # a line a minute at most (each try here takes 25 s)
    assert lines[-1].startswith("The homeserver answers again after 200 s (8 retries)")


async def test_stop_ends_a_wait_and_later_sends_give_up_before_trying() -> None:
    policy = HomeserverWait(max_wait=30, first_wait=30)  # a long wait, ended by stop

    async def down() -> None:
        raise MatrixConnectionError("refused")

    waiting = asyncio.create_task(policy.call(down))
    while policy.waiting == 0:
        await asyncio.sleep(0.01)
    policy.stop()
    with pytest.raises(HomeserverStopped):
        await asyncio.wait_for(waiting, 5)
    tried = False

    async def later() -> None:
        nonlocal tried
        tried = True

    with pytest.raises(HomeserverStopped):
        await policy.call(later)
    assert not tried  # nothing overtakes the send that gave up


async def test_stop_cuts_short_a_try_that_hangs_during_an_outage() -> None:
    policy = HomeserverWait(**FAST)
    calls = 0

    async def hangs_after_a_refusal() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise MatrixConnectionError("refused")
        await asyncio.sleep(3600)  # a homeserver that accepts and never answers

    waiting = asyncio.create_task(policy.call(hangs_after_a_refusal))
    while calls < 2:
        await asyncio.sleep(0.01)
    policy.stop()
    with pytest.raises(HomeserverStopped):
        await asyncio.wait_for(waiting, 5)


async def test_a_send_that_works_is_unaffected_by_stop() -> None:
    policy = HomeserverWait(**FAST)
    policy.stop()

    async def works() -> str:
        return "ok"

    assert await policy.call(works) == "ok"  # a normal shutdown still drains the queues


class FlakyHomeserver:
    """A loopback server answering PUT /send like a homeserver: first ``down`` answers of
    503, then one 429 with ``retry_after_ms``, then 200; ``forbidden`` rooms get 403."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.limited = True
        self.header_only = False  # the 429 says how long in Retry-After alone (Matrix 1.10)
        self.requests = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        if "forbidden" in request.path:
            return web.json_response({"errcode": "M_FORBIDDEN", "error": "no"}, status=403)
        if self.down:
            self.down -= 1
            return web.Response(status=503, text="Service Unavailable")
        if self.limited:
            self.limited = False
            body = {"errcode": "M_LIMIT_EXCEEDED", "error": "slow", "retry_after_ms": 20}
            if self.header_only:
                del body["retry_after_ms"]
                return web.json_response(body, status=429, headers={"Retry-After": "3"})
            return web.json_response(body, status=429)
        return web.json_response({"event_id": "$sent"})


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[FlakyHomeserver, PatientAppServiceAPI]]:
    server = FlakyHomeserver(down=8)
    app = web.Application()
    app.router.add_route("PUT", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    session = aiohttp.ClientSession()
    api = PatientAppServiceAPI(
        log=logging.getLogger("test.homeserver"),
        base_url=f"http://127.0.0.1:{port}",
        bot_mxid="@bot:test",
        token="as_token",
        client_session=session,
        default_retry_count=4,
    )
    api.homeserver_wait = HomeserverWait(**FAST)
    try:
        yield server, api
    finally:
        await session.close()
        await runner.cleanup()


async def test_a_ghosts_request_waits_out_503s_and_a_429(
    flaky: tuple[FlakyHomeserver, PatientAppServiceAPI],
) -> None:
    server, api = flaky
    ghost = api.user("@ghost:test")  # type: ignore[arg-type]
    with patiently():
        answer = await ghost.request(Method.PUT, "/_matrix/client/v3/rooms/r/send/m/1", {})
    assert answer == {"event_id": "$sent"}
    assert server.requests == 10  # 8 × 503, 1 × 429, then the event
    assert api.homeserver_wait is not None and api.homeserver_wait.retries == 9


async def test_a_429_with_only_a_retry_after_header_waits_that_long(
    flaky: tuple[FlakyHomeserver, PatientAppServiceAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, api = flaky
    server.down, server.header_only = 0, True
    waits: list[float] = []

    async def noted(self: HomeserverWait, seconds: float, error: BaseException) -> None:
        waits.append(seconds)

    monkeypatch.setattr(HomeserverWait, "_sleep", noted)
    with patiently():
        answer = await api.request(Method.PUT, "/_matrix/client/v3/rooms/r/send/m/1", {})
    assert answer == {"event_id": "$sent"}
    assert waits == [3.0]  # the header's 3 s, not the backoff's milliseconds


async def test_a_403_is_not_retried_even_patiently(
    flaky: tuple[FlakyHomeserver, PatientAppServiceAPI],
) -> None:
    server, api = flaky
    with patiently(), pytest.raises(MForbidden):
        await api.request(Method.PUT, "/_matrix/client/v3/rooms/forbidden/send/m/1", {})
    assert server.requests == 1


async def test_stop_cuts_a_first_try_that_hangs_after_the_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bridge.matrix.homeserver_wait.STOP_GRACE", 0.05)
    policy = HomeserverWait(**FAST)
    started = asyncio.Event()

    async def hangs() -> None:
        started.set()
        await asyncio.sleep(3600)  # accepted, never answered, no failure seen yet

    waiting = asyncio.create_task(policy.call(hangs))
    await started.wait()
    policy.stop()
    with pytest.raises(HomeserverStopped):
        await asyncio.wait_for(waiting, 5)
    assert not waiting.cancelled()
