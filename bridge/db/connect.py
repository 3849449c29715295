"""Opening the bridge's database: migrate first, then a connection pool for the queries."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mautrix.util.async_db import Database

from .migrate import upgrade_database
from .tables import BridgeTables
from .url import DatabaseURL

log = logging.getLogger("bridge.db")


@dataclass
class OpenDatabase:
    """A started connection pool and the bridge's tables on it."""

    pool: Database
    tables: BridgeTables

    async def close(self) -> None:
        await self.pool.stop()


async def open_database(url: DatabaseURL, min_size: int = 1, max_size: int = 10) -> OpenDatabase:
    """Migrate the database to the current schema, then open it."""
    await upgrade_database(url)
    pool = Database.create(
        url.runtime,
        db_args={"min_size": min_size, "max_size": max_size},
        log=logging.getLogger("bridge.db.pool"),
    )
    await pool.start()
    return OpenDatabase(pool, BridgeTables(pool))
