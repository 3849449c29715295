"""Double puppeting end to end: a linked member of the bridge's homeserver acts on Discord,
Matrix users see it come from their own account (with the mautrix marker), it never comes
back to Discord, and their ghost has left the room; off, refused or on another server, the
ghost acts as before."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bridge.app import Bridge
from bridge.doctor.double_puppet import double_puppeting
from bridge.doctor.matrix_client import bot_intent
from bridge.doctor.result import Status
from bridge.sandbox.matrix_client import MatrixTestClient
from bridge.stats import TO_DISCORD
from tests.fixtures.community import Community, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.homeserver import DOUBLE_PUPPET_TOKEN, MakeMatrixUser
from tests.fixtures.inprocess import MakeConfig
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow
MARKER = "fi.mau.double_puppet_source"


@pytest_asyncio.fixture(loop_scope="session")
async def start_lounge(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> AsyncIterator[Any]:
    """``await start_lounge(token)``: the bridge with ``bridge.double_puppet.as_token`` set to
    ``token`` ("" is off), and its bridged #lounge."""
    bridges: list[Bridge] = []

    async def start(token: str) -> Lounge:
        overrides = {"bridge.double_puppet.as_token": token} if token else {}
        bridge = Bridge(make_bridge_config(overrides))
        bridges.append(bridge)
        await bridge.start()
        assert bridge.guilds is not None
        space = (await bridge.guilds.bridge_guild(community.guild_id)).space_room_id
        room = await room_of(bridge, community.channels["lounge"])
        return Lounge(bridge, sandbox_guild, community, space, room, bot_view)

    try:
        yield start
    finally:
        for bridge in bridges:
            await bridge.stop()


async def membership(lounge: Lounge, mxid: str) -> str | None:
    member = await lounge.viewer.state_event(lounge.room, "m.room.member", mxid)
    return member.get("membership") if member else None


async def redacted_by(lounge: Lounge, event_id: str) -> str | None:
    event = await lounge.viewer.event(lounge.room, event_id)
    return (event.get("unsigned", {}).get("redacted_because") or {}).get("sender")


def relates_to(event_id: str, rel_type: str | None = None) -> Any:
    def check(event: dict[str, Any]) -> bool:
        relation = event["content"].get("m.relates_to") or {}
        return relation.get("event_id") == event_id and rel_type in (None, relation.get("rel_type"))

    return check


