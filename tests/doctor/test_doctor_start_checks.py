"""doctor's "namespaces" and "database rooms" lines, against the session Synapse: the two
checks the bridge runs at start-up before it creates anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import load_config
from bridge.db.connect import open_database
from bridge.db.migrate import upgrade_database
from bridge.db.rows import GuildRow, PortalRow
from bridge.db.url import resolve_database_url
from bridge.doctor.matrix_client import bot_intent
from bridge.doctor.render import exit_status
from tests.doctor.conftest import Setup, line

pytestmark = pytest.mark.slow

NOT_THERE = "!nothere:sandbox.local"


async def database_listing(path: Path, space_room_id: str, *room_ids: str) -> str:
    """A migrated SQLite file at ``path`` whose guild space and portals are these rooms;
    returns its ``appservice.database.url``."""
    url = resolve_database_url(f"sqlite:{path}", path.parent)
    await upgrade_database(url)
    database = await open_database(url)
    try:
        await database.tables.guilds.upsert(GuildRow(1001, space_room_id, name="Guild"))
        for number, room_id in enumerate(room_ids, 2001):
            await database.tables.portals.upsert(PortalRow(number, 1001, room_id=room_id))
    finally:
        await database.close()
    return f"sqlite:{path}"


async def room_with_the_bot(setup: Setup) -> str:
    """A room the bridge's bot created (so it is joined)."""
    config = load_config(setup.config_path, environ=setup.environ())
    async with bot_intent(config) as intent:
        return str(await intent.create_room(name="doctor test"))


async def test_good_setup_shows_both_lines(good_setup: Setup, tmp_path: Path) -> None:
    results, report = await good_setup.run()
    assert exit_status(results) == 0, report
    assert line(report, "namespaces") == (
        "✓ namespaces: the registration reserves the ghosts' user IDs (like "
        "@discord_1:sandbox.local) and room aliases (like #discord_1:sandbox.local)"
    )
    # No database file yet: nothing to check, and doctor does not create it.
    assert line(report, "database rooms") == "– database rooms: no rooms yet (no database yet)"
    assert not (tmp_path / "bridge.db").exists()

    room_id = await room_with_the_bot(good_setup)
    url = await database_listing(tmp_path / "rooms.db", room_id)
    results, report = await good_setup.run(**{"appservice.database.url": url})
    assert exit_status(results) == 0, report
    assert line(report, "database rooms") == (
        "✓ database rooms: the bot is in all 1 room the database lists"
    )
    assert report.endswith("All checks passed.")


async def test_migrated_database_without_rooms(good_setup: Setup, tmp_path: Path) -> None:
    url = resolve_database_url(f"sqlite:{tmp_path / 'empty.db'}", tmp_path)
    await upgrade_database(url)
    results, report = await good_setup.run(
        **{"appservice.database.url": f"sqlite:{tmp_path / 'empty.db'}"}
    )
    assert exit_status(results) == 0, report
    assert line(report, "database rooms") == (
        "– database rooms: no rooms yet (the database lists none)"
    )


@pytest.mark.parametrize("key", ["bridge.username_template", "bridge.alias_template"])
async def test_templates_the_registration_does_not_reserve(good_setup: Setup, key: str) -> None:
    results, report = await good_setup.run(**{key: "dc_{id}"})
    assert exit_status(results) == 1
    namespaces = line(report, "namespaces")
    assert namespaces.startswith("✗ namespaces: The homeserver's registration for this bridge")
    kind = "@dc_1:sandbox.local" if key == "bridge.username_template" else "#dc_1:sandbox.local"
    assert kind in namespaces
    fix = namespaces.split(" — fix: ")[1]
    assert "bridge.username_template and bridge.alias_template" in fix
    assert "`python -m bridge -c CONFIG -g`" in fix and "reload it on the homeserver" in fix


async def test_registration_not_loaded_skips_namespaces_and_rooms(good_setup: Setup) -> None:
    results, report = await good_setup.run(**{"appservice.as_token": "not-the-loaded-token"})
    assert exit_status(results) == 1
    assert line(report, "namespaces") == "– namespaces: skipped: needs the registration"
    assert line(report, "database rooms") == ("– database rooms: skipped: needs the registration")


async def test_database_of_another_homeserver(good_setup: Setup, tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    url = await database_listing(path, NOT_THERE)
    before = path.read_bytes()
    results, report = await good_setup.run(**{"appservice.database.url": url})
    assert exit_status(results) == 1
    rooms = line(report, "database rooms")
    assert rooms.startswith(
        "✗ database rooms: The database at appservice.database.url lists 1 rooms the bot is "
        f"not in on this homeserver (e.g. {NOT_THERE})"
    )
    assert rooms.endswith(
        "— fix: use a fresh database at appservice.database.url, or point homeserver.address "
        "at the homeserver this database belongs to"
    )
    assert path.read_bytes() == before  # doctor changed nothing


async def test_some_rooms_missing_is_a_note(good_setup: Setup, tmp_path: Path) -> None:
    room_id = await room_with_the_bot(good_setup)
    url = await database_listing(tmp_path / "some.db", room_id, NOT_THERE)
    results, report = await good_setup.run(**{"appservice.database.url": url})
    assert exit_status(results) == 0, report
    assert line(report, "database rooms") == (
        "✓ database rooms: the bridge starts, but the bot is not in 1 of the 2 rooms the "
        f"database at appservice.database.url lists (e.g. {NOT_THERE}): invite the bot back "
        "to them, or unbridge their channels"
    )
