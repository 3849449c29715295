"""Follow-ups of the migration workflow (issue #18), end to end: an import after linking sends
old messages as ghosts and notifies no linked account; with double puppeting, an Element edit
of a double-puppeted message stays on Matrix, a Discord edit of a message sent before linking
still comes from the ghost, and a Discord reply to a double-puppeted message points at it and
mentions the account once; ``handover`` stopped half way (an upgrade refused once, crashes
between its steps) finishes on the next run, each room upgraded once; ``unbridge`` leaves
``bridge.room_owners`` in charge of the archives.

One bridge for the module (double puppeting on, room version 12 where the homeserver has it),
on the small test community plus two small guilds of the same bot for ``handover`` and
``unbridge``. ``bridge.room_owners`` is set in the running bridge's config by the tests that
need it: the rooms were made without owners, as in a bridge set up before the key existed.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from mautrix.errors import MUnknown

from bridge.actions.admin.services import Actor
from bridge.migration import handover as handover_module
from bridge.sandbox.homeserver_profile import HomeserverProfile
from bridge.stats import TO_DISCORD
from tests.commands.conftest import open_chat
from tests.fixtures.community import SERVER, eventually, ghost
from tests.fixtures.homeserver import MakeMatrixUser
from tests.migration.followup_fixtures import (  # noqa: F401  (world_fixture: the module's bridge)
    World,
    has_version_12,
    world_fixture,
)
from tests.migration.test_double_puppet import MARKER, relates_to
from tests.migration.test_linked_member import guild  # noqa: F401  (the module's guild)

pytestmark = pytest.mark.slow
PAST = datetime(2023, 5, 1, 9, 0, tzinfo=UTC)


async def test_an_import_after_linking_sends_as_the_ghost_and_notifies_no_account(
    world: World,
) -> None:
    store, community = world.store, world.community
    carol = community.users["carol"]
    channel = store.create_channel(
        community.guild_id, "archive", parent_id=community.channels["Chat"]
    ).id

    async def room() -> str | None:
        row = await world.bridge.database.tables.portals.get(channel)  # type: ignore[union-attr]
        return row.room_id if row and row.room_id else None

    room_id = await eventually(room, "a room for #archive")
    for minutes, author, text in (
        (0, world.dave, "old words"),
        (1, carol, f"welcome back <@{world.dave}>"),
    ):
        store.create_message(
            channel, author, text, timestamp=PAST + timedelta(minutes=minutes), emit=False
        )
    assert world.bridge.admin is not None
    job = await world.bridge.admin.imports.start(channel, actor=Actor("matrix", world.boss.user_id))
    await job.wait()
    assert job.state == "finished" and not job.errors, job.to_json()

    old, welcome = await world.viewer.timeline(room_id, types=["m.room.message"])
    assert old["content"]["body"] == "old words"
    assert old["sender"] == ghost(world.dave) and MARKER not in old["content"]
    assert welcome["sender"] == ghost(carol)
    assert f"https://matrix.to/#/{world.real.user_id}" in welcome["content"]["formatted_body"]
    assert world.real.user_id not in welcome["content"]["m.mentions"].get("user_ids", [])


async def test_an_element_edit_of_a_double_puppeted_message_stays_on_matrix(world: World) -> None:
    channel = world.community.channels["lounge"]
    said = world.say(world.dave, "said on Discord")
    event = await world.event_of(said)
    assert event["sender"] == world.real.user_id and event["content"][MARKER] == "discord"
    stats, guild_id = world.bridge.stats, world.community.guild_id
    relayed = stats.since_start(guild_id, TO_DISCORD)

    edit = await world.real.send(
        world.lounge,
        {
            "msgtype": "m.text",
            "body": "* changed in Element",
            "m.new_content": {"msgtype": "m.text", "body": "changed in Element"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event["event_id"]},
        },
    )
    # Matrix events are relayed in order: once this one is on Discord, the edit was handled.
    await world.real.send_text(world.lounge, "typed after the edit")

    async def on_discord() -> bool | None:
        texts = [m.content for m in world.store.history(channel, limit=5)]
        return True if "typed after the edit" in texts else None

    await eventually(on_discord, "the next Element message on Discord")
    message = world.store.get_message(channel, said)
    assert message.content == "said on Discord" and message.edited_timestamp is None
    assert stats.since_start(guild_id, TO_DISCORD) == relayed + 1
    timeline = await world.viewer.timeline(world.lounge, types=["m.room.message"])
    since_edit = timeline[[e["event_id"] for e in timeline].index(edit) :]
    assert [e for e in since_edit if e["content"].get("msgtype") == "m.notice"] == []


async def test_a_discord_edit_of_a_message_from_before_linking_comes_from_the_ghost(
    world: World,
) -> None:
    original = await world.event_of(world.before)
    assert await world.membership(world.lounge, ghost(world.dave)) == "leave"
    world.store.edit_message(
        world.community.channels["lounge"], world.before, content="edited later"
    )
    edit = await world.wait_for(
        world.lounge, relates_to(original["event_id"], "m.replace"), "the edit"
    )
    assert edit["sender"] == ghost(world.dave) and MARKER not in edit["content"]
    assert edit["content"]["m.new_content"]["body"] == "edited later"


async def test_a_discord_reply_to_a_double_puppeted_message_mentions_the_account_once(
    world: World,
) -> None:
    asked = world.say(world.dave, "anyone there?")
    question = await world.event_of(asked)
    assert question["sender"] == world.real.user_id
    carol = world.community.users["carol"]
    # Discord pings the replied-to author by default, and lists them in the reply's mentions.
    answer = await world.event_of(world.say(carol, "yes, here", reply_to=asked))
    assert answer["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == question["event_id"]
    assert answer["content"]["m.mentions"]["user_ids"].count(world.real.user_id) == 1
    # With the ping turned off, nobody is notified (the reply is no Matrix user's message).
    quiet = {"parse": [], "replied_user": False}
    hush = await world.event_of(world.say(carol, "quietly", reply_to=asked, allowed_mentions=quiet))
    assert hush["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == question["event_id"]
    assert world.real.user_id not in hush["content"]["m.mentions"].get("user_ids", [])


async def test_a_handover_stopped_half_way_finishes_on_the_next_run(
    world: World, monkeypatch: pytest.MonkeyPatch, homeserver_profile: HomeserverProfile
) -> None:
    if not has_version_12(homeserver_profile):
        pytest.skip(f"{homeserver_profile.name} has no room version 12")
    guild_id, bridge = world.others["handover"], world.bridge
    assert bridge.guilds is not None and bridge.admin is not None and bridge.database is not None
    tables = bridge.database.tables
    await bridge.guilds.bridge_guild(guild_id)

    async def rooms() -> dict[int, str]:
        found = {guild_id: (await tables.guilds.get(guild_id)).space_room_id}  # type: ignore[union-attr]
        for row in await tables.portals.find("guild_id = $1", guild_id):
            found[row.discord_id] = row.room_id
        return found

    old = await rooms()
    assert len(old) == 4  # the space, Chat, #general, #lounge
    upgraded: list[str] = []  # the rooms the homeserver upgraded
    request, outage = bridge.admin.bot.api.request, [MUnknown(502, "the proxy timed out")]

    async def counting(method: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        if not str(path).endswith("/upgrade"):
            return await request(method, path, *args, **kwargs)
        if outage:  # the first upgrade fails once, as in a homeserver outage
            raise outage.pop()
        answer = await request(method, path, *args, **kwargs)
        upgraded.append(unquote(str(path).split("/rooms/")[1].split("/")[0]))
        return answer

    monkeypatch.setattr(bridge.admin.bot.api, "request", counting)

    def crash_on(name: str, call: int) -> None:
        """The handover step ``name`` stops the run (a crash) on its ``call``-th call."""
        real, calls = getattr(handover_module, name), []

        async def step(*args: Any) -> Any:
            calls.append(args)
            if len(calls) == call:
                raise RuntimeError(f"crash in {name}")
            return await real(*args)

        monkeypatch.setattr(handover_module, name, step)

    actor = Actor("matrix", world.boss.user_id)
    with world.owners(world.boss.user_id):
        # First run: the space's upgrade fails (its owners get 100 meanwhile); Chat is
        # upgraded, the crash comes before its portal moves.
        crash_on("_move_rows", 1)
        with pytest.raises(RuntimeError):
            await handover_module.handover(bridge.admin, guild_id, actor)
        monkeypatch.undo()
        monkeypatch.setattr(bridge.admin.bot.api, "request", counting)
        # Second run: the space is upgraded, Chat finished, #general upgraded and moved, the
        # crash comes before its record.
        crash_on("_record", 3)
        with pytest.raises(RuntimeError):
            await handover_module.handover(bridge.admin, guild_id, actor)
        monkeypatch.undo()
        monkeypatch.setattr(bridge.admin.bot.api, "request", counting)
        assert len(upgraded) == 3
        # Third run, as an admin sends it: everything ends handed over.
        chat = await open_chat(world.boss)
        body = (await chat.command(f"handover {guild_id}"))["body"]

    # The space and Chat were done by the second run; #general is finished (upgraded by the
    # second run), #lounge upgraded now.
    assert body.count("handed over before (upgraded)") == 2, body
    assert body.count("upgraded to a new room (version 12)") == 2, body
    new = await rooms()
    assert Counter(upgraded) == Counter(old.values())  # each room upgraded once
    records = await tables.room_handovers.find("guild_id = $1", guild_id)
    assert sorted((r.room_id, r.method, r.new_room_id) for r in records) == sorted(
        (old[key], "upgrade", new[key]) for key in old
    )
    for key, room in old.items():
        assert new[key] != room
        tombstone = await world.viewer.state_event(room, "m.room.tombstone") or {}
        assert tombstone.get("replacement_room") == new[key]
        assert await world.viewer.state_event(new[key], "m.room.tombstone") is None
        create = await world.viewer.state_event(new[key], "m.room.create") or {}
        assert create.get("additional_creators") == [world.boss.user_id]
        levels = await world.viewer.state_event(new[key], "m.room.power_levels") or {}
        assert world.boss.user_id not in levels["users"]  # a creator is never listed
    levels = await world.viewer.state_event(old[guild_id], "m.room.power_levels") or {}
    assert levels["users"][world.boss.user_id] == 100  # given when the space's upgrade failed
    # The sync after the last run put the new rooms in the new spaces.
    children = {
        event["state_key"]
        for room in new.values()
        for event in await world.viewer.state(room, "m.space.child")
        if event["content"]
    }
    assert children == set(new.values()) - {new[guild_id]}


async def test_after_unbridge_the_room_owners_keep_power_100_in_the_archives(
    world: World, make_matrix_user: MakeMatrixUser
) -> None:
    guild_id, bridge = world.others["unbridge"], world.bridge
    assert bridge.guilds is not None and bridge.database is not None
    space = (await bridge.guilds.bridge_guild(guild_id)).space_room_id
    portals = await bridge.database.tables.portals.find("guild_id = $1", guild_id)
    rooms = [space, *(row.room_id for row in portals if row.room_id)]
    steward = await make_matrix_user()  # an owner who is no bridge admin
    for room in rooms:
        levels = await world.viewer.state_event(room, "m.room.power_levels") or {}
        assert steward.user_id not in levels.get("users", {})
    with world.owners(steward.user_id):
        chat = await open_chat(world.boss)
        reply = await chat.command(f"unbridge {guild_id}")
        assert "archive" in reply["body"].lower(), reply["body"]
    for room in rooms:
        # Nobody but the bridge had joined: the bot stays (else the room could never be
        # joined again) and invites the keepers, the owner among them.
        assert await world.membership(room, "@discordbot:" + SERVER) == "join"
        assert await world.membership(room, steward.user_id) == "invite"
        create = await world.viewer.state_event(room, "m.room.create") or {}
        levels = await world.viewer.state_event(room, "m.room.power_levels") or {}
        creator = steward.user_id in (create.get("additional_creators") or [])
        assert creator or levels["users"].get(steward.user_id) == 100, (room, levels)
