"""History imports run from chat: one status message edited as they go, cancel, resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.actions.admin.imports import ImportJobs
from bridge.app import Bridge
from bridge.db.tables import BridgeTables
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.commands.conftest import Chat, People
from tests.fixtures.community import Community, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow
BASE = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def imports_of(bridge: Bridge) -> ImportJobs:
    assert bridge.admin is not None
    return bridge.admin.imports


def tables_of(bridge: Bridge) -> BridgeTables:
    assert bridge.database is not None
    return bridge.database.tables


def seed_lounge(sandbox: SandboxGuild, community: Community, count: int) -> list[str]:
    """``count`` past messages in #lounge, the members taking turns; their texts in order."""
    authors = [community.users[name] for name in ("alice", "bob", "carol")]
    texts = [f"old {i}" for i in range(count)]
    sandbox.emulator.store.seed_history(
        community.channels["lounge"],
        [
            {"author_id": authors[i % 3], "timestamp": BASE + timedelta(seconds=i), "content": text}
            for i, text in enumerate(texts)
        ],
    )
    return texts


async def lounge_texts(
    bridge: Bridge, bot_view: MatrixTestClient, community: Community
) -> list[str]:
    room = await room_of(bridge, community.channels["lounge"])
    return [e["content"]["body"] for e in await bot_view.timeline(room, types=["m.room.message"])]


async def final_status(chat: Chat, event_id: str, timeout: float = 120) -> str:
    """The status message's text once the import ended (its last edit)."""

    async def ended() -> str | None:
        text = await chat.latest_text(event_id)
        return None if text.startswith("⏳") or "⏳ Importing" in text else text

    return await eventually(ended, "the import's final status", timeout=timeout)


async def status_edits(chat: Chat, event_id: str) -> list[str]:
    """The texts a status message was edited to, in order."""
    events = await chat.client.timeline(chat.room_id, types=["m.room.message"])
    return [
        e["content"]["m.new_content"]["body"]
        for e in events
        if (e["content"].get("m.relates_to") or {}).get("event_id") == event_id
        and e["content"]["m.relates_to"].get("rel_type") == "m.replace"
    ]


async def test_import_a_guild_cancel_it_midway_and_resume(
    community: Community,
    sandbox_guild: SandboxGuild,
    admin_chat: Chat,
    command_bridge: Bridge,
    bot_view: MatrixTestClient,
) -> None:
    texts = seed_lounge(sandbox_guild, community, 120)
    guild = community.guild_id
    status = await admin_chat.command(f"import {guild}")
    assert status["body"].startswith("⏳ Importing the history of **Sandbox Guild**"), status[
        "body"
    ]

    async def some_arrived() -> int | None:
        try:
            count = len(await lounge_texts(command_bridge, bot_view, community))
        except AssertionError:  # no room yet
            return None
        return count if count >= 10 else None

    await eventually(some_arrived, "part of #lounge's history", timeout=90)
    # Other commands are answered while the import runs; a second import of it is refused.
    again = await admin_chat.command(f"import {community.channels['lounge']}")
    assert "already running" in again["body"] and f"cancel {guild}" in again["body"]
    cancelled = await admin_chat.command(f"cancel {guild}")
    assert "Cancelled" in cancelled["body"] and "cancelled after" in cancelled["body"], cancelled
    (job,) = imports_of(command_bridge).all()
    assert job.state == "cancelled" and job.finished_at is not None
    text = await final_status(admin_chat, status["event_id"])
    assert "cancelled after" in text and f"run `import {guild}` again to resume" in text
    edits = await status_edits(admin_chat, status["event_id"])
    assert edits[-1] == text and all(edit.startswith("⏳") for edit in edits[:-1]), edits
    partial = await lounge_texts(command_bridge, bot_view, community)
    assert 10 <= len(partial) < len(texts), "the import ended before the cancel"
    assert partial == texts[: len(partial)]
    nothing = await admin_chat.command("cancel")
    assert "No import is running" in nothing["body"]
    # Resuming from a later date would skip what the cancelled import had not sent yet.
    later = await admin_chat.command(f"import {community.channels['lounge']} --since 2099-01-01")
    text = await final_status(admin_chat, later["event_id"])
    assert "would leave the messages in between out for good" in text, text
    assert "without --since" in text
    assert await lounge_texts(command_bridge, bot_view, community) == partial

    status = await admin_chat.command(f"import {guild}")
    text = await final_status(admin_chat, status["event_id"])
    assert text.startswith("✅ Imported the history of **Sandbox Guild**"), text
    assert f"- #lounge: {len(texts) - len(partial)} imported" in text
    assert "- #rules: already imported, nothing to do" in text
    assert await lounge_texts(command_bridge, bot_view, community) == texts
    room = await room_of(command_bridge, community.channels["lounge"])
    first = (await bot_view.timeline(room, types=["m.room.message"]))[0]
    assert first["sender"] == ghost(community.users["alice"])
    assert first["origin_server_ts"] == int(BASE.timestamp() * 1000)


