"""The homeserver profile proxy: a fake Synapse behind it and a fake bridge in front of its push
side show what each profile changes and that everything else passes byte for byte."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from bridge.sandbox.homeserver import free_port
from bridge.sandbox.homeserver_profile import HomeserverProfile
from bridge.sandbox.profile_proxy import ProfileProxy

AS_TOKEN = "as-secret"
BOT = "@discordbot:sandbox.local"
SYNAPSE_VERSIONS = {str(v): "stable" for v in range(1, 13)} | {"org.matrix.hydra.11": "unstable"}


@dataclass
class Seen:
    """One request as the fake upstream received it."""

    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Fake:
    """A fake server recording what reaches it; ``answers`` maps a path to (status, JSON)."""

    seen: list[Seen] = field(default_factory=list)
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    url: str = ""

    def paths(self) -> list[str]:
        return [s.raw_path.split("?")[0] for s in self.seen]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(Seen(request.method, request.raw_path, dict(request.headers), body))
        if request.path in self.answers:
            status, answer = self.answers[request.path]
            return web.json_response(answer, status=status)
        # Anything else: echo the body with a status and headers a proxy could lose.
        return web.Response(
            status=299,
            reason="Echo",
            body=body,
            headers={"Content-Type": "image/png", "X-Echo": request.raw_path},
        )


@pytest.fixture
async def synapse_fake() -> AsyncIterator[Fake]:
    async with _serve(Fake()) as fake:
        fake.answers = {
            "/_matrix/client/v3/account/whoami": (200, {"user_id": BOT}),
            "/_matrix/client/v3/register": (200, {"user_id": BOT}),
            "/_matrix/client/v3/capabilities": (
                200,
                {
                    "capabilities": {
                        "m.room_versions": {"default": "12", "available": SYNAPSE_VERSIONS},
                        "m.change_password": {"enabled": True},
                    }
                },
            ),
            "/_matrix/client/v3/createRoom": (200, {"room_id": "!new:sandbox.local"}),
        }
        yield fake


@pytest.fixture
async def bridge_fake() -> AsyncIterator[Fake]:
    async with _serve(Fake()) as fake:
        fake.answers = {"/_matrix/app/v1/ping": (200, {})}
        yield fake


class _serve:
    def __init__(self, fake: Fake) -> None:
        self.fake = fake

    async def __aenter__(self) -> Fake:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_route("*", "/{tail:.*}", self.fake.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.fake.url = f"http://127.0.0.1:{port}"
        return self.fake

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


async def proxy_for(profile: str | HomeserverProfile, synapse: Fake, bridge: Fake) -> ProfileProxy:
    if isinstance(profile, str):
        profile = HomeserverProfile.named(profile)
    proxy = ProfileProxy(profile, synapse.url, bridge.url, as_token=AS_TOKEN, bot_user_id=BOT)
    await proxy.start()
    return proxy


@pytest.fixture
async def conduwuit(synapse_fake: Fake, bridge_fake: Fake) -> AsyncIterator[ProfileProxy]:
    proxy = await proxy_for("conduwuit", synapse_fake, bridge_fake)
    yield proxy
    await proxy.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, url: str, token: str = AS_TOKEN, **kwargs: Any
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.request(method, url, headers=headers, **kwargs) as response:
        return response.status, await response.json()


WHOAMI = "/_matrix/client/v3/account/whoami"
REGISTER = "/_matrix/client/v3/register"
BOT_REGISTRATION = {"type": "m.login.application_service", "username": "discordbot"}


async def test_whoami_as_the_bot_is_not_found_until_the_bot_registers(
    conduwuit: ProfileProxy, synapse_fake: Fake, http: aiohttp.ClientSession
) -> None:
    base = conduwuit.client_url
    status, body = await call(http, "GET", base + WHOAMI)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, body = await call(http, "GET", f"{base}{WHOAMI}?user_id={BOT}")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    assert WHOAMI not in synapse_fake.paths()

    # A ghost and another user's token are none of the emulation's business.
    ghost = "@discord_1:sandbox.local"
    assert (await call(http, "GET", f"{base}{WHOAMI}?user_id={ghost}"))[0] == 200
    assert (await call(http, "GET", base + WHOAMI, token="someone-else"))[0] == 200

    # Registering a ghost does not register the bot; registering the bot does.
    ghost_registration = {**BOT_REGISTRATION, "username": "discord_1"}
    assert (await call(http, "POST", base + REGISTER, json=ghost_registration))[0] == 200
    assert (await call(http, "GET", base + WHOAMI))[0] == 404
    assert (await call(http, "POST", base + REGISTER, json=BOT_REGISTRATION))[0] == 200
    assert await call(http, "GET", base + WHOAMI) == (200, {"user_id": BOT})

    conduwuit.forget_bot()
    assert (await call(http, "GET", base + WHOAMI))[0] == 404


async def test_user_in_use_counts_as_registered(
    conduwuit: ProfileProxy, synapse_fake: Fake, http: aiohttp.ClientSession
) -> None:
    synapse_fake.answers[REGISTER] = (400, {"errcode": "M_USER_IN_USE", "error": "taken"})
    base = conduwuit.client_url
    assert await call(http, "POST", base + REGISTER, json=BOT_REGISTRATION) == (
        400,
        {"errcode": "M_USER_IN_USE", "error": "taken"},
    )
    assert json.loads(synapse_fake.seen[-1].body) == BOT_REGISTRATION
    assert await call(http, "GET", base + WHOAMI) == (200, {"user_id": BOT})


async def test_a_refused_registration_leaves_the_bot_unregistered(
    conduwuit: ProfileProxy, synapse_fake: Fake, http: aiohttp.ClientSession
) -> None:
    synapse_fake.answers[REGISTER] = (403, {"errcode": "M_EXCLUSIVE", "error": "not yours"})
    base = conduwuit.client_url
    assert (await call(http, "POST", base + REGISTER, json=BOT_REGISTRATION))[0] == 403
    assert (await call(http, "GET", base + WHOAMI))[0] == 404


async def test_continuwuity_answers_forbidden_and_the_status_is_a_parameter(
    synapse_fake: Fake, bridge_fake: Fake, http: aiohttp.ClientSession
) -> None:
    continuwuity = await proxy_for("continuwuity", synapse_fake, bridge_fake)
    teapot = dataclasses.replace(
        HomeserverProfile.named("conduwuit"), unregistered_whoami=(418, "M_TEAPOT")
    )
    other = await proxy_for(teapot, synapse_fake, bridge_fake)
    try:
        status, body = await call(http, "GET", continuwuity.client_url + WHOAMI)
        assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
        status, body = await call(http, "GET", other.client_url + WHOAMI)
        assert (status, body["errcode"]) == (418, "M_TEAPOT")
    finally:
        await continuwuity.stop()
        await other.stop()


async def test_synapse_profile_changes_nothing(
    synapse_fake: Fake, bridge_fake: Fake, http: aiohttp.ClientSession
) -> None:
    synapse = await proxy_for("synapse", synapse_fake, bridge_fake)
    try:
        assert not synapse.profile.differs
        assert await call(http, "GET", synapse.client_url + WHOAMI) == (200, {"user_id": BOT})
        status, body = await call(http, "GET", synapse.client_url + CAPABILITIES)
        assert body["capabilities"]["m.room_versions"]["default"] == "12"
        await call(http, "POST", synapse.client_url + CREATE_ROOM, json={"name": "x"})
        assert json.loads(synapse_fake.seen[-1].body) == {"name": "x"}
        async with http.put(synapse.push_url + TXN, json=TRANSACTION_BODY) as response:
            assert response.status == 299
        assert json.loads(bridge_fake.seen[-1].body) == TRANSACTION_BODY
    finally:
        await synapse.stop()


CAPABILITIES = "/_matrix/client/v3/capabilities"
CREATE_ROOM = "/_matrix/client/v3/createRoom"


async def test_capabilities_list_conduwuits_room_versions_only(
    conduwuit: ProfileProxy, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, "GET", conduwuit.client_url + CAPABILITIES)
    assert status == 200
    versions = body["capabilities"]["m.room_versions"]
    assert versions["default"] == "10"
    assert "12" not in versions["available"]
    assert {v for v, s in versions["available"].items() if s == "stable"} == {
        "6", "7", "8", "9", "10", "11"
    }  # fmt: skip
    assert body["capabilities"]["m.change_password"] == {"enabled": True}


async def test_create_room_refuses_version_12_and_defaults_to_10(
    conduwuit: ProfileProxy, synapse_fake: Fake, http: aiohttp.ClientSession
) -> None:
    url = conduwuit.client_url + CREATE_ROOM
    status, body = await call(http, "POST", url, json={"room_version": "12", "name": "x"})
    assert (status, body["errcode"]) == (400, "M_UNSUPPORTED_ROOM_VERSION")
    assert CREATE_ROOM not in synapse_fake.paths()

    assert await call(http, "POST", url, json={"name": "x"}) == (
        200,
        {"room_id": "!new:sandbox.local"},
    )
    assert json.loads(synapse_fake.seen[-1].body) == {"name": "x", "room_version": "10"}
    await call(http, "POST", url, json={"name": "y", "room_version": "11"})
    assert json.loads(synapse_fake.seen[-1].body) == {"name": "y", "room_version": "11"}

    upgrade = f"{conduwuit.client_url}/_matrix/client/v3/rooms/!a:sandbox.local/upgrade"
    status, body = await call(http, "POST", upgrade, json={"new_version": "12"})
    assert (status, body["errcode"]) == (400, "M_UNSUPPORTED_ROOM_VERSION")
    assert len(synapse_fake.seen) == 2


TXN = "/_matrix/app/v1/transactions/17"
TRANSACTION_BODY = {
    "events": [{"type": "m.room.message", "event_id": "$1", "content": {"body": "hi"}}],
    "ephemeral": [{"type": "m.typing", "room_id": "!a:s", "content": {"user_ids": ["@u:s"]}}],
    "de.sorunome.msc2409.ephemeral": [{"type": "m.receipt", "content": {}}],
    "de.sorunome.msc2409.to_device": [],
}


async def test_pushed_transactions_lose_their_ephemeral_events(
    conduwuit: ProfileProxy, bridge_fake: Fake, http: aiohttp.ClientSession
) -> None:
    async with http.put(
        f"{conduwuit.push_url}{TXN}?access_token=hs", json=TRANSACTION_BODY
    ) as response:
        assert response.status == 299
    received = bridge_fake.seen[-1]
    assert received.raw_path == f"{TXN}?access_token=hs"
    assert json.loads(received.body) == {
        "events": TRANSACTION_BODY["events"],
        "de.sorunome.msc2409.to_device": [],
    }
    async with http.post(conduwuit.push_url + "/_matrix/app/v1/ping", json={}) as response:
        assert (response.status, await response.json()) == (200, {})


async def test_everything_else_passes_byte_for_byte(
    conduwuit: ProfileProxy, synapse_fake: Fake, http: aiohttp.ClientSession
) -> None:
    body = os.urandom(3 * 1024 * 1024 + 7)  # a large upload, streamed both ways
    raw_path = "/_matrix/media/v3/upload/%21room%3Asandbox.local?filename=a%20b.png&x=%2F"
    headers = {"Content-Type": "image/png", "X-Custom": "kept", "Authorization": "Bearer t"}
    async with http.post(
        URL(conduwuit.client_url + raw_path, encoded=True),
        data=body,
        headers=headers,
    ) as response:
        assert (response.status, response.reason) == (299, "Echo")
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["X-Echo"] == raw_path
        assert await response.read() == body
    seen = synapse_fake.seen[-1]
    assert (seen.method, seen.raw_path, seen.body) == ("POST", raw_path, body)
    assert {k: seen.headers[k] for k in headers} == headers
    assert seen.headers["Content-Length"] == str(len(body))


async def test_an_unreachable_homeserver_is_named(
    bridge_fake: Fake, http: aiohttp.ClientSession
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    proxy = ProfileProxy(
        HomeserverProfile.named("conduwuit"), dead, bridge_fake.url, as_token="x", bot_user_id=BOT
    )
    async with proxy:
        status, body = await call(http, "GET", proxy.client_url + "/_matrix/client/versions")
    assert status == 502 and dead in body["error"]


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="expected one of conduwuit, continuwuity, synapse"):
        HomeserverProfile.named("dendrite")
