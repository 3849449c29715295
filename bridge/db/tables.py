"""Explicit SQL for each table, with column lists built once from the row dataclasses.

The SQL uses ``$1`` placeholders for both backends: mautrix's database layer passes them to
asyncpg as they are and rewrites them for SQLite.
"""

from __future__ import annotations

import re
from contextlib import AbstractAsyncContextManager
from dataclasses import fields
from functools import lru_cache
from operator import attrgetter
from typing import Any, Generic, TypeVar

import aiosqlite
from mautrix.util.async_db import Database, Scheme
from mautrix.util.async_db.connection import LoggingConnection

from .rows import (
    AccountLinkRow,
    CutoverAnnouncementRow,
    CutoverOverwriteRow,
    CutoverRow,
    ExcludedChannelRow,
    GuildRow,
    HandledTransactionRow,
    ImportCheckpointRow,
    LinkCodeRow,
    MatrixInboxRow,
    MatrixReactionRow,
    MatrixUserRow,
    MediaRow,
    MessagePartRow,
    PermissionNoticeRow,
    PortalRow,
    PuppetRow,
    ReactionRow,
    RoomHandoverRow,
)

Row = TypeVar("Row")
_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=256)
def sqlite_sql(sql: str) -> str:
    """The query with SQLite's ``?1`` placeholders for ``$1`` (as mautrix rewrites them)."""
    return _PLACEHOLDER.sub(r"?\1", sql)


async def fetch_records(db: Database, sql: str, *args: Any) -> list[Any]:
    """Every record of a query (``$1`` placeholders), in one round trip to SQLite's thread.

    mautrix's ``fetch`` on SQLite makes three (execute, fetch, close the cursor), each a
    wake-up of the event loop from aiosqlite's thread: per-message lookups showed in the
    import's profile. PostgreSQL (asyncpg) goes through mautrix as before.
    """
    if db.scheme != Scheme.SQLITE:
        return await db.fetch(sql, *args)
    acquired: AbstractAsyncContextManager[LoggingConnection] = db.acquire()
    async with acquired as conn:
        wrapped = conn.wrapped
        if not isinstance(wrapped, aiosqlite.Connection):  # not expected; mautrix's way then
            return await conn.fetch(sql, *args)
        return list(await wrapped.execute_fetchall(sqlite_sql(sql), args))


async def execute_many(db: Database, sql: str, values: list[tuple[Any, ...]]) -> None:
    """Run a write (``$1`` placeholders) once per tuple of ``values``, in one statement call.

    On SQLite straight to aiosqlite (one hop to its thread, the placeholders rewritten once
    per query text, not per call); PostgreSQL through mautrix as before.
    """
    if db.scheme != Scheme.SQLITE:
        await db.executemany(sql, values)
        return
    acquired: AbstractAsyncContextManager[LoggingConnection] = db.acquire()
    async with acquired as conn:
        wrapped = conn.wrapped
        if not isinstance(wrapped, aiosqlite.Connection):
            await conn.executemany(sql, values)
            return
        await wrapped.executemany(sqlite_sql(sql), values)


class Table(Generic[Row]):
    """Get, insert, upsert and delete rows of one table by its primary key."""

    def __init__(self, db: Database, name: str, row_type: type[Row], key: tuple[str, ...]) -> None:
        self.db = db
        self.name = name
        self.row_type = row_type
        self.key = key
        self.columns = tuple(field.name for field in fields(row_type))  # type: ignore[arg-type]
        # The row's values in column order: rows hold plain values, so no deep copy (which
        # dataclasses.astuple makes, and which showed in the import's profile).
        self._values = attrgetter(*self.columns)
        # SQLite hands booleans back as 0/1.
        self._bool_columns = frozenset(
            field.name
            for field in fields(row_type)  # type: ignore[arg-type]
            if field.type in ("bool", bool)
        )
        column_list = ", ".join(self.columns)
        values = ", ".join(f"${index}" for index in range(1, len(self.columns) + 1))
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c not in key)
        self.select_sql = f"SELECT {column_list} FROM {name}"
        self.key_sql = " AND ".join(f"{column} = ${i}" for i, column in enumerate(key, 1))
        self.get_sql = f"{self.select_sql} WHERE {self.key_sql}"
        self.insert_sql = f"INSERT INTO {name} ({column_list}) VALUES ({values})"
        self.upsert_sql = (
            f"{self.insert_sql} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
            if updates
            else f"{self.insert_sql} ON CONFLICT ({', '.join(key)}) DO NOTHING"
        )
        self.insert_new_sql = f"{self.insert_sql} ON CONFLICT ({', '.join(key)}) DO NOTHING"

    def values_of(self, row: Row) -> tuple[Any, ...]:
        """The row's values in column order (the order of the SQL's placeholders)."""
        values = self._values(row)
        return values if isinstance(values, tuple) else (values,)

    def from_record(self, record: Any) -> Row:
        values = (
            bool(record[column]) if column in self._bool_columns else record[column]
            for column in self.columns
        )
        return self.row_type(*values)

    async def get(self, *key: Any) -> Row | None:
        records = await fetch_records(self.db, self.get_sql, *key)
        return self.from_record(records[0]) if records else None

    async def find(self, where: str = "", *args: Any, order: str = "") -> list[Row]:
        """Rows matching an SQL condition written with $1… placeholders."""
        sql = self.select_sql + (f" WHERE {where}" if where else "")
        sql += f" ORDER BY {order}" if order else ""
        return [self.from_record(record) for record in await fetch_records(self.db, sql, *args)]

    async def find_one(self, where: str, *args: Any) -> Row | None:
        rows = await self.find(where, *args)
        return rows[0] if rows else None

    async def insert(self, row: Row) -> None:
        await self.db.execute(self.insert_sql, *self.values_of(row))

    async def upsert(self, row: Row) -> None:
        await execute_many(self.db, self.upsert_sql, [self.values_of(row)])

    async def upsert_many(self, rows: list[Row]) -> None:
        """Write many rows in one round trip (a message's parts, as it is relayed)."""
        if rows:
            await execute_many(self.db, self.upsert_sql, [self.values_of(row) for row in rows])

    async def insert_new_many(self, rows: list[Row]) -> None:
        """Write the rows whose key is not stored yet; a stored row keeps its values."""
        if rows:
            await execute_many(self.db, self.insert_new_sql, [self.values_of(row) for row in rows])

    async def delete(self, *key: Any) -> None:
        await self.db.execute(f"DELETE FROM {self.name} WHERE {self.key_sql}", *key)


