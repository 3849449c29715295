"""Start-up against any homeserver: the order of the checks, the room version, ephemeral events.

The recording homeserver below answers like conduwuit (whoami 404 M_NOT_FOUND for a bot not
registered yet), so these tests fail if the bridge asks whoami before registering.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from mautrix.appservice import AppServiceAPI, IntentAPI
from mautrix.appservice.state_store import ASStateStore
from mautrix.client.state_store.memory import MemoryStateStore
from mautrix.types import UserID
from ruamel.yaml import YAML

from bridge.__main__ import main
from bridge.matrix import checks
from bridge.matrix.checks import (
    HomeserverCheckFailed,
    check_homeserver,
    check_registration,
    choose_room_version,
    register_bot,
    room_version_from_capabilities,
)
from bridge.matrix.rooms import creation_power_levels, without_implied_creator

from .conftest import WriteConfig

BOT = "@discordbot:example.org"
CAPABILITIES = {
    "m.room_versions": {
        "default": "10",
        "available": {"9": "stable", "10": "stable", "11": "stable", "org.example.x": "unstable"},
    }
}


# The room version


def test_empty_config_takes_the_servers_default() -> None:
    assert room_version_from_capabilities(CAPABILITIES, "") == "10"


def test_a_configured_version_the_server_offers_is_used() -> None:
    assert room_version_from_capabilities(CAPABILITIES, "11") == "11"
    assert room_version_from_capabilities(CAPABILITIES, "org.example.x") == "org.example.x"


def test_a_version_the_server_does_not_offer_names_the_key_and_the_offer() -> None:
    with pytest.raises(HomeserverCheckFailed) as failure:
        room_version_from_capabilities(CAPABILITIES, "12")
    message = str(failure.value)
    assert message.startswith('bridge.room_version is "12", but the homeserver offers')
    assert "9 (stable), 10 (stable), 11 (stable), org.example.x (unstable)" in message
    assert "its default (10)" in message


def test_without_the_capability_the_configured_version_else_10() -> None:
    assert room_version_from_capabilities(None, "11") == "11"
    assert room_version_from_capabilities({}, "") == checks.FALLBACK_ROOM_VERSION == "10"


# Power levels per room version


def test_before_v12_the_creating_bot_is_listed_at_100() -> None:
    for version in ("10", "11"):
        users = creation_power_levels(BOT, {"@discord_1:example.org": 50}, version)
        assert users == {"@discord_1:example.org": 50, BOT: 100}


def test_from_v12_the_creating_bot_is_not_listed() -> None:
    for version in ("12", "13", "org.matrix.hydra.11"):
        users = creation_power_levels(BOT, {BOT: 100, "@discord_1:example.org": 50}, version)
        assert users == {"@discord_1:example.org": 50}


def test_an_existing_v12_room_never_gets_the_bot_listed() -> None:
    desired = {"users": {BOT: 100, "@discord_1:example.org": 50}, "ban": 50}
    assert without_implied_creator(desired, BOT, "12") == {
        "users": {"@discord_1:example.org": 50},
        "ban": 50,
    }
    assert without_implied_creator(desired, BOT, "11") == desired
    assert without_implied_creator(desired, BOT, None) == desired  # no room_version: "1"


# The registration asks for ephemeral events only when the config does


def _registration(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str], ephemeral: bool
) -> dict[str, Any]:
    path = write_config({"appservice.ephemeral_events": ephemeral})
    output = path.parent / "registration.yaml"
    assert main(["-c", str(path), "-g", "-r", str(output)]) == 0
    capsys.readouterr()
    return YAML(typ="safe").load(output)  # type: ignore[no-any-return]


def test_registration_asks_for_ephemeral_events_when_configured(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    registration = _registration(write_config, capsys, True)
    assert registration["receive_ephemeral"] is True
    assert registration["de.sorunome.msc2409.push_ephemeral"] is True


def test_registration_without_ephemeral_events(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    registration = _registration(write_config, capsys, False)
    assert "receive_ephemeral" not in registration
    assert "de.sorunome.msc2409.push_ephemeral" not in registration


# The order of the checks, against a homeserver that records what it was asked


class RecordingHomeserver:
    """Answers like conduwuit: whoami of an unregistered bot is 404 M_NOT_FOUND; records calls.

    ``registered`` says whether the bot exists already; ``visible_after`` how many whoami
    calls still fail after registration; ``known_token`` whether the as_token is loaded.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.registered = False
        self.visible_after = 0
        self.known_token = True
        self.capabilities: dict[str, Any] | None = CAPABILITIES
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.answer)

    async def answer(self, request: web.Request) -> web.Response:
        path = request.path
        name = path.rsplit("/", 1)[-1]
        self.calls.append(name)
        if not self.known_token and name != "versions":
            return web.json_response({"errcode": "M_UNKNOWN_TOKEN", "error": "?"}, status=401)
        if name == "versions":
            return web.json_response({"versions": ["v1.11"]})
        if name == "register":
            if self.registered:
                return web.json_response({"errcode": "M_USER_IN_USE", "error": "taken"}, status=400)
            self.registered = True
            return web.json_response({"user_id": BOT})
        if name == "whoami":
            if not self.registered or self.visible_after > 0:
                self.visible_after -= 1
                return web.json_response({"errcode": "M_NOT_FOUND", "error": "?"}, status=404)
            return web.json_response({"user_id": BOT})
        if name == "ping":
            return web.json_response({"duration_ms": 3})
        if name == "capabilities" and self.capabilities is not None:
            return web.json_response({"capabilities": self.capabilities})
        return web.json_response({"errcode": "M_UNRECOGNIZED", "error": "?"}, status=404)


