"""Alembic environment: runs the bridge's migrations with the async drivers it uses.

The database URL comes from ``config.attributes["sqlalchemy_url"]`` when the bridge runs the
migrations itself, else from ``-x db_url=…`` or the ``DISCORD_BRIDGE_DB_URL`` environment
variable when Alembic's command line is used (SQLAlchemy form: sqlite+aiosqlite:///path or
postgresql+asyncpg://…). Tables that mautrix keeps for itself (``mx_*``) are not Alembic's.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

config = context.config


def _database_url() -> str:
    url = config.attributes.get("sqlalchemy_url") or context.get_x_argument(as_dictionary=True).get(
        "db_url"
    )
    url = url or os.environ.get("DISCORD_BRIDGE_DB_URL")
    if not url:
        raise SystemExit(
            "No database URL: pass -x db_url=sqlite+aiosqlite:///path/to/bridge.db "
            "(or postgresql+asyncpg://…), or set DISCORD_BRIDGE_DB_URL"
        )
    return url


def _include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    return not (type_ == "table" and name is not None and name.startswith("mx_"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), literal_binds=True, include_object=_include_object)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
