"""The provisioning API over HTTP against the in-process bridge, the emulator and Synapse.

Every answer is checked against ``bridge/web/provisioning.openapi.yaml`` (the client in
``conftest.py`` validates each JSON body with the schema of its operation and status).
"""

from __future__ import annotations

from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from ruamel.yaml import YAML

from bridge.app import Bridge
from bridge.sandbox.matrix_client import MatrixTestClient
from bridge.web.provisioning import PREFIX, add_provisioning_routes
from tests.fixtures.community import Community, eventually, room_of
from tests.fixtures.discord import SandboxGuild
from tests.web.conftest import SECRET, ProvisioningClient, base_url
from tests.web.openapi_check import check_response, check_schemas, described_operations, openapi


def served_operations(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical.removeprefix(PREFIX))
        for route in app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith(PREFIX + "/")
    }


def test_every_route_is_described_and_every_description_served() -> None:
    app = web.Application()
    assert add_provisioning_routes(app, SECRET, lambda: None)
    assert served_operations(app) == described_operations()
    check_schemas()
    assert openapi()["openapi"].startswith("3.1")


def test_no_secret_no_routes() -> None:
    app = web.Application()
    assert not add_provisioning_routes(app, "", lambda: None)
    assert served_operations(app) == set()


async def test_not_ready_until_the_bridge_started() -> None:
    app = web.Application()
    add_provisioning_routes(app, SECRET, lambda: None)
    async with TestClient(TestServer(app)) as client:
        response = await client.get(
            PREFIX + "/guilds", headers={"Authorization": f"Bearer {SECRET}"}
        )
        body = await response.json()
        assert response.status == 503 and body["errcode"] == "M_NOT_READY"
        check_response("GET", "/guilds", 503, body)
        response = await client.get(PREFIX + "/guilds")  # the secret is checked first
        assert response.status == 401


async def test_unexpected_failures_are_500_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()
    add_provisioning_routes(app, SECRET, lambda: cast(Any, object()))  # no parts at all
    async with TestClient(TestServer(app)) as client:
        response = await client.get(
            PREFIX + "/guilds", headers={"Authorization": f"Bearer {SECRET}"}
        )
        body = await response.json()
    assert response.status == 500 and body["errcode"] == "M_UNKNOWN"
    assert "log" in body["error"] and "object" not in body["error"]
    check_response("GET", "/guilds", 500, body)
    assert "GET /_matrix/provision/v1/guilds failed" in caplog.text


@pytest.mark.slow
async def test_disabled_api_answers_404(running_bridge: Bridge) -> None:
    async with aiohttp.ClientSession() as session:
        for path in ("/guilds", "/status", "/openapi.yaml"):
            url = base_url(running_bridge) + PREFIX + path
            async with session.get(
                url, headers={"Authorization": "Bearer " + "x" * 20}
            ) as response:
                assert response.status == 404, path


@pytest.mark.slow
async def test_secret_is_required(api: ProvisioningClient) -> None:
    answer = await api.get("/guilds", token=None)
    assert answer.status == 401 and answer.body["errcode"] == "M_MISSING_TOKEN"
    assert "shared_secret" in answer.body["error"]
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    answer = await api.get("/guilds", token=SECRET + "x")
    assert answer.status == 403 and answer.body["errcode"] == "M_FORBIDDEN"
    answer = await api.post("/imports", {"target_id": "1"}, token="")
    assert answer.status == 401
    async with api.session.get(
        api.base_url + PREFIX + "/guilds", headers={"Authorization": f"Basic {SECRET}"}
    ) as response:
        assert response.status == 401
    # The description needs no secret.
    async with api.session.get(api.base_url + PREFIX + "/openapi.yaml") as response:
        assert response.status == 200 and response.content_type == "application/yaml"
        served = YAML(typ="safe").load(await response.text())
    assert served["paths"].keys() == openapi()["paths"].keys()


