"""Prometheus metrics: what the exposition shows after relays, failures, rate-limit waits,
gateway changes, imports and database counts; and the /metrics, /live, /ready endpoints."""

from __future__ import annotations

import time
from pathlib import Path

import discord
from aiohttp.test_utils import TestClient, TestServer
from mautrix.errors import MatrixRequestError
from prometheus_client.parser import text_string_to_metric_families

from bridge.actions.admin.imports import ImportJob
from bridge.actions.m2d.webhooks import WebhookUnavailable
from bridge.db.connect import open_database
from bridge.db.rows import GuildRow, PortalRow, PuppetRow
from bridge.db.url import resolve_database_url
from bridge.discord.client import BridgeDiscordClient, point_discord_py_at
from bridge.metrics import BridgeMetrics, failure_reason
from bridge.metrics_sources import (
    DatabaseCounts,
    GatewayWatch,
    ImportCollector,
    observe_ratelimit,
    ratelimit_trace,
)
from bridge.stats import TO_DISCORD, TO_MATRIX, RelayStats
from bridge.web.metrics_server import MetricsServer, split_listen_address
from tests.fixtures.discord import SandboxGuild


def samples(metrics: BridgeMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the text exposition, by (name, sorted labels)."""
    from prometheus_client import generate_latest

    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: BridgeMetrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, tuple(sorted(labels.items()))))


def test_relays_are_counted_by_direction_and_kind_with_their_latency() -> None:
    metrics = BridgeMetrics()
    stats = RelayStats(metrics=metrics)
    now_ms = time.time() * 1000
    stats.relayed(1, TO_MATRIX, "message", now_ms - 2000)  # sent 2 s after Discord made it
    stats.relayed(1, TO_MATRIX, "edit", now_ms)
    stats.relayed(None, TO_MATRIX, "reaction_removal")
    stats.relayed(1, TO_DISCORD, "message", now_ms - 100)
    stats.relayed(1, TO_DISCORD, "delete", now_ms)
    name = "discord_bridge_messages_relayed_total"
    assert value(metrics, name, direction=TO_MATRIX, kind="message") == 1
    assert value(metrics, name, direction=TO_MATRIX, kind="edit") == 1
    assert value(metrics, name, direction=TO_MATRIX, kind="reaction_removal") == 1
    assert value(metrics, name, direction=TO_DISCORD, kind="delete") == 1
    latency = "discord_bridge_relay_latency_seconds"
    assert value(metrics, latency + "_count", direction=TO_MATRIX) == 2
    assert value(metrics, latency + "_count", direction=TO_DISCORD) == 2
    assert value(metrics, latency + "_bucket", direction=TO_MATRIX, le="1.0") == 1
    assert value(metrics, latency + "_bucket", direction=TO_MATRIX, le="2.5") == 2
    # ``status`` still counts messages only.
    assert stats.since_start(1, TO_MATRIX) == 1
    assert stats.since_start(1, TO_DISCORD) == 1


def test_failures_are_counted_under_short_reasons() -> None:
    metrics = BridgeMetrics()
    stats = RelayStats(metrics=metrics)
    refused = WebhookUnavailable("The bridge's bot lacks the Manage Webhooks permission in #x")
    stats.failed(1, "m to Discord: no webhook", direction=TO_DISCORD, error=refused)
    stats.failed(1, "m to Matrix", direction=TO_MATRIX, error=MatrixRequestError("boom"))
    stats.failed(1, "m to Matrix", direction=TO_MATRIX, error=KeyError("x"))
    name = "discord_bridge_relay_failures_total"
    assert value(metrics, name, direction=TO_DISCORD, reason="webhook_unavailable") == 1
    assert value(metrics, name, direction=TO_MATRIX, reason="matrix_error") == 1
    assert value(metrics, name, direction=TO_MATRIX, reason="bridge_error") == 1
    assert stats.last_error(1) is not None and stats.last_error(1).text == "m to Matrix"


def test_failure_reasons_of_discord_answers() -> None:
    class Answer:
        status, reason = 403, "Forbidden"

    assert failure_reason(discord.Forbidden(Answer(), "Missing Permissions")) == (
        "discord_forbidden"
    )
    Answer.status = 404
    assert failure_reason(discord.NotFound(Answer(), "Unknown Message")) == "discord_not_found"
    assert failure_reason(TimeoutError()) == "timeout"
    assert failure_reason(ConnectionResetError()) == "network"


def test_rate_limit_waits_are_read_from_discord_answers() -> None:
    metrics = BridgeMetrics()
    observe_ratelimit(
        metrics, 429, {"Via": "1.1 google", "X-RateLimit-Reset-After": "1.5", "Retry-After": "2"}
    )
    observe_ratelimit(
        metrics, 429, {"Via": "1.1 google", "X-RateLimit-Global": "true", "Retry-After": "3"}
    )
    observe_ratelimit(metrics, 429, {"Retry-After": "9"})  # no Via: discord.py raises, no wait
    observe_ratelimit(metrics, 200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "4"})
    observe_ratelimit(metrics, 200, {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset-After": "4"})
    waits, seconds = (
        "discord_bridge_discord_ratelimit_waits_total",
        "discord_bridge_discord_ratelimit_wait_seconds_total",
    )
    assert value(metrics, waits, cause="rate_limited") == 1
    assert value(metrics, seconds, cause="rate_limited") == 1.5
    assert value(metrics, waits, cause="global") == 1
    assert value(metrics, seconds, cause="global") == 3
    assert value(metrics, waits, cause="bucket_exhausted") == 1
    assert value(metrics, seconds, cause="bucket_exhausted") == 4


async def test_rate_limit_waits_of_discord_py_are_seen_through_its_http_trace(
    sandbox_guild: SandboxGuild,
) -> None:
    """Reactions have a bucket of 1 per 0.25 s in the emulator: discord.py waits after each."""
    emulator, metrics = sandbox_guild.emulator, BridgeMetrics()
    store = emulator.store
    channel_id = next(iter(sandbox_guild.guild.channel_ids))
    message = store.create_message(channel_id, sandbox_guild.owner.id, "react to me")
    client = BridgeDiscordClient(http_trace=ratelimit_trace(metrics))
    point_discord_py_at(emulator.api_url, emulator.gateway_url, emulator.cdn_url)
    await client.login(sandbox_guild.bot_token)
    try:
        for emoji in ("👍", "🎉", "🚀"):
            await client.http.add_reaction(channel_id, message.id, emoji)
    finally:
        await client.close()
    waits = value(metrics, "discord_bridge_discord_ratelimit_waits_total", cause="bucket_exhausted")
    assert waits is not None and waits >= 2
    seconds = value(
        metrics, "discord_bridge_discord_ratelimit_wait_seconds_total", cause="bucket_exhausted"
    )
    assert seconds is not None and 0 < seconds <= waits * 0.25


def test_gateway_state_and_reconnects() -> None:
    metrics = BridgeMetrics()
    watch = GatewayWatch(metrics)
    state = "discord_bridge_discord_gateway_state"

    def current() -> str:
        return next(
            s
            for s in ("connected", "resuming", "disconnected")
            if value(metrics, state, **{state: s})
        )

    assert current() == "disconnected"
    watch.observe("connect", False)
    watch.observe("ready", False)
    assert current() == "connected"
    watch.observe("disconnect", False)  # discord.py reconnects
    assert current() == "resuming"
    watch.observe("resumed", False)
    assert current() == "connected"
    watch.observe("disconnect", False)
    watch.observe("ready", False)  # a new session
    watch.observe("disconnect", True)  # closed
    assert current() == "disconnected"
    assert value(metrics, "discord_bridge_discord_gateway_reconnects_total") == 2


async def test_import_progress_of_running_and_finished_jobs() -> None:
    metrics = BridgeMetrics()
    running = ImportJob(1, 10, (100, 101))
    running.progress.channel(100, "#general", total=40).done = 25
    running.progress.channel(101, "#help").skipped = 3
    finished = ImportJob(2, 10, (102,), state="finished")
    finished.progress.channel(102, "#old", total=5).done = 5
    metrics.registry.register(ImportCollector(lambda: [running, finished]))
    assert value(metrics, "discord_bridge_import_messages_total", guild="10") == 30
    assert value(metrics, "discord_bridge_import_jobs_running", guild="10") == 1
    handled = "discord_bridge_import_channel_handled_messages"
    assert value(metrics, handled, guild="10", channel="100") == 25
    assert value(metrics, handled, guild="10", channel="101") == 3
    assert value(metrics, handled, guild="10", channel="102") is None  # not running
    expected = "discord_bridge_import_channel_expected_messages"
    assert value(metrics, expected, guild="10", channel="100") == 40
    assert value(metrics, expected, guild="10", channel="101") is None  # not counted yet


async def test_ghosts_and_rooms_are_counted_in_the_database_at_most_every_interval(
    tmp_path: Path,
) -> None:
    database = await open_database(resolve_database_url("sqlite:bridge.db", tmp_path))
    try:
        tables = database.tables
        await tables.guilds.upsert(GuildRow(10, space_room_id="!space:example.com"))
        await tables.portals.upsert(PortalRow(100, guild_id=10, room_id="!a:example.com"))
        await tables.portals.upsert(PortalRow(101, guild_id=10))  # no room (yet)
        await tables.puppets.upsert(PuppetRow("1"))
        await tables.puppets.upsert(PuppetRow("2"))
        metrics = BridgeMetrics()
        counts = DatabaseCounts(lambda: database.pool, interval=3600)
        metrics.registry.register(counts)
        assert value(metrics, "discord_bridge_ghosts") is None  # never counted yet
        await counts.refresh()
        assert value(metrics, "discord_bridge_ghosts") == 2
        assert value(metrics, "discord_bridge_rooms", kind="portal") == 1
        assert value(metrics, "discord_bridge_rooms", kind="space") == 1
        await tables.puppets.upsert(PuppetRow("3"))
        await counts.refresh()  # within the interval: no new query
        assert value(metrics, "discord_bridge_ghosts") == 2
        counts.interval = 0
        await counts.refresh()
        assert value(metrics, "discord_bridge_ghosts") == 3
    finally:
        await database.close()


async def test_endpoints_metrics_live_and_ready() -> None:
    metrics = BridgeMetrics()
    RelayStats(metrics=metrics).relayed(1, TO_MATRIX, "message", time.time() * 1000)
    reason: list[str | None] = ["the bridge is starting or stopping"]
    scrapes: list[int] = []

    async def before_scrape() -> None:
        scrapes.append(1)

    server = MetricsServer(metrics, lambda: reason[0], [before_scrape])
    async with TestClient(TestServer(server.app)) as client:
        response = await client.get("/live")
        assert response.status == 200 and await response.json() == {"live": True}
        response = await client.get("/ready")
        assert response.status == 503
        assert await response.json() == {
            "ready": False,
            "reason": "the bridge is starting or stopping",
        }
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
        assert (
            'discord_bridge_messages_relayed_total{direction="discord→matrix",kind="message"} 1.0'
            in text
        )
        assert "discord_bridge_ready 0.0" in text
        assert "# HELP discord_bridge_relay_latency_seconds" in text
        reason[0] = None
        response = await client.get("/ready")
        assert response.status == 200 and await response.json() == {"ready": True}
        assert "discord_bridge_ready 1.0" in await (await client.get("/metrics")).text()
    assert len(scrapes) == 2


def test_listen_address() -> None:
    assert split_listen_address("127.0.0.1:29335") == ("127.0.0.1", 29335)
    assert split_listen_address("[::1]:9000") == ("::1", 9000)
    for wrong in ("29335", "localhost:", "host:99999"):
        try:
            split_listen_address(wrong)
        except ValueError as error:
            assert "metrics.listen_address" in str(error)
        else:
            raise AssertionError(f"{wrong!r} was accepted")


def test_an_older_config_gains_the_metrics_section_off(tmp_path: Path) -> None:
    from bridge.config import load_config, write_example

    path = tmp_path / "config.yaml"
    write_example(path)
    text = path.read_text()
    start = text.index("# Prometheus metrics")
    end = text.index("# Python logging configuration")
    path.write_text(text[:start] + text[end:])  # as written by a version without metrics
    config = load_config(path, environ={})
    assert config["metrics.enabled"] is False
    assert config["metrics.listen_address"] == "127.0.0.1:29335"
    upgraded = path.read_text()
    assert "metrics:\n    # Serve /metrics (Prometheus text format), /live and /ready" in upgraded


def test_a_wrong_listen_address_names_the_key(tmp_path: Path) -> None:
    from bridge.config import ConfigError, load_config, write_example

    path = tmp_path / "config.yaml"
    write_example(path)
    path.write_text(
        path.read_text().replace("listen_address: 127.0.0.1:29335", "listen_address: 29335")
    )
    try:
        load_config(path, environ={})
    except ConfigError as error:
        assert error.problems == [
            "metrics.listen_address: expected host:port to serve the metrics on, e.g. "
            "127.0.0.1:29335, got 29335"
        ]
    else:
        raise AssertionError("a port alone was accepted")