async def test_a_linked_local_member_acts_from_their_own_account(
    start_lounge: Any, make_matrix_user: MakeMatrixUser
) -> None:
    lounge: Lounge = await start_lounge(DOUBLE_PUPPET_TOKEN)
    alice, bob = lounge.user("alice"), lounge.user("bob")
    before = lounge.store.create_message(lounge.channel_id, alice, "before linking")
    await lounge.event_of(before.id)  # alice's ghost joined the room
    real = await make_matrix_user(displayname="Alice on Matrix")
    assert lounge.bridge.puppets is not None
    await lounge.bridge.puppets.links.link(alice, real.user_id, "matrix")
    await lounge.bridge.puppets.links.link(bob, "@bob:elsewhere.example", "matrix")

    async def moved() -> bool | None:
        ghost_left = await membership(lounge, ghost(alice)) == "leave"
        return True if ghost_left and await membership(lounge, real.user_id) == "join" else None

    await eventually(moved, "alice's account in the room, her ghost out of it")

    hello = lounge.store.create_message(lounge.channel_id, alice, "hello from Discord")
    event = await lounge.wait_for(lambda e: e["content"].get("body") == "hello from Discord", "it")
    assert event["sender"] == real.user_id
    assert event["content"][MARKER] == "discord"
    (row,) = await lounge.bridge.database.tables.message_parts_of(hello.id)  # type: ignore[union-attr]
    assert row.sender_mxid == real.user_id and not row.kind.startswith("matrix:")
    # Bob's account is on another homeserver: his ghost speaks.
    lounge.store.create_message(lounge.channel_id, bob, "bob here")
    from_bob = await lounge.wait_for(lambda e: e["content"].get("body") == "bob here", "bob's")
    assert from_bob["sender"] == ghost(bob)

    lounge.store.edit_message(lounge.channel_id, hello.id, content="hello, edited")
    edit = await lounge.wait_for(relates_to(event["event_id"], "m.replace"), "the edit")
    assert edit["sender"] == real.user_id and edit["content"][MARKER] == "discord"
    assert edit["content"]["m.new_content"]["body"] == "hello, edited"

    lounge.store.add_reaction(lounge.channel_id, before.id, alice, "👍")
    before_event = await lounge.event_of(before.id)
    reaction = await lounge.wait_for(relates_to(before_event), "the reaction", "m.reaction")
    assert reaction["sender"] == real.user_id and reaction["content"][MARKER] == "discord"
    lounge.store.remove_reaction(lounge.channel_id, before.id, alice, "👍")
    assert await eventually(lambda: redacted_by(lounge, reaction["event_id"]), "unreact")

    # Written in Element by the same account: relayed. Matrix events are relayed in order,
    # so once this one is on Discord, an echo of the double-puppeted ones would be too.
    await real.send_text(lounge.room, "typed in Element")

    async def on_discord() -> list[str] | None:
        texts = [m.content for m in reversed(lounge.store.history(lounge.channel_id))]
        return texts if "typed in Element" in texts else None

    texts = await eventually(on_discord, "the Element message on Discord")
    assert texts == ["before linking", "hello, edited", "bob here", "typed in Element"]
    # Nothing else was relayed (an echoed edit or reaction fails or counts as from Matrix).
    stats, guild_id = lounge.bridge.stats, lounge.community.guild_id
    assert stats.since_start(guild_id, TO_DISCORD) == 1
    assert stats.last_error(guild_id) is None

    lounge.store.delete_message(lounge.channel_id, hello.id)
    redactor = await eventually(lambda: redacted_by(lounge, event["event_id"]), "the delete")
    assert redactor == real.user_id
    assert await membership(lounge, ghost(alice)) == "leave"

    # Unlinked: her ghost speaks again (and joins again); her account stays.
    await lounge.bridge.puppets.links.unlink_discord(alice)
    lounge.store.create_message(lounge.channel_id, alice, "unlinked now")
    after = await lounge.wait_for(lambda e: e["content"].get("body") == "unlinked now", "it")
    assert after["sender"] == ghost(alice) and MARKER not in after["content"]
    assert await membership(lounge, real.user_id) == "join"


@pytest.mark.parametrize("token", ["", "not-the-double-puppet-token"], ids=["off", "refused"])
async def test_off_or_refused_the_ghost_acts(
    start_lounge: Any,
    make_matrix_user: MakeMatrixUser,
    token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lounge: Lounge = await start_lounge(token)
    carol = lounge.user("carol")
    real = await make_matrix_user()
    assert lounge.bridge.puppets is not None
    caplog.set_level(logging.ERROR, "bridge.migration.double_puppet")
    await lounge.bridge.puppets.links.link(carol, real.user_id, "matrix")
    lounge.store.create_message(lounge.channel_id, carol, "still my ghost")
    event = await lounge.wait_for(lambda e: e["content"].get("body") == "still my ghost", "it")
    assert event["sender"] == ghost(carol) and MARKER not in event["content"]
    assert await membership(lounge, real.user_id) != "join"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    if token:
        assert len(errors) == 1 and "bridge.double_puppet.as_token" in errors[0]
    else:
        assert errors == []


@pytest.mark.parametrize(
    ("token", "status", "detail"),
    [
        (DOUBLE_PUPPET_TOKEN, Status.OK, "registration's user is @doublepuppet_"),
        ("not-the-double-puppet-token", Status.FAIL, "does not know bridge.double_puppet.as_token"),
        ("", Status.SKIP, "off"),
    ],
    ids=["loaded", "refused", "off"],
)
async def test_doctor_checks_the_token(
    make_bridge_config: MakeConfig, token: str, status: Status, detail: str
) -> None:
    config = make_bridge_config({"bridge.double_puppet.as_token": token} if token else {})
    async with bot_intent(config) as intent:
        result = await double_puppeting(intent, config)
    assert result.status is status and detail in result.detail, result