@pytest.mark.slow
async def test_bad_input_names_the_field(api: ProvisioningClient, community: Community) -> None:
    async def refused(answer: Any, *words: str, errcode: str = "M_INVALID_PARAM") -> None:
        assert answer.status == 400, answer
        assert answer.body["errcode"] == errcode, answer.body
        for word in words:
            assert word in answer.body["error"], answer.body

    guild = community.guild_id
    await refused(await api.post("/guilds/{guild_id}/bridge", guild_id="abc"), "guild_id", "'abc'")
    await refused(await api.post("/guilds/{guild_id}/sync", guild_id="-5"), "guild_id")
    await refused(await api.get("/imports/{import_id}", import_id="one"), "import_id")
    await refused(await api.get("/status", query={"guild_id": "x1"}), "guild_id")
    await refused(
        await api.post("/guilds/{guild_id}/bridge", {"import": "yes"}, guild_id=guild),
        "import",
        "true or false",
    )
    await refused(
        await api.post("/guilds/{guild_id}/unbridge", {"delete_rooms": 1}, guild_id=guild),
        "delete_rooms",
    )
    await refused(
        await api.post("/guilds/{guild_id}/bridge", ["import"], guild_id=guild),
        "JSON object",
        "a list",
        errcode="M_BAD_JSON",
    )
    await refused(
        await api.post("/guilds/{guild_id}/bridge", raw=b"{import: true", guild_id=guild),
        "not valid JSON",
        errcode="M_NOT_JSON",
    )
    await refused(
        await api.post("/guilds/{guild_id}/bridge", {"imports": True}, guild_id=guild),
        "'imports'",
        "import",
    )
    await refused(await api.post("/imports", {}), "target_id", "missing")
    await refused(await api.post("/imports", {"target_id": guild}), "target_id", "string")
    await refused(
        await api.post("/imports", {"target_id": str(guild), "since": "2024-02-30"}),
        "since",
        "2024-02-30",
    )
    await refused(
        await api.post("/imports", {"target_id": str(guild), "since": "yesterday"}),
        "since",
        "YYYY-MM-DD",
    )
    await refused(
        await api.post("/imports", {"target_id": str(guild), "replace_rooms": "no"}),
        "replace_rooms",
    )
    lounge = community.channels["lounge"]
    await refused(await api.post("/channels/{channel_id}/bridge", {}, channel_id=lounge), "room_id")
    await refused(
        await api.post(
            "/channels/{channel_id}/bridge", {"room_id": "#lounge:x"}, channel_id=lounge
        ),
        "room_id",
        "'!'",
    )
    # Nothing was bridged by any of these.
    assert (await api.get("/guilds")).body["guilds"][0]["bridged"] is False


@pytest.mark.slow
async def test_bridge_sync_status_and_unbridge(
    api: ProvisioningClient,
    community: Community,
    provisioned_bridge: Bridge,
    bot_view: MatrixTestClient,
) -> None:
    guild = community.guild_id
    guilds = (await api.get("/guilds")).body["guilds"]
    assert [(g["guild_id"], g["bridged"]) for g in guilds] == [(str(guild), False)]

    answer = await api.post("/guilds/{guild_id}/bridge", guild_id=guild)
    assert answer.status == 200 and answer.body["guild_id"] == str(guild)
    assert answer.body["name"] == "Sandbox Guild" and answer.body["already_bridged"] is False
    space = answer.body["space_room_id"]
    create = await bot_view.state_event(space, "m.room.create")
    assert create["type"] == "m.space"
    row = await provisioned_bridge.database.tables.guilds.get(guild)
    assert row is not None and row.bridged_by == "provisioning"
    listed = (await api.get("/guilds")).body["guilds"][0]
    assert listed["bridged"] is True and listed["space_room_id"] == space
    assert listed["rooms"] > 0

    answer = await api.post("/guilds/{guild_id}/sync", guild_id=guild)
    assert answer.status == 200 and answer.body["already_bridged"] is True
    assert answer.body["space_room_id"] == space

    status = (await api.get("/status")).body
    assert [g["guild_id"] for g in status["guilds"]] == [str(guild)]
    assert status["gateway"]["state"] == "connected"
    one = await api.get("/status", query={"guild_id": str(guild)})
    assert one.body["guilds"][0]["space_room_id"] == space
    missing = await api.get("/status", query={"guild_id": "12345"})
    assert missing.status == 404 and missing.body["errcode"] == "M_NOT_FOUND"
    missing = await api.post("/guilds/{guild_id}/bridge", guild_id=12345)
    assert missing.status == 404 and "12345" in missing.body["error"]

    lounge = community.channels["lounge"]
    lounge_room = await room_of(provisioned_bridge, lounge)
    wrong_door = await api.post("/guilds/{guild_id}/unbridge", guild_id=lounge)
    assert wrong_door.status == 400 and f"/channels/{lounge}/unbridge" in wrong_door.body["error"]
    wrong_door = await api.post("/channels/{channel_id}/unbridge", channel_id=guild)
    assert wrong_door.status == 400 and f"/guilds/{guild}/unbridge" in wrong_door.body["error"]
    answer = await api.post("/channels/{channel_id}/unbridge", {}, channel_id=lounge)
    assert answer.status == 200, answer.body
    assert answer.body["kind"] == "channel" and answer.body["target_id"] == str(lounge)
    assert answer.body["name"] == "lounge" and answer.body["deleted"] is False
    assert answer.body["rooms"] == 1
    assert await provisioned_bridge.database.tables.portals.get(lounge) is None or (
        (await provisioned_bridge.database.tables.portals.get(lounge)).room_id != lounge_room
    )

    answer = await api.post("/guilds/{guild_id}/unbridge", {"delete_rooms": False}, guild_id=guild)
    assert answer.status == 200, answer.body
    assert answer.body["kind"] == "guild" and answer.body["target_id"] == str(guild)
    assert await provisioned_bridge.database.tables.guilds.get(guild) is None
    again = await api.post("/guilds/{guild_id}/sync", guild_id=guild)
    assert again.status == 409 and again.body["errcode"] == "M_BAD_STATE"
    again = await api.post("/guilds/{guild_id}/unbridge", guild_id=guild)
    assert again.status == 404 and again.body["errcode"] == "M_NOT_FOUND"
    guilds = (await api.get("/guilds")).body["guilds"]
    assert [(g["guild_id"], g["bridged"]) for g in guilds] == [(str(guild), False)]


