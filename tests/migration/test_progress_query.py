"""The migration progress query on both databases (SQLite and PostgreSQL): part-0 rows since a
time, grouped by room, sender, side and UTC day, read through the snowflake range."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.db.connect import open_database
from bridge.db.rows import MessagePartRow
from bridge.db.tables import BridgeTables, fetch_records
from bridge.db.url import resolve_database_url
from bridge.migration.progress_query import (
    ACTIVITY_SQL,
    ActivityRow,
    activity_rows,
    history_start_ms,
    snowflake_at,
)
from tests.fixtures.postgres import fresh_postgres_database

DAY_MS = 86_400_000
TODAY_MS = 20_000 * DAY_MS  # 2024-10-04, midnight UTC


@pytest.fixture(params=["sqlite", "postgres"])
async def tables(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BridgeTables]:
    """A migrated database of each kind."""
    if request.param == "sqlite":
        database = await open_database(
            resolve_database_url(f"sqlite:{tmp_path / 'b.db'}", tmp_path)
        )
        try:
            yield database.tables
        finally:
            await database.close()
        return
    async with fresh_postgres_database() as url:
        database = await open_database(resolve_database_url(url, tmp_path))
        try:
            yield database.tables
        finally:
            await database.close()


def part(
    n: int, ms: int, sender: str, kind: str = "text", part: int = 0, room: str = "!a:hs"
) -> MessagePartRow:
    return MessagePartRow(snowflake_at(ms) + n, part, 7, room, f"$e{n}", sender, ms, kind=kind)


async def test_grouped_by_room_sender_side_and_day(tables: BridgeTables) -> None:
    await tables.message_parts.upsert_many(
        [
            part(1, TODAY_MS + 10, "@g1:hs"),
            part(2, TODAY_MS + 20, "@g1:hs"),
            part(3, TODAY_MS + 30, "@g1:hs", "attachment:9", part=1),  # not part 0
            part(4, TODAY_MS + 40, "@g1:hs", "notice"),  # a join: nobody sent it
            part(5, TODAY_MS - DAY_MS + 5, "@g1:hs"),  # yesterday
            part(6, TODAY_MS + 50, "@m:hs", "matrix:0"),
            part(7, TODAY_MS + 60, "@m:hs", "matrix:0", room="!b:hs"),
            part(8, TODAY_MS - 60 * DAY_MS, "@g1:hs"),  # before the report's history
        ]
    )
    found = await activity_rows(tables, history_start_ms(TODAY_MS + 1000))
    today = TODAY_MS // DAY_MS
    assert sorted(found, key=lambda row: (row.room_id, row.sender_mxid, row.day)) == [
        ActivityRow("!a:hs", "@g1:hs", False, today - 1, 1, TODAY_MS - DAY_MS + 5),
        ActivityRow("!a:hs", "@g1:hs", False, today, 2, TODAY_MS + 20),
        ActivityRow("!a:hs", "@m:hs", True, today, 1, TODAY_MS + 50),
        ActivityRow("!b:hs", "@m:hs", True, today, 1, TODAY_MS + 60),
    ]


async def test_sqlite_reads_the_range_through_the_primary_key(tmp_path: Path) -> None:
    """Only the messages since the start are read (the import's old history is not)."""
    database = await open_database(resolve_database_url(f"sqlite:{tmp_path / 'b.db'}", tmp_path))
    try:
        plan = await fetch_records(database.tables.db, "EXPLAIN QUERY PLAN " + ACTIVITY_SQL, 5)
    finally:
        await database.close()
    details = " ".join(str(row[3]) for row in plan)
    assert "SEARCH message_part USING INDEX sqlite_autoindex_message_part_1" in details, details