class MemoryASStore(ASStateStore, MemoryStateStore):
    pass


@pytest.fixture
def homeserver() -> RecordingHomeserver:
    return RecordingHomeserver()


@pytest_asyncio.fixture
async def bot(
    homeserver: RecordingHomeserver, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[IntentAPI]:
    monkeypatch.setattr(checks, "WHOAMI_BACKOFF", (0.01, 0.01, 0.01))
    server = TestServer(homeserver.app, host="127.0.0.1")
    await server.start_server()
    store = MemoryASStore()
    api = AppServiceAPI(
        base_url=str(server.make_url("")),
        bot_mxid=UserID(BOT),
        token="as-token",
        log=logging.getLogger("test.homeserver"),  # type: ignore[arg-type]
        state_store=store,
        default_retry_count=0,
    )
    try:
        yield IntentAPI(UserID(BOT), api, state_store=store)
    finally:
        await api.session.close()
        await server.close()


async def test_the_bot_is_registered_before_whoami(
    bot: IntentAPI, homeserver: RecordingHomeserver
) -> None:
    await check_homeserver(bot, "http://hs", "discord")
    assert homeserver.calls == ["versions", "register", "whoami", "ping"]


async def test_a_bot_registered_before_is_fine(
    bot: IntentAPI, homeserver: RecordingHomeserver
) -> None:
    homeserver.registered = True
    await check_homeserver(bot, "http://hs", "discord")
    assert homeserver.calls == ["versions", "register", "whoami", "ping"]


async def test_registration_is_asked_even_when_the_state_store_remembers_it(
    bot: IntentAPI, homeserver: RecordingHomeserver
) -> None:
    """A homeserver reset since the last run: the bridge's database still says registered."""
    await bot.state_store.registered(UserID(BOT))
    await register_bot(bot)
    assert homeserver.calls == ["register"] and homeserver.registered


async def test_whoami_is_asked_again_while_the_new_bot_is_not_visible(
    bot: IntentAPI, homeserver: RecordingHomeserver
) -> None:
    homeserver.registered, homeserver.visible_after = True, 2
    assert await check_registration(bot) == BOT
    assert homeserver.calls == ["whoami"] * 3


async def test_whoami_gives_up_with_a_clear_message(
    bot: IntentAPI, homeserver: RecordingHomeserver
) -> None:
    homeserver.registered, homeserver.visible_after = True, 99
    with pytest.raises(HomeserverCheckFailed, match="still failed after registering it"):
        await check_registration(bot)
    assert homeserver.calls == ["whoami"] * (1 + len(checks.WHOAMI_BACKOFF))


async def test_an_unknown_token_at_registration_says_the_registration_is_not_loaded(
    bot: IntentAPI, homeserver: RecordingHomeserver
) -> None:
    homeserver.known_token = False
    with pytest.raises(HomeserverCheckFailed, match="the registration is not loaded"):
        await check_homeserver(bot, "http://hs", "discord")
    assert homeserver.calls == ["versions", "register"]


@pytest.mark.parametrize(
    ("capabilities", "configured", "chosen"),
    [(CAPABILITIES, "", "10"), (CAPABILITIES, "11", "11"), (None, "", "10"), (None, "11", "11")],
)
async def test_the_room_version_is_chosen_from_the_servers_capabilities(
    bot: IntentAPI,
    homeserver: RecordingHomeserver,
    capabilities: dict[str, Any] | None,
    configured: str,
    chosen: str,
) -> None:
    homeserver.capabilities = capabilities
    assert await choose_room_version(bot, configured) == chosen
