"""Migrations and round trips, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.__main__ import main
from bridge.db.connect import open_database
from bridge.db.migrate import DatabaseTooNew, code_head, upgrade_database
from bridge.db.rows import (
    GuildRow,
    ImportCheckpointRow,
    MatrixUserRow,
    MediaRow,
    MessagePartRow,
    PortalRow,
    PuppetRow,
    ReactionRow,
)
from bridge.db.url import DatabaseURL, resolve_database_url

from .conftest import WriteConfig

BRIDGE_TABLES = {
    "guild",
    "portal",
    "puppet",
    "matrix_user",
    "message_part",
    "reaction",
    "media_cache",
    "import_checkpoint",
    "handled_txn",
    "matrix_reaction",
    "matrix_inbox",
}


async def schema_of(url: DatabaseURL) -> dict[str, list[tuple[str, str]]]:
    """Every table with its columns and types, as the database describes them."""
    engine = create_async_engine(url.sqlalchemy)
    try:
        async with engine.connect() as connection:

            def read(sync):  # noqa: ANN001, ANN202
                inspector = inspect(sync)
                return {
                    table: [(c["name"], str(c["type"])) for c in inspector.get_columns(table)]
                    for table in inspector.get_table_names()
                }

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def test_migration_creates_every_table(database_url: str, tmp_path: Path) -> None:
    url = resolve_database_url(database_url, tmp_path)
    before, after = await upgrade_database(url)
    assert before == () and after == code_head(url)
    schema = await schema_of(url)
    assert set(schema) >= BRIDGE_TABLES
    assert ("space_room_id", "TEXT") in schema["guild"]


async def test_migrating_again_changes_nothing(database_url: str, tmp_path: Path) -> None:
    url = resolve_database_url(database_url, tmp_path)
    await upgrade_database(url)
    first = await schema_of(url)
    before, after = await upgrade_database(url)
    assert before == (after,)
    assert await schema_of(url) == first


async def test_a_database_from_a_newer_bridge_is_refused(database_url: str, tmp_path: Path) -> None:
    url = resolve_database_url(database_url, tmp_path)
    await upgrade_database(url)
    engine = create_async_engine(url.sqlalchemy)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    await engine.dispose()
    with pytest.raises(DatabaseTooNew, match="9999_future.*newer bridge"):
        await upgrade_database(url)
    # Untouched: still the newer revision.
    engine = create_async_engine(url.sqlalchemy)
    async with engine.connect() as connection:
        assert (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar() == "9999_future"
    await engine.dispose()


async def test_rows_round_trip(database_url: str, tmp_path: Path) -> None:
    database = await open_database(resolve_database_url(database_url, tmp_path))
    tables = database.tables
    try:
        guild = GuildRow(1098765432109876543, "!space:example.org", "My guild", "abc", None, 1700)
        await tables.guilds.upsert(guild)
        assert await tables.guilds.get(guild.discord_id) == guild

        portal = PortalRow(
            1100000000000000001, guild.discord_id, None, 0, "!room:example.org", "general"
        )
        await tables.portals.upsert(portal)
        portal.topic = "updated"
        await tables.portals.upsert(portal)
        assert await tables.portals.get(portal.discord_id) == portal
        assert await tables.portal_by_room("!room:example.org") == portal

        puppet = PuppetRow("42", "Alice", "hash", "mxc://x/y", is_bot=True, name_set=True)
        await tables.puppets.upsert(puppet)
        assert await tables.puppets.get("42") == puppet

        user = MatrixUserRow("@alice:example.org", "!mgmt:example.org", 42)
        await tables.matrix_users.upsert(user)
        assert await tables.matrix_users.get(user.mxid) == user

        parts = [
            MessagePartRow(
                555,
                index,
                portal.discord_id,
                "!room:example.org",
                f"$e{index}",
                "@g:x",
                1700 + index,
            )
            for index in range(3)
        ]
        await tables.message_parts.upsert_many(parts)
        assert await tables.message_parts_of(555) == parts
        assert await tables.message_part_by_event("!room:example.org", "$e1") == parts[1]
        assert (await tables.last_bridged_message(portal.discord_id)) == parts[2]

        reaction = ReactionRow(555, 42, "👍", "!room:example.org", "$r")
        await tables.reactions.upsert(reaction)
        assert await tables.reaction_by_event("!room:example.org", "$r") == reaction
        await tables.reactions.delete(555, 42, "👍")
        assert await tables.reactions.get(555, 42, "👍") is None

        media = MediaRow("https://cdn/x.png", "mxc://x/z", "image/png", 10)
        await tables.media.upsert(media)
        assert await tables.media.get(media.source_key) == media

        checkpoint = ImportCheckpointRow(portal.discord_id, 555, 3, True, 1800)
        await tables.import_checkpoints.upsert(checkpoint)
        assert await tables.import_checkpoints.get(portal.discord_id) == checkpoint

        assert await tables.mark_transaction_handled("txn1", 1000) is True
        assert await tables.mark_transaction_handled("txn1", 1001) is False
        await tables.forget_transactions_before(2000)
        assert await tables.mark_transaction_handled("txn1", 3000) is True
    finally:
        await database.close()


async def test_deleting_a_guild_deletes_its_portals(database_url: str, tmp_path: Path) -> None:
    database = await open_database(resolve_database_url(database_url, tmp_path))
    try:
        await database.tables.guilds.upsert(GuildRow(7))
        await database.tables.portals.upsert(PortalRow(8, guild_id=7))
        await database.tables.guilds.delete(7)
        assert await database.tables.portals.get(8) is None
    finally:
        await database.close()


def test_db_upgrade_command(
    database_url: str, write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config({"appservice.database.url": database_url})
    assert main(["-c", str(path), "db", "upgrade"]) == 0
    assert "Migrated the database from empty to" in capsys.readouterr().out
    assert main(["-c", str(path), "db", "upgrade"]) == 0
    assert "already at the current schema" in capsys.readouterr().out


def test_relative_sqlite_path_is_next_to_the_config(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config({"appservice.database.url": "sqlite:data/bridge.db"})
    (path.parent / "data").mkdir()
    assert main(["-c", str(path), "db", "upgrade"]) == 0
    assert (path.parent / "data" / "bridge.db").exists()


def test_unreachable_postgres_is_a_clear_error(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config({"appservice.database.url": "postgresql://nobody@127.0.0.1:1/none"})
    assert main(["-c", str(path), "db", "upgrade"]) == 1
    assert "Error: cannot connect to the database" in capsys.readouterr().err


async def test_upgrading_an_older_schema_keeps_its_rows(database_url: str, tmp_path: Path) -> None:
    import asyncio

    from alembic import command

    from bridge.db.migrate import alembic_config

    url = resolve_database_url(database_url, tmp_path)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0001")
    engine = create_async_engine(url.sqlalchemy)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO message_part (discord_message_id, part, channel_id, room_id,"
                " event_id, sender_mxid, timestamp) VALUES (1, 0, 2, '!r:x', '$e', '@g:x', 3)"
            )
        )
    await engine.dispose()
    before, after = await upgrade_database(url)
    assert before == ("0001",) and after == code_head(url)
    database = await open_database(url)
    try:
        part = (await database.tables.message_parts_of(1))[0]
        assert (part.event_id, part.kind, part.event_type, part.edited_us) == (
            "$e",
            "text",
            "m.room.message",
            None,
        )
    finally:
        await database.close()


async def test_edit_times_become_microseconds(database_url: str, tmp_path: Path) -> None:
    """0006: a part's last edit time, kept in ms before, is scaled to µs (and back down)."""
    import asyncio

    from alembic import command

    from bridge.db.migrate import alembic_config

    url = resolve_database_url(database_url, tmp_path)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0005")
    engine = create_async_engine(url.sqlalchemy)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO message_part (discord_message_id, part, channel_id, room_id,"
                " event_id, sender_mxid, timestamp, edited_ms) VALUES"
                " (1, 0, 2, '!r:x', '$e', '@g:x', 3, 1700000012250),"
                " (2, 0, 2, '!r:x', '$f', '@g:x', 3, NULL)"
            )
        )
    await engine.dispose()
    await upgrade_database(url)
    database = await open_database(url)
    try:
        edited = [(await database.tables.message_parts_of(i))[0].edited_us for i in (1, 2)]
        assert edited == [1700000012250000, None]
    finally:
        await database.close()
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0005")
    engine = create_async_engine(url.sqlalchemy)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT edited_ms FROM message_part ORDER BY discord_message_id")
        )
        assert [row[0] for row in rows] == [1700000012250, None]
    await engine.dispose()
