"""Malformed gateway dispatches (issue 17 §9): the bridge process logs each kind once, counts
it, skips it (or reads what is sound in it) and goes on relaying.

One bridge process for the module; each case sends one malformed dispatch to its gateway
session through the emulator's ``POST /_control/gateway/dispatch`` and then posts a normal
Discord message in the same channel, which must arrive in the room: nothing lost, the
process and its gateway connection still up.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from mautrix.types import RoomAlias
from prometheus_client.parser import text_string_to_metric_families

from bridge.sandbox.discord import payloads
from bridge.sandbox.discord.control_client import Control
from bridge.sandbox.discord.gateway import get_hub
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.homeserver import LocalSynapse, free_port
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.bridge import BridgeProcess
from tests.reliability.shared import message_payload

pytestmark = pytest.mark.slow
SERVER = "sandbox.local"
METRIC = "discord_bridge_gateway_dispatch_errors_total"
# INFO, and the dispatch guard's own log at DEBUG (to see that repeats go there).
LOGGING = json.dumps(
    {
        "version": 1,
        "formatters": {"normal": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "normal"}},
        "loggers": {"bridge.discord.gateway": {"level": "DEBUG"}},
        "root": {"level": "INFO", "handlers": ["console"]},
    }
)


@dataclass
class Guild:
    """The emulator guild of this module: one bridged channel, one Discord user in it."""

    emulator: DiscordEmulator
    guild_id: int
    channel_id: int
    user_id: int
    role_id: int
    message_id: int  # a message the bridge has relayed (for edits and reactions)
    overrides: dict[str, object]  # the bridge's config keys for this guild and its bot

    def next_id(self) -> int:
        return self.emulator.store.ids.next()

    def author(self) -> dict[str, Any]:
        store = self.emulator.store
        return payloads.user(store, store.users[self.user_id])

    def member(self) -> dict[str, Any]:
        store = self.emulator.store
        member = store.get_member(self.guild_id, self.user_id)
        return payloads.member(store, member, with_user=False)

    def message(self, content: str, **changes: Any) -> dict[str, Any]:
        """A MESSAGE_CREATE as Discord sends it, with ``changes`` (``...``: field left out)."""
        return message_payload(
            **{
                "id": str(self.next_id()),
                "channel_id": str(self.channel_id),
                "guild_id": str(self.guild_id),
                "author": self.author(),
                "member": self.member(),
                "content": content,
                "timestamp": datetime.now(UTC).isoformat(),
                "components": [],
                "flags": 0,
                **changes,
            }
        )

    def channel(self, **changes: Any) -> dict[str, Any]:
        store = self.emulator.store
        data = payloads.channel(store, store.get_channel(self.channel_id))
        data.update(changes)
        return {key: value for key, value in data.items() if value is not ...}


@dataclass
class Case:
    """One malformed dispatch. ``arrives``: the text that must still reach the room (the
    sound part of the dispatch), if any; ``counted``: whether the bridge must count it."""

    name: str
    event: str
    build: Callable[[Guild], Any]
    arrives: str | None = None
    counted: bool = True


def _edit(g: Guild, **changes: Any) -> dict[str, Any]:
    content = changes.pop("content", "the first message")
    data = g.message(content, **{"id": str(g.message_id), **changes})
    data["edited_timestamp"] = datetime.now(UTC).isoformat()
    return data


def text_kept(name: str, slug: str, **changes: Any) -> Case:
    """A MESSAGE_CREATE made odd by ``changes`` whose text (``text of <slug>``) must arrive."""
    text = f"text of {slug}"
    return Case(name, "MESSAGE_CREATE", lambda g: g.message(text, **changes), arrives=text)


CASES = [
    Case("message without id", "MESSAGE_CREATE", lambda g: g.message("lost", id=...)),
    Case("message without author", "MESSAGE_CREATE", lambda g: g.message("x", author=...)),
    Case(
        "MESSAGE_CREATE without author and without member",
        "MESSAGE_CREATE",
        lambda g: g.message("no author here", author=..., member=...),
    ),
    Case(
        "message author not an object",
        "MESSAGE_CREATE",
        lambda g: g.message("no author here", author={}, member=...),
    ),
    Case(
        "message author only in member.user",
        "MESSAGE_CREATE",
        lambda g: g.message(
            "text of member-user", author=..., member={**g.member(), "user": g.author()}
        ),
        arrives="text of member-user",
    ),
    Case("message without channel_id", "MESSAGE_CREATE", lambda g: g.message("x", channel_id=...)),
    Case("message id not a number", "MESSAGE_CREATE", lambda g: g.message("x", id="abc")),
    Case("message is null", "MESSAGE_CREATE", lambda g: None),
    Case("message is a list", "MESSAGE_CREATE", lambda g: [1, 2]),
    text_kept("attachments as a string", "attachments-string", attachments="cat.png"),
    text_kept("embeds as an object", "embeds-object", embeds={"title": "x"}),
    text_kept("mentions holding a string", "mentions-string", mentions=["someone"]),
    text_kept(
        "edited_timestamp garbage", "timestamp-garbage", edited_timestamp="yesterday at noon"
    ),
    text_kept("guild_id not a number", "guild-id-garbage", guild_id=["x"]),
    Case(
        "member roles as role objects (Spacebar)",
        "MESSAGE_CREATE",
        lambda g: g.message(
            "text of role-objects",
            member={**g.member(), "roles": [{"id": str(g.role_id), "name": "Mod"}]},
        ),
        arrives="text of role-objects",
    ),
    Case(
        "edit without author and without member",
        "MESSAGE_UPDATE",
        lambda g: _edit(g, content="edited without author", author=..., member=...),
    ),
    Case("edit without id", "MESSAGE_UPDATE", lambda g: _edit(g, id=...)),
    Case(
        "edit of an unknown message",
        "MESSAGE_UPDATE",
        lambda g: {"id": str(g.next_id()), "channel_id": str(g.channel_id), "content": "?"},
    ),
    Case(
        "edit with member roles as role objects (Spacebar)",
        "MESSAGE_UPDATE",
        lambda g: _edit(
            g,
            content="edited with role objects",
            member={**g.member(), "roles": [{"id": str(g.role_id), "name": "Mod"}]},
        ),
        arrives="edited with role objects",
    ),
    Case("delete without id", "MESSAGE_DELETE", lambda g: {"channel_id": str(g.channel_id)}),
    Case(
        "bulk delete ids as a string",
        "MESSAGE_DELETE_BULK",
        lambda g: {"ids": "all of them", "channel_id": str(g.channel_id)},
    ),
    Case(
        "reaction without emoji",
        "MESSAGE_REACTION_ADD",
        lambda g: {
            "user_id": str(g.user_id),
            "channel_id": str(g.channel_id),
            "message_id": str(g.message_id),
            "guild_id": str(g.guild_id),
        },
    ),
    Case(
        "reaction without user_id",
        "MESSAGE_REACTION_ADD",
        lambda g: {
            "channel_id": str(g.channel_id),
            "message_id": str(g.message_id),
            "guild_id": str(g.guild_id),
            "emoji": {"id": None, "name": "👍"},
        },
    ),
    Case(
        "member update with user null",
        "GUILD_MEMBER_UPDATE",
        lambda g: {**g.member(), "guild_id": str(g.guild_id), "user": None},
    ),
    Case(
        "member update without user",
        "GUILD_MEMBER_UPDATE",
        lambda g: {**g.member(), "guild_id": str(g.guild_id)},
    ),
    Case(
        "member add without user",
        "GUILD_MEMBER_ADD",
        lambda g: {**g.member(), "guild_id": str(g.guild_id)},
    ),
    Case(
        "member update with roles as a string",
        "GUILD_MEMBER_UPDATE",
        lambda g: {**g.member(), "guild_id": str(g.guild_id), "user": g.author(), "roles": "x"},
    ),
    Case(
        "member update with roles as role objects (Spacebar)",
        "GUILD_MEMBER_UPDATE",
        lambda g: {
            **g.member(),
            "guild_id": str(g.guild_id),
            "user": g.author(),
            "roles": [{"id": str(g.role_id), "name": "Mod"}],
        },
    ),
    Case(
        "pins update with a garbage time",
        "CHANNEL_PINS_UPDATE",
        lambda g: {
            "guild_id": str(g.guild_id),
            "channel_id": str(g.channel_id),
            "last_pin_timestamp": "not a time",
        },
    ),
    Case(
        "thread without parent",
        "THREAD_CREATE",
        lambda g: {
            "id": str(g.next_id()),
            "guild_id": str(g.guild_id),
            "name": "orphan",
            "type": 11,
            "owner_id": str(g.user_id),
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": datetime.now(UTC).isoformat(),
                "locked": False,
            },
        },
    ),
    Case(
        "channel create without position (Spacebar)",
        "CHANNEL_CREATE",
        lambda g: g.channel(position=...),
    ),
    Case(
        "channel update without position (Spacebar)",
        "CHANNEL_UPDATE",
        lambda g: g.channel(position=...),
    ),
]


@pytest.fixture(scope="module")
def payload_guild(discord_emulator: DiscordEmulator) -> Guild:
    store = discord_emulator.store
    owner = store.create_user("owner", global_name="Guild Owner")
    bot, application, token = store.create_bot("Matrix Bridge")
    guild = store.create_guild("Payload Guild", owner.id)
    store.add_member(guild.id, bot.id)
    role = store.create_role(guild.id, "Mod")
    user = store.create_user("mallory", global_name="Mallory")
    store.add_member(guild.id, user.id, roles=[role.id])
    channel_id = next(iter(guild.channel_ids))
    overrides = {
        "discord.api_url": discord_emulator.api_url,
        "discord.gateway_url": discord_emulator.gateway_url,
        "discord.cdn_url": discord_emulator.cdn_url,
        "discord.bot_token": token,
        "discord.application_id": application.id,
        "bridge.guilds": f"[{guild.id}]",
    }
    return Guild(discord_emulator, guild.id, channel_id, user.id, role.id, 0, overrides)


@dataclass
class RunningBridge:
    process: BridgeProcess
    metrics_url: str
    room_id: str
    viewer: MatrixTestClient
    control: Control

    async def metric(self, event: str) -> float:
        """``discord_bridge_gateway_dispatch_errors_total{event}`` now (0 if absent)."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(self.metrics_url + "/metrics") as response,
        ):
            text = await response.text()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == METRIC and sample.labels.get("event") == event:
                    return sample.value
        return 0.0

    async def wait_for_text(self, text: str) -> dict[str, Any]:
        """The room's event whose body (or edited body) is ``text``; fails after 20 s."""

        def body(event: dict[str, Any]) -> str | None:
            content = event.get("content", {})
            return content.get("m.new_content", {}).get("body") or content.get("body")

        return await self.viewer.wait_for_event(
            self.room_id,
            lambda e: body(e) == text,
            types=["m.room.message"],
            timeout=20,
            what=f"the message {text!r}",
        )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bridge(
    payload_guild: Guild,
    synapse: LocalSynapse,
    bridge_config_path: Path,
    appservice_registration: Path,
    appservice_registration_data: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningBridge]:
    """``python -m bridge`` against the module's guild, with metrics on, until the module
    ends; a first message relayed (the one edits and reactions point at)."""
    g = payload_guild
    directory = tmp_path_factory.mktemp("payloads")
    metrics_url = f"http://127.0.0.1:{free_port()}"
    values = {
        "homeserver.address": synapse.url,
        "appservice.database.url": f"sqlite:{directory / 'bridge.db'}",
        "metrics.enabled": "true",
        "metrics.listen_address": metrics_url.removeprefix("http://"),
        "logging": LOGGING,
        **g.overrides,
    }
    env = {"DISCORD_BRIDGE__" + k.upper().replace(".", "__"): str(v) for k, v in values.items()}
    process = BridgeProcess(bridge_config_path, env, directory / "bridge.log")
    viewer = MatrixTestClient(
        synapse.url, appservice_registration_data["as_token"], as_user_id=f"@discordbot:{SERVER}"
    )
    control = Control(g.emulator.base_url + "/_control")
    try:
        await process.wait_for_output("Bridge started as")
        alias = RoomAlias(f"#discord_{g.channel_id}:{SERVER}")
        room = await viewer.api.resolve_room_alias(alias)
        first = g.emulator.store.create_message(g.channel_id, g.user_id, "the first message")
        g.message_id = first.id
        running = RunningBridge(process, metrics_url, str(room.room_id), viewer, control)
        await running.wait_for_text("the first message")
        yield running
    finally:
        await control.close()
        await viewer.close()
        await process.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_malformed_dispatch_is_skipped_and_the_next_message_arrives(
    case: Case, bridge: RunningBridge, payload_guild: Guild
) -> None:
    g = payload_guild
    hub = get_hub(g.emulator.app)
    identifies = hub.identify_count
    assert bridge.process.process.poll() is None, "the bridge has stopped"
    errors_before = await bridge.metric(case.event)

    answer = await bridge.control.gateway_dispatch(case.event, case.build(g))
    assert answer == {"sessions": 1}
    text = f"after {case.name}"
    g.emulator.store.create_message(g.channel_id, g.user_id, text)

    await bridge.wait_for_text(text)
    if case.arrives is not None:  # what was sound in the dispatch was relayed too
        await bridge.wait_for_text(case.arrives)
    assert bridge.process.process.poll() is None, bridge.process.output[-3000:]
    output = bridge.process.output
    assert "Cannot connect to the Discord gateway" not in output
    assert "A relay job for channel" not in output  # the handlers never saw it broken
    assert hub.identify_count == identifies  # the same session: no reconnect
    assert len(hub.connections) == 1
    if case.counted:
        assert await bridge.metric(case.event) == errors_before + 1
        # Logged once per event type at WARNING; the later ones at DEBUG.
        logged = [line for line in output.splitlines() if f"Malformed {case.event} " in line]
        assert len([line for line in logged if " WARNING " in line]) == 1, logged
        assert len(logged) == errors_before + 1, logged
