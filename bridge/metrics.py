"""The bridge's Prometheus metrics: what is relayed, what fails, how long it takes.

Every metric lives in the bridge's own :class:`prometheus_client.CollectorRegistry` (not the
process-wide default), so two bridges in one process (tests) never share counts. Names carry
the ``discord_bridge_`` prefix; counters get ``_total`` from prometheus-client. The values
that come from elsewhere (rate-limit waits, the gateway, imports, the database) are fed by
:mod:`bridge.metrics_sources`; :mod:`bridge.web.metrics_server` serves them.
"""

from __future__ import annotations

import asyncio
import time

import discord
from mautrix.errors import MatrixConnectionError, MatrixRequestError
from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram

PREFIX = "discord_bridge_"
#: Label values of ``direction``: the same words as ``status`` (bridge.stats).
DIRECTIONS = ("discord→matrix", "matrix→discord")
#: Label values of ``kind``.
KINDS = ("message", "edit", "delete", "reaction", "reaction_removal", "poll", "poll_end", "pin")
#: Label values of ``reason`` (see :func:`failure_reason`).
REASONS = (
    "discord_forbidden",
    "discord_not_found",
    "discord_rate_limited",
    "discord_server_error",
    "discord_http_error",
    "webhook_unavailable",
    "refused",
    "matrix_forbidden",
    "matrix_error",
    "network",
    "timeout",
    "bridge_error",
)
GATEWAY_STATES = ("connected", "resuming", "disconnected")
# Seconds, from the event's own time to the moment the bridge has sent it. Catching up after
# a restart relays old events: hence the hour.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


def failure_reason(error: BaseException) -> str:
    """A short, stable label for a relay failure (one of :data:`REASONS`), never free text.

    Discord errors by HTTP status (discord.py's exception classes); the bridge's own refusals
    (``WebhookUnavailable``, ``DeliveryRefused``) by their class name, without importing them.
    """
    names = {cls.__name__ for cls in type(error).__mro__}
    if "WebhookUnavailable" in names:
        return "webhook_unavailable"
    if "DeliveryRefused" in names:
        return "refused"
    if isinstance(error, discord.RateLimited):
        return "discord_rate_limited"
    if isinstance(error, discord.Forbidden):
        return "discord_forbidden"
    if isinstance(error, discord.NotFound):
        return "discord_not_found"
    if isinstance(error, discord.DiscordServerError):
        return "discord_server_error"
    if isinstance(error, discord.HTTPException):
        return "discord_rate_limited" if error.status == 429 else "discord_http_error"
    if isinstance(error, MatrixRequestError):
        forbidden = getattr(error, "errcode", None) == "M_FORBIDDEN"
        return "matrix_forbidden" if forbidden else "matrix_error"
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return "timeout"
    if isinstance(error, MatrixConnectionError | ConnectionError | OSError):
        return "network"
    return "bridge_error"


