"""The bridge as a process with metrics on: a message relayed each way shows in /metrics, /ready
says ready, and the whole DEBUG log of the run holds none of the tokens and secrets."""

from __future__ import annotations

import json

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from ruamel.yaml import YAML

from bridge.sandbox.homeserver import LocalSynapse, free_port
from bridge.sandbox.matrix_client import wait_until
from bridge.web.provisioning import PREFIX
from tests.fixtures.bridge import StartBridge
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow
SECRET = "provisioning-secret-of-the-log-scan"
# Everything at DEBUG, discord.py's HTTP log and aiosqlite's queries included.
DEBUG_LOGGING = json.dumps(
    {
        "version": 1,
        "formatters": {"normal": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "normal"}},
        "root": {"level": "DEBUG", "handlers": ["console"]},
    }
)


def relayed(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_ready_and_a_log_without_secrets_after_relaying_both_ways(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    make_matrix_user,  # noqa: ANN001
    bridge_config_path,  # noqa: ANN001
    appservice_port: int,
) -> None:
    store, guild = sandbox_guild.emulator.store, sandbox_guild.guild
    channel_id = next(iter(guild.channel_ids))
    metrics_url = f"http://127.0.0.1:{free_port()}"
    bridge = start_bridge(
        {
            "homeserver.address": synapse.url,
            **sandbox_guild.bridge_overrides(),
            "bridge.guilds": f"[{guild.id}]",
            "bridge.join_rules.public_channels": "public",
            "bridge.provisioning.shared_secret": SECRET,
            "metrics.enabled": "true",
            "metrics.listen_address": metrics_url.removeprefix("http://"),
            "logging": DEBUG_LOGGING,
        }
    )
    await bridge.wait_for_output("Bridge started as")
    marie = await make_matrix_user(displayname="Marie")
    room = await marie.join(f"#discord_{channel_id}:{synapse.server_name}")
    async with aiohttp.ClientSession() as http:
        # Matrix → Discord, through the channel's webhook.
        await marie.send_text(room, "hello from matrix")

        async def on_discord() -> bool | None:
            history = store.history(channel_id, limit=20)
            return True if any(m.content == "hello from matrix" for m in history) else None

        await wait_until(on_discord, timeout=20, what="the Matrix message on Discord")
        # Discord → Matrix, as the author's ghost.
        store.create_message(channel_id, sandbox_guild.owner.id, "hello from discord")
        await marie.wait_for_message(room, "hello from discord", timeout=20)
        # The provisioning API, with its secret.
        answer = await http.get(
            f"http://127.0.0.1:{appservice_port}{PREFIX}/guilds",
            headers={"Authorization": f"Bearer {SECRET}"},
        )
        assert answer.status == 200

        async def scraped() -> dict | None:
            text = await (await http.get(metrics_url + "/metrics")).text()
            samples = relayed(text)
            key = ("discord_bridge_messages_relayed_total", (("direction", "matrix→discord"),))
            sent = samples.get((key[0], (*key[1], ("kind", "message"))), 0)
            return samples if sent >= 1 else None

        samples = await wait_until(scraped, timeout=10, what="the relays in /metrics")
        for direction in ("discord→matrix", "matrix→discord"):
            labels = (("direction", direction), ("kind", "message"))
            assert samples[("discord_bridge_messages_relayed_total", labels)] >= 1
            count = ("discord_bridge_relay_latency_seconds_count", (("direction", direction),))
            assert samples[count] >= 1
        assert samples[("discord_bridge_ready", ())] == 1
        state = "discord_bridge_discord_gateway_state"
        assert samples[(state, ((state, "connected"),))] == 1
        assert samples[("discord_bridge_ghosts", ())] >= 1
        assert samples[("discord_bridge_rooms", (("kind", "portal"),))] >= 1
        assert samples[("discord_bridge_rooms", (("kind", "space"),))] == 1
        ready = await http.get(metrics_url + "/ready")
        assert ready.status == 200 and await ready.json() == {"ready": True}
        assert (await http.get(metrics_url + "/live")).status == 200
    assert await bridge.stop() == 0

    config = YAML(typ="safe").load(bridge_config_path)
    hooks = [hook for hook in store.webhooks.values() if hook.channel_id == channel_id]
    assert hooks, "the emulator issued no webhook"
    secrets = {
        "appservice.as_token": config["appservice"]["as_token"],
        "appservice.hs_token": config["appservice"]["hs_token"],
        "discord.bot_token": sandbox_guild.bot_token,
        "bridge.provisioning.shared_secret": SECRET,
        **{f"webhook {hook.id} token": hook.token for hook in hooks},
    }
    output = bridge.output
    # The log does show the requests that carried them (masked): the scan can fail.
    assert f"/webhooks/{hooks[0].id}/***" in output
    assert "[aiosqlite]" in output and "[discord.http]" in output
    leaked = [name for name, secret in secrets.items() if secret in output]
    assert not leaked, f"secrets in the log: {leaked}"