@pytest.mark.slow
async def test_bridge_a_channel_to_an_existing_room(
    api: ProvisioningClient,
    community: Community,
    provisioned_bridge: Bridge,
    make_matrix_user: Any,
) -> None:
    owner: MatrixTestClient = await make_matrix_user()
    bot = provisioned_bridge.appservice.bot_mxid
    room_id = await owner.create_room("Our lounge", invite=[bot])
    levels = await owner.state_event(room_id, "m.room.power_levels")
    levels["users"][bot] = 100
    await owner.send_state(room_id, "m.room.power_levels", levels)

    lounge = community.channels["lounge"]
    path = "/channels/{channel_id}/bridge"
    assert (await api.post("/guilds/{guild_id}/bridge", guild_id=community.guild_id)).status == 200
    taken = await api.post(path, {"room_id": room_id}, channel_id=lounge)
    assert taken.status == 409 and taken.body["errcode"] == "M_BAD_STATE", taken.body
    assert (await api.post("/channels/{channel_id}/unbridge", channel_id=lounge)).status == 200
    answer = await api.post(path, {"room_id": room_id}, channel_id=lounge)
    assert answer.status == 200, answer.body
    assert answer.body == {
        "channel_id": str(lounge),
        "name": "lounge",
        "room_id": room_id,
        "guild_id": str(community.guild_id),
    }
    assert await room_of(provisioned_bridge, lounge) == room_id
    again = await api.post(path, {"room_id": room_id}, channel_id=lounge)  # no change
    assert again.status == 200 and again.body == answer.body


@pytest.mark.slow
async def test_import_progress_and_cancel(
    api: ProvisioningClient,
    community: Community,
    sandbox_guild: SandboxGuild,
    provisioned_bridge: Bridge,
    bot_view: MatrixTestClient,
) -> None:
    """Bridge with an import and cancel it; import one channel (resuming) and follow it."""
    store = sandbox_guild.emulator.store
    lounge, rules = community.channels["lounge"], community.channels["rules"]
    alice = community.users["alice"]
    for number in range(5):
        store.create_message(lounge, alice, f"old lounge message {number}", emit=False)
    for number in range(150):
        store.create_message(rules, alice, f"rule {number}", emit=False)

    answer = await api.post(
        "/guilds/{guild_id}/bridge", {"import": True}, guild_id=community.guild_id
    )
    assert answer.status == 200, answer.body
    whole = answer.body["import"]
    assert whole["guild_id"] == str(community.guild_id) and whole["state"] == "running"
    busy = await api.post("/imports", {"target_id": str(lounge)})
    assert busy.status == 409 and busy.body["errcode"] == "M_BAD_STATE"
    assert f"Import {whole['id']}" in busy.body["error"]
    cancelled = await api.post("/imports/{import_id}/cancel", import_id=whole["id"])
    assert cancelled.status == 200 and cancelled.body["state"] == "cancelled", cancelled.body
    assert cancelled.body["finished_at"] is not None

    started = await api.post("/imports", {"target_id": str(lounge), "since": "2020-01-01"})
    assert started.status == 202, started.body
    job_id = started.body["id"]
    assert started.headers["Location"] == f"{PREFIX}/imports/{job_id}"
    assert started.body["channel_ids"] == [str(lounge)]
    assert started.body["guild_id"] == str(community.guild_id)

    async def finished() -> dict[str, Any] | None:
        job = (await api.get("/imports/{import_id}", import_id=job_id)).body
        assert job["state"] in ("running", "finished"), job
        return job if job["state"] == "finished" else None

    job = await eventually(finished, "the lounge's import finishing", timeout=60)
    assert job["messages_done"] == 5 and job["messages_total"] == 5, job
    assert job["errors"] == [] and job["finished_at"] is not None
    room = await room_of(provisioned_bridge, lounge)
    events = await bot_view.timeline(room, types=["m.room.message"])
    bodies = [event["content"].get("body", "") for event in events]
    # Whatever the cancelled import had sent is not sent twice.
    assert [b for b in bodies if b.startswith("old lounge")] == [
        f"old lounge message {n}" for n in range(5)
    ]
    done = await api.post("/imports/{import_id}/cancel", import_id=job_id)
    assert done.status == 409 and "finished" in done.body["error"]

    listed = (await api.get("/imports")).body["imports"]
    assert [(j["id"], j["state"]) for j in listed] == [
        (whole["id"], "cancelled"),
        (job_id, "finished"),
    ]
    unknown = await api.get("/imports/{import_id}", import_id=987654)
    assert unknown.status == 404 and "GET" in unknown.body["error"]
    unknown = await api.post("/imports", {"target_id": "12345"})
    assert unknown.status == 404 and "12345" in unknown.body["error"]