class BridgeTables:
    """Every table of the bridge, plus the queries that are more than a key lookup."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.guilds = Table(db, "guild", GuildRow, ("discord_id",))
        self.portals = Table(db, "portal", PortalRow, ("discord_id",))
        self.puppets = Table(db, "puppet", PuppetRow, ("ghost_id",))
        self.matrix_users = Table(db, "matrix_user", MatrixUserRow, ("mxid",))
        self.message_parts = Table(
            db, "message_part", MessagePartRow, ("discord_message_id", "part")
        )
        self.reactions = Table(
            db, "reaction", ReactionRow, ("discord_message_id", "discord_user_id", "emoji_key")
        )
        self.media = Table(db, "media_cache", MediaRow, ("source_key",))
        self.import_checkpoints = Table(
            db, "import_checkpoint", ImportCheckpointRow, ("channel_id",)
        )
        self.matrix_reactions = Table(
            db, "matrix_reaction", MatrixReactionRow, ("room_id", "event_id")
        )
        self.handled_transactions = Table(db, "handled_txn", HandledTransactionRow, ("txn_id",))
        self.matrix_inbox = Table(db, "matrix_inbox", MatrixInboxRow, ("event_id",))
        self.excluded_channels = Table(db, "excluded_channel", ExcludedChannelRow, ("channel_id",))
        self.permission_notices = Table(
            db, "permission_notice", PermissionNoticeRow, ("room_id", "mxid")
        )
        # The migration workflow (bridge/migration).
        self.account_links = Table(
            db, "account_link", AccountLinkRow, ("discord_user_id", "linked_at")
        )
        self.link_codes = Table(db, "link_code", LinkCodeRow, ("code_hash",))
        self.cutovers = Table(db, "cutover", CutoverRow, ("guild_id",))
        self.cutover_announcements = Table(
            db, "cutover_announcement", CutoverAnnouncementRow, ("channel_id",)
        )
        self.cutover_overwrites = Table(
            db, "cutover_overwrite", CutoverOverwriteRow, ("channel_id",)
        )
        self.room_handovers = Table(db, "room_handover", RoomHandoverRow, ("room_id",))

    async def portal_by_room(self, room_id: str) -> PortalRow | None:
        return await self.portals.find_one("room_id = $1", room_id)

    async def message_parts_of(self, discord_message_id: int) -> list[MessagePartRow]:
        return await self.message_parts.find(
            "discord_message_id = $1", discord_message_id, order="part"
        )

    async def message_part_by_event(self, room_id: str, event_id: str) -> MessagePartRow | None:
        parts = await self.message_parts_by_event(room_id, event_id)
        return parts[0] if parts else None

    async def message_parts_by_event(self, room_id: str, event_id: str) -> list[MessagePartRow]:
        """The Discord messages of a Matrix event (several when a long one was split)."""
        return await self.message_parts.find(
            "room_id = $1 AND event_id = $2", room_id, event_id, order="discord_message_id, part"
        )

    async def last_bridged_message(self, channel_id: int) -> MessagePartRow | None:
        """The newest message bridged in a channel: where catching up after a restart starts."""
        rows = await self.message_parts.find(
            "channel_id = $1", channel_id, order="discord_message_id DESC, part DESC LIMIT 1"
        )
        return rows[0] if rows else None

    async def reaction_by_event(self, room_id: str, event_id: str) -> ReactionRow | None:
        return await self.reactions.find_one("room_id = $1 AND event_id = $2", room_id, event_id)

    async def mark_transaction_handled(self, txn_id: str, now_ms: int) -> bool:
        """Record a transaction id, in one statement; False if it had already been handled."""
        inserted = await self.db.fetchval(
            "INSERT INTO handled_txn (txn_id, handled_at) VALUES ($1, $2) "
            "ON CONFLICT (txn_id) DO NOTHING RETURNING txn_id",
            txn_id,
            now_ms,
        )
        return inserted is not None

    async def forget_transactions_before(self, cutoff_ms: int) -> None:
        """Drop old transaction ids: the homeserver retries for hours, not for weeks."""
        await self.db.execute("DELETE FROM handled_txn WHERE handled_at < $1", cutoff_ms)
