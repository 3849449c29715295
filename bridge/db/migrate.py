"""Running Alembic's migrations from inside the bridge, and refusing a too-new database."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import create_async_engine

from .url import DatabaseURL

log = logging.getLogger("bridge.db.migrate")


def find_migrations() -> Path:
    """The folder holding Alembic's env.py and versions/ for this installation.

    An installed wheel carries them as ``bridge/migrations`` (setup.py maps the top-level
    ``alembic/`` folder there); a source checkout or an editable install (``pip install -e .``)
    reads the top-level ``alembic/`` folder beside the package. Raises FileNotFoundError
    naming both places when neither holds an env.py (a broken installation).
    """
    package = Path(__file__).resolve().parent.parent
    candidates = (package / "migrations", package.parent / "alembic")
    for candidate in candidates:
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(
        "the bridge's database migrations are missing: no env.py in "
        + " or ".join(str(candidate) for candidate in candidates)
        + "; reinstall the package"
    )


MIGRATIONS_DIR = find_migrations()


class DatabaseTooNew(Exception):
    """The database was migrated by a newer version of the bridge than this one."""


class DatabaseUnreachable(Exception):
    """The database could not be opened."""


def alembic_config(url: DatabaseURL) -> AlembicConfig:
    """An Alembic config pointing at the bundled migrations and ``url``."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["sqlalchemy_url"] = url.sqlalchemy
    return config


def code_head(url: DatabaseURL) -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None, "the bundled migrations have no head"
    return head


async def database_revisions(url: DatabaseURL) -> tuple[str, ...]:
    """The schema revisions recorded in the database (empty for a new database)."""
    engine = create_async_engine(url.sqlalchemy, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: tuple(MigrationContext.configure(sync).get_current_heads())
            )
    except (OSError, ConnectionError) as error:
        raise DatabaseUnreachable(
            f"cannot connect to the database (appservice.database.url: {url.location}): {error}"
        ) from error
    except Exception as error:
        if type(error).__module__.startswith(("asyncpg", "sqlite3", "sqlalchemy")):
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise DatabaseUnreachable(
                f"cannot open the database (appservice.database.url: {url.location}): {reason}"
            ) from error
        raise
    finally:
        await engine.dispose()


async def upgrade_database(url: DatabaseURL) -> tuple[tuple[str, ...], str]:
    """Migrate the database to this code's schema; returns (revisions before, revision after).

    Running it on a current database changes nothing. A database whose revision this code
    does not know was written by a newer bridge: that raises DatabaseTooNew, untouched.
    """
    config = alembic_config(url)
    script = ScriptDirectory.from_config(config)
    before = await database_revisions(url)
    for revision in before:
        try:
            known = script.get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise DatabaseTooNew(
                f"the database schema is at revision {revision!r}, which this version of the "
                f"bridge does not know (it knows up to {script.get_current_head()!r}): it was "
                "migrated by a newer bridge. Run that version, or restore a backup."
            )
    head = code_head(url)
    if before == (head,):
        log.debug("Database schema is current (%s)", head)
        return before, head
    log.info("Migrating the database schema from %s to %s", before or "empty", head)
    # env.py runs its own event loop, so Alembic works in a thread of its own.
    await asyncio.to_thread(command.upgrade, config, "head")
    return before, head
