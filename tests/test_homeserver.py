"""The sandbox homeserver: launcher, registration loading, and the human test client."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, cast

import pytest
from mautrix.api import Method
from mautrix.api import Path as ApiPath
from mautrix.errors import MatrixRequestError

from bridge.sandbox.homeserver import LocalSynapse, SynapseError
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.homeserver import MakeMatrixUser


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# Without a running homeserver


def test_config_raises_every_rate_limit(tmp_path: Path) -> None:
    from synapse.config.ratelimiting import RatelimitConfig, RatelimitSettings

    hs = LocalSynapse(tmp_path, registrations=[tmp_path / "reg.yaml"])
    config = hs.homeserver_config()
    assert config["app_service_config_files"] == [str(tmp_path / "reg.yaml")]
    assert config["enable_registration"] is False
    assert config["report_stats"] is False
    parsed = RatelimitConfig(cast(Any, None))
    parsed.read_config(config)
    limits = {
        name: value
        for name, value in vars(parsed).items()
        if isinstance(value, RatelimitSettings)
        and value.key.startswith("rc_")
        and name != "remote_media_downloads"
    }
    assert len(limits) > 15
    assert all(s.per_second >= 1000 and s.burst_count >= 1000 for s in limits.values()), limits


async def test_missing_registration_is_a_clear_error(tmp_path: Path) -> None:
    hs = LocalSynapse(tmp_path, registrations=[tmp_path / "nope.yaml"])
    with pytest.raises(SynapseError, match="registration not found"):
        await hs.start()
    assert hs.pid is None


# With the session's homeserver


@pytest.mark.slow
async def test_synapse_answers(synapse: LocalSynapse, synapse_server_name: str) -> None:
    assert synapse.running
    assert synapse.server_name == synapse_server_name
    assert synapse.url.startswith("http://127.0.0.1:")
    async with MatrixTestClient(synapse.url) as anonymous:
        versions = await anonymous.api.versions()
    assert versions.versions


@pytest.mark.slow
async def test_appservice_bot_whoami(
    synapse: LocalSynapse, appservice_registration_data: dict[str, Any]
) -> None:
    async with MatrixTestClient(synapse.url, appservice_registration_data["as_token"]) as bot:
        assert await bot.whoami() == f"@discordbot:{synapse.server_name}"


@pytest.mark.slow
async def test_appservice_registers_ghost_in_namespace(
    synapse: LocalSynapse, appservice_registration_data: dict[str, Any]
) -> None:
    token = appservice_registration_data["as_token"]
    localpart = f"discord_{secrets.randbelow(10**18)}"
    async with MatrixTestClient(synapse.url, token) as bot:
        resp = await bot.api.api.request(
            Method.POST,
            ApiPath.v3.register,
            {"type": "m.login.application_service", "username": localpart},
        )
    ghost = f"@{localpart}:{synapse.server_name}"
    assert resp["user_id"] == ghost
    async with MatrixTestClient(synapse.url, token, as_user_id=ghost) as puppet:
        assert await puppet.whoami() == ghost


@pytest.mark.slow
async def test_appservice_cannot_register_outside_namespace(
    synapse: LocalSynapse, appservice_registration_data: dict[str, Any]
) -> None:
    async with MatrixTestClient(synapse.url, appservice_registration_data["as_token"]) as bot:
        with pytest.raises(MatrixRequestError) as info:
            await bot.api.api.request(
                Method.POST,
                ApiPath.v3.register,
                {"type": "m.login.application_service", "username": "alice_not_a_ghost"},
            )
    assert info.value.errcode == "M_EXCLUSIVE"


@pytest.mark.slow
async def test_human_creates_room_sends_and_reads_back(matrix_user: MatrixTestClient) -> None:
    room_id = await matrix_user.create_room("General")
    first = await matrix_user.send_text(room_id, "hello")
    await matrix_user.send_text(room_id, "**world**", html="<b>world</b>")

    messages = await matrix_user.messages(room_id)
    assert [m["content"]["body"] for m in messages] == ["hello", "**world**"]
    assert messages[0]["event_id"] == first
    assert messages[1]["content"]["formatted_body"] == "<b>world</b>"
    assert all(m["sender"] == matrix_user.user_id for m in messages)

    timeline = await matrix_user.timeline(room_id)
    assert timeline[0]["type"] == "m.room.create"  # oldest first
    assert timeline[-1]["event_id"] == messages[-1]["event_id"]

    assert await matrix_user.state_event(room_id, "m.room.name") == {"name": "General"}
    assert await matrix_user.state_event(room_id, "m.room.topic") is None
    (member,) = await matrix_user.state(room_id, "m.room.member")
    assert member["state_key"] == matrix_user.user_id
    found = await matrix_user.wait_for_message(room_id, "hello", timeout=2)
    assert found["event_id"] == first


@pytest.mark.slow
async def test_second_user_joins_by_alias_and_sees_messages(
    make_matrix_user: MakeMatrixUser, synapse: LocalSynapse
) -> None:
    alice = await make_matrix_user(displayname="Alice")
    bob = await make_matrix_user()
    localpart = f"lobby_{secrets.token_hex(3)}"
    room_id = await alice.create_room("Lobby", public=True, alias_localpart=localpart)
    assert await bob.join(f"#{localpart}:{synapse.server_name}") == room_id
    await alice.send_text(room_id, "welcome, bob")
    seen = await bob.wait_for_message(room_id, "welcome, bob", timeout=5)
    assert seen["sender"] == alice.user_id
    assert room_id in await bob.joined_rooms()


@pytest.mark.slow
async def test_wait_for_event_times_out_clearly(matrix_user: MatrixTestClient) -> None:
    room_id = await matrix_user.create_room()
    with pytest.raises(TimeoutError, match="message 'never'"):
        await matrix_user.wait_for_message(room_id, "never", timeout=0.3)


@pytest.mark.slow
async def test_space_children_are_listed(matrix_user: MatrixTestClient) -> None:
    space_id = await matrix_user.create_room("Guild", space=True)
    rooms = {name: await matrix_user.create_room(name) for name in ("general", "off-topic")}
    for order, room_id in enumerate(rooms.values()):
        await matrix_user.add_space_child(space_id, room_id, order=str(order))

    children = await matrix_user.space_children(space_id)
    assert {c["room_id"]: c.get("name") for c in children} == {v: k for k, v in rooms.items()}
    assert all(c.get("room_type") is None for c in children)

    root = (await matrix_user.hierarchy(space_id))[0]
    assert root["room_id"] == space_id
    assert root["room_type"] == "m.space"
    assert {s["state_key"] for s in root["children_state"]} == set(rooms.values())
    child_state = await matrix_user.state_event(space_id, "m.space.child", rooms["general"])
    assert child_state == {"via": [matrix_user.api.domain], "order": "0"}


# With homeservers of its own


@pytest.mark.slow
async def test_stop_leaves_no_process_and_data_dir_is_reused(tmp_path: Path) -> None:
    hs = LocalSynapse(tmp_path / "hs")
    async with hs:
        pid = hs.pid
        assert pid is not None
        user_id, _ = await hs.register_user("keeper", "secret-pw")
    assert pid is not None and _gone(pid)
    assert not hs.running

    async with hs:  # same dir, maybe another port: the database and server name are kept
        pid = hs.pid
        assert pid is not None
        async with await MatrixTestClient.login(hs.url, "keeper", "secret-pw") as keeper:
            assert keeper.user_id == user_id
    assert _gone(pid)
    await hs.stop()  # twice is harmless


@pytest.mark.slow
async def test_failed_start_reports_synapse_output(tmp_path: Path) -> None:
    hs = LocalSynapse(tmp_path, extra_config={"database": {"name": "no-such-engine"}})
    with pytest.raises(SynapseError) as info:
        await hs.start()
    message = str(info.value)
    assert "exited with code" in message
    assert "no-such-engine" in message
    assert not hs.running