async def test_bridge_with_import_and_an_unknown_guild(
    community: Community,
    sandbox_guild: SandboxGuild,
    admin_chat: Chat,
    command_bridge: Bridge,
    bot_view: MatrixTestClient,
    people: People,
) -> None:
    reply = await admin_chat.command("import 999999999")
    assert reply["body"].startswith("⚠️") and "999999999" in reply["body"], reply["body"]
    assert "Sandbox Guild" in reply["body"]  # the guilds it could have meant

    texts = seed_lounge(sandbox_guild, community, 8)
    status = await admin_chat.command(f"bridge {community.guild_id} --import", timeout=60)
    assert status["body"].startswith("Bridged **Sandbox Guild** as the space"), status["body"]
    # Said on Discord right after: it waits behind the history.
    sandbox_guild.emulator.store.create_message(
        community.channels["lounge"], community.users["bob"], "said during the import"
    )
    text = await final_status(admin_chat, status["event_id"])
    assert text.startswith("Bridged **Sandbox Guild** as the space"), text
    assert "✅ Imported the history" in text and "- #lounge: 8 imported" in text

    async def all_arrived() -> list[str] | None:
        found = await lounge_texts(command_bridge, bot_view, community)
        return found if len(found) > len(texts) else None

    assert await eventually(all_arrived, "the live message") == [*texts, "said during the import"]
    row = await tables_of(command_bridge).guilds.get(community.guild_id)
    assert row is not None and row.bridged_by == f"matrix:{people.admin}"

    # A channel whose room already has live messages is refused: the engine says why.
    store = sandbox_guild.emulator.store
    later = store.create_channel(community.guild_id, "later", parent_id=community.channels["Chat"])

    async def later_room() -> str | None:
        portal = await tables_of(command_bridge).portals.get(later.id)
        return portal.room_id if portal is not None else None

    room = await eventually(later_room, "the new channel's room")
    store.create_message(later.id, community.users["carol"], "live first")

    async def live_arrived() -> bool | None:
        return bool(await bot_view.timeline(room, types=["m.room.message"])) or None

    await eventually(live_arrived, "the live message in the new room")
    status = await admin_chat.command(f"import {later.id}")
    text = await final_status(admin_chat, status["event_id"])
    assert text.startswith("⚠️ The import of channel"), text
    assert "live bridged message parts" in text and "--replace-rooms" in text
    (*_, refused) = imports_of(command_bridge).all()
    assert refused.state == "failed" and "--replace-rooms" in refused.to_json()["errors"][0]


async def test_a_bridge_shutting_down_stops_its_import_resumably(
    community: Community,
    sandbox_guild: SandboxGuild,
    admin_chat: Chat,
    command_bridge: Bridge,
    bot_view: MatrixTestClient,
) -> None:
    seed_lounge(sandbox_guild, community, 120)
    lounge = community.channels["lounge"]
    status = await admin_chat.command(f"import {lounge}")

    async def some_arrived() -> int | None:
        try:
            count = len(await lounge_texts(command_bridge, bot_view, community))
        except AssertionError:  # no room yet
            return None
        return count if count >= 5 else None

    await eventually(some_arrived, "part of #lounge's history", timeout=90)
    await imports_of(command_bridge).stop()  # what Bridge.stop does first
    (job,) = imports_of(command_bridge).all()
    assert job.state == "cancelled" and job.to_json()["channel_ids"] == [str(lounge)]
    checkpoint = await tables_of(command_bridge).import_checkpoints.get(lounge)
    sent = await lounge_texts(command_bridge, bot_view, community)
    assert checkpoint is not None and not checkpoint.finished
    assert checkpoint.imported_count == len(sent) < 120
    text = await final_status(admin_chat, status["event_id"])
    assert f"run `import {lounge}` again to resume" in text


async def test_a_channel_unbridged_on_its_own_is_refused_and_left_importable(
    community: Community, sandbox_guild: SandboxGuild, admin_chat: Chat, command_bridge: Bridge
) -> None:
    seed_lounge(sandbox_guild, community, 3)
    lounge = community.channels["lounge"]
    await admin_chat.command(f"bridge {community.guild_id}")
    await admin_chat.command(f"unbridge {lounge}")
    status = await admin_chat.command(f"import {lounge}")
    text = await final_status(admin_chat, status["event_id"])
    assert f"channel {lounge} (#lounge) is not bridged" in text, text
    # No checkpoint: once the channel is bridged again, its history is still to import.
    tables = command_bridge.database.tables  # type: ignore[union-attr]
    assert await tables.import_checkpoints.get(lounge) is None


async def test_an_overlong_message_is_not_read_as_a_command(admin_chat: Chat) -> None:
    reply = await admin_chat.command("x" * 5000)
    assert "over 1000 characters" in reply["body"] and len(reply["body"]) < 300
