"""discord.py's log lines as the bridge leaves them: no voice warning, no false "behind"."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace

import discord
import discord.gateway
import pytest
from discord.gateway import KeepAliveHandler

from bridge.discord.client import BridgeDiscordClient
from bridge.discord.heartbeat import PromptAckKeepAliveHandler
from bridge.log_filters import install_log_filters

INTERVAL = 41.25  # seconds: Discord's heartbeat_interval (41250 ms in HELLO)


@pytest.fixture
def voice_warnings_due() -> Iterator[None]:
    """discord.py warns once per process; make both voice warnings due again."""
    saved = (discord.VoiceClient.warn_nacl, discord.VoiceClient.warn_dave)
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = True
    try:
        yield
    finally:
        discord.VoiceClient.warn_nacl, discord.VoiceClient.warn_dave = saved


def test_davey_warning_is_dropped_and_other_warnings_kept(
    voice_warnings_due: None, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_filters()
    with caplog.at_level(logging.WARNING, logger="discord"):
        discord.Client(intents=discord.Intents.none())
    messages = [r.getMessage() for r in caplog.records if r.name == "discord.client"]
    assert "PyNaCl is not installed, voice will NOT be supported" in messages
    assert not any("davey" in message for message in messages)


def keep_alive(kind: type[KeepAliveHandler]) -> KeepAliveHandler:
    """A keep-alive handler for a websocket whose last heartbeat went out one interval ago."""
    ws = SimpleNamespace(thread_id=0, _max_heartbeat_timeout=60.0, HEARTBEAT=1, sequence=7)
    handler = kind(ws=ws, interval=INTERVAL, shard_id=None)  # type: ignore[arg-type]
    handler._last_send = time.perf_counter() - INTERVAL
    return handler


def test_a_prompt_ack_is_not_reported_as_behind(caplog: pytest.LogCaptureFixture) -> None:
    # The keep-alive thread builds the next heartbeat; the gateway's ACK is handled on the
    # event loop before the thread runs again (a loopback gateway answers in microseconds).
    handler = keep_alive(PromptAckKeepAliveHandler)
    with caplog.at_level(logging.DEBUG, logger="discord.gateway"):
        assert handler.get_payload() == {"op": 1, "d": 7}
        handler.ack()
    assert not [r for r in caplog.records if "Can't keep up" in r.getMessage()]
    assert handler.latency < INTERVAL / 2


def test_discord_py_alone_reports_a_prompt_ack_as_behind(caplog: pytest.LogCaptureFixture) -> None:
    # Why bridge.discord.heartbeat exists (discord.py 2.7.1; fixed upstream by pull request
    # #10448): if this starts failing, discord.py has the fix and the module can go.
    handler = keep_alive(KeepAliveHandler)
    with caplog.at_level(logging.WARNING, logger="discord.gateway"):
        handler.get_payload()
        handler.ack()
    assert [r for r in caplog.records if "Can't keep up" in r.getMessage()]


def test_the_bridge_client_uses_the_fixed_keep_alive_and_drops_the_voice_warning(
    voice_warnings_due: None, caplog: pytest.LogCaptureFixture
) -> None:
    # As in the demo, which runs the bridge in process without its logging config.
    saved = discord.gateway.KeepAliveHandler
    try:
        with caplog.at_level(logging.WARNING, logger="discord"):
            BridgeDiscordClient()
        assert discord.gateway.KeepAliveHandler is PromptAckKeepAliveHandler
        messages = [r.getMessage() for r in caplog.records if r.name == "discord.client"]
        assert messages == ["PyNaCl is not installed, voice will NOT be supported"]
    finally:
        discord.gateway.KeepAliveHandler = saved  # type: ignore[misc]
