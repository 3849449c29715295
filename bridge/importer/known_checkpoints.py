"""The import checkpoints a dry run takes into account, read without changing anything.

A dry run counts what a real run would send: nothing for a channel whose import finished, and
for one stopped midway only what comes after its checkpoint. It reads the ``import_checkpoint``
table if the database exists: no migration, no file created, nothing written.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from mautrix.util.async_db import Database

from ..db.rows import ImportCheckpointRow
from ..db.url import DatabaseURL

log = logging.getLogger("bridge.importer")


async def read_checkpoints(url: DatabaseURL) -> dict[int, ImportCheckpointRow]:
    """Every stored checkpoint by channel (or forum post) id; empty when there is no
    database yet (a SQLite file that does not exist), no such table, or the database cannot
    be opened (logged: the dry run then counts every message)."""
    if url.is_sqlite:
        file = Path(url.runtime.removeprefix("sqlite://"))
        if not await asyncio.to_thread(file.exists):
            return {}
    pool = Database.create(url.runtime, log=logging.getLogger("bridge.db.pool"))
    try:
        await pool.start()
    except Exception as error:  # any driver's connection error: counting goes on without
        log.warning(
            "Could not read earlier imports' checkpoints from %s (%s): counting every message",
            url.location,
            error,
        )
        return {}
    try:
        rows = await pool.fetch(
            "SELECT channel_id, last_message_id, imported_count, finished FROM import_checkpoint"
        )
    except Exception as error:  # no such table yet (a database never migrated that far)
        log.info("No import checkpoints in %s: %s", url.location, error)
        return {}
    finally:
        await pool.stop()
    return {
        int(row["channel_id"]): ImportCheckpointRow(
            int(row["channel_id"]),
            int(row["last_message_id"]) if row["last_message_id"] is not None else None,
            int(row["imported_count"]),
            bool(row["finished"]),
        )
        for row in rows
    }