class BridgeMetrics:
    """The metric objects of one bridge, in their own registry.

    Relay counts arrive through :meth:`relayed` and :meth:`failed` (called by
    :class:`bridge.stats.RelayStats`); the rest is set by the sources in
    :mod:`bridge.metrics_sources`.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.messages_relayed = Counter(
            PREFIX + "messages_relayed",
            "Events relayed, by direction (discord→matrix, matrix→discord) and kind (message, "
            "edit, delete, reaction, reaction_removal, poll, poll_end, pin).",
            ["direction", "kind"],
            registry=r,
        )
        self.relay_failures = Counter(
            PREFIX + "relay_failures",
            "Events that could not be relayed, by direction and a short reason "
            "(discord_forbidden, discord_not_found, webhook_unavailable, matrix_error, ...).",
            ["direction", "reason"],
            registry=r,
        )
        self.relay_latency = Histogram(
            PREFIX + "relay_latency_seconds",
            "Seconds from an event's own time (Discord snowflake or edit time, Matrix "
            "origin_server_ts) to the moment the bridge had sent it, by direction.",
            ["direction"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ratelimit_waits = Counter(
            PREFIX + "discord_ratelimit_waits",
            "Times a Discord API request waited for a rate limit, by cause: a 429 answer "
            "(rate_limited, global) or a bucket used up (bucket_exhausted).",
            ["cause"],
            registry=r,
        )
        self.ratelimit_seconds = Counter(
            PREFIX + "discord_ratelimit_wait_seconds",
            "Seconds Discord API requests waited for rate limits, by cause.",
            ["cause"],
            registry=r,
        )
        self.gateway_state = Enum(
            PREFIX + "discord_gateway_state",
            "The Discord gateway connection: connected, resuming (lost, discord.py is "
            "reconnecting) or disconnected.",
            states=list(GATEWAY_STATES),
            registry=r,
        )
        self.gateway_state.state("disconnected")
        self.gateway_reconnects = Counter(
            PREFIX + "discord_gateway_reconnects",
            "Times the Discord gateway connection came back (RESUMED, or READY again) after "
            "it was lost.",
            registry=r,
        )
        self.gateway_dispatch_errors = Counter(
            PREFIX + "gateway_dispatch_errors",
            "Discord gateway dispatches that could not be read as sent (repaired or skipped; "
            "the connection goes on), by event: the dispatch type (MESSAGE_CREATE, ...) or the "
            "bridge handler that failed (on_message, ...).",
            ["event"],
            registry=r,
        )
        self.homeserver_waiting = Gauge(
            PREFIX + "homeserver_waiting_sends",
            "Discord → Matrix requests waiting for the homeserver to answer again (it was "
            "unreachable, or answered 502/503/504 or 429); each channel's queue waits behind.",
            registry=r,
        )
        self.homeserver_retries = Counter(
            PREFIX + "homeserver_retries",
            "Times a Discord → Matrix request was tried again after the homeserver was "
            "unreachable or answered 502/503/504 or 429.",
            registry=r,
        )
        self.delivery_retries = Counter(
            PREFIX + "discord_delivery_retries",
            "Times a Matrix message's webhook request to Discord was tried again after a 429 "
            "(rate_limited) or a 5xx (server_error) that discord.py gave up on, by cause.",
            ["cause"],
            registry=r,
        )
        self.delivery_retry_seconds = Counter(
            PREFIX + "discord_delivery_retry_wait_seconds",
            "Seconds the bridge waited before those retries (the room's queue waits too).",
            ["cause"],
            registry=r,
        )
        self.ready = Gauge(
            PREFIX + "ready",
            "1 once the bridge has started and the Discord gateway is connected, else 0.",
            registry=r,
        )
        for direction in DIRECTIONS:
            self.relay_latency.labels(direction)  # exposed (empty) before the first relay
            for kind in ("message",):
                self.messages_relayed.labels(direction, kind)

    def relayed(self, direction: str, kind: str, origin_ms: float | None = None) -> None:
        """One event relayed; with ``origin_ms`` (the event's own time, ms since the epoch)
        its latency is observed too (never negative: clocks may disagree)."""
        self.messages_relayed.labels(direction, kind).inc()
        if origin_ms is not None:
            seconds = max(time.time() - origin_ms / 1000, 0.0)
            self.relay_latency.labels(direction).observe(seconds)

    def delivery_wait(self, cause: str, seconds: float) -> None:
        """A webhook request to Discord waits ``seconds`` before it is tried again."""
        self.delivery_retries.labels(cause).inc()
        self.delivery_retry_seconds.labels(cause).inc(max(seconds, 0.0))

    def dispatch_error(self, event: str) -> None:
        """One gateway dispatch (or bridge handler) of ``event`` failed and was skipped."""
        self.gateway_dispatch_errors.labels(event).inc()

    def failed(self, direction: str, error: BaseException) -> None:
        """One event not relayed, counted under :func:`failure_reason` of ``error``."""
        self.relay_failures.labels(direction, failure_reason(error)).inc()
