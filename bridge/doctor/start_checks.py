"""Doctor's "namespaces" and "database rooms" lines: two checks the bridge runs at start-up.

The checks themselves are the bridge's (bridge.matrix.namespaces.check_namespaces and
bridge.portal.adopt.check_known_rooms); here their errors become ✗ lines and the warnings
they log (which do not stop the bridge) become the detail of a ✓ line. Doctor changes
nothing: the database is opened read-only, never created or migrated.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from mautrix.appservice import IntentAPI
from mautrix.util.async_db import Database

from ..config import Config
from ..db.migrate import code_head, database_revisions
from ..db.tables import BridgeTables
from ..db.url import DatabaseURL, resolve_database_url
from ..matrix.namespaces import PROBE_ID, REGENERATE, NamespaceMismatch, check_namespaces
from ..portal.adopt import KnownRoomsMissing, check_known_rooms
from .result import CheckResult

NAMESPACES = "namespaces"
DATABASE_ROOMS = "database rooms"
NAMESPACES_FIX = (
    "set bridge.username_template and bridge.alias_template to what the loaded registration "
    "reserves, or regenerate the registration (`python -m bridge -c CONFIG -g`) and reload it "
    "on the homeserver"
)
KNOWN_ROOMS_FIX = (
    "use a fresh database at appservice.database.url, or point homeserver.address at the "
    "homeserver this database belongs to"
)


@contextmanager
def logged_warnings(logger_name: str) -> Iterator[list[str]]:
    """The WARNING messages ``logger_name`` logs inside the block, kept out of the output.

    Doctor keeps library logging at ERROR (bridge.doctor.cli), so the logger's level is
    lowered to WARNING for the block and its records do not propagate to the root handler.
    """
    logger = logging.getLogger(logger_name)
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Keep(logging.WARNING)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


async def namespaces(intent: IntentAPI, config: Config) -> CheckResult:
    """The loaded registration reserves the ghosts' user IDs and the aliases the config makes
    (bridge.username_template, bridge.alias_template, homeserver.domain).

    ✗ on NamespaceMismatch (the bridge stops); ✓ with a note when the homeserver cannot tell
    about aliases (the bridge only warns).
    """
    domain = config["homeserver.domain"]
    username_template = config["bridge.username_template"]
    alias_template = config["bridge.alias_template"]
    with logged_warnings("bridge.matrix.namespaces") as warnings:
        try:
            await check_namespaces(intent, username_template, alias_template, domain)
        except NamespaceMismatch as error:
            detail = str(error).removesuffix(f": {REGENERATE}.")
            return CheckResult.fail(NAMESPACES, detail, NAMESPACES_FIX)
    ghost = f"@{username_template.format(id=PROBE_ID)}:{domain}"
    alias = f"#{alias_template.format(id=PROBE_ID)}:{domain}"
    if warnings:
        return CheckResult.ok(
            NAMESPACES,
            f"the registration reserves the ghosts' user IDs (like {ghost}); room aliases "
            "(bridge.alias_template) not checked: the homeserver does not tell which ones "
            "the bridge may create",
        )
    return CheckResult.ok(
        NAMESPACES,
        f"the registration reserves the ghosts' user IDs (like {ghost}) and room aliases "
        f"(like {alias})",
    )


async def database_rooms(intent: IntentAPI, config: Config) -> CheckResult:
    """Every room the database at appservice.database.url lists has the bot joined.

    – when there is nothing to check: no database yet, a database not migrated to this
    bridge's schema (the bridge migrates, then checks), or no rooms. ✗ on KnownRoomsMissing
    (the bot is in none of them: the bridge stops); ✓ with the bridge's warning when it is
    missing from only some.
    """
    url = resolve_database_url(config["appservice.database.url"], config.directory)
    if _no_sqlite_file(url):
        return CheckResult.skip(DATABASE_ROOMS, "no rooms yet (no database yet)")
    revisions = await database_revisions(url)
    if not revisions:
        return CheckResult.skip(DATABASE_ROOMS, "no rooms yet (the database is empty)")
    if revisions != (code_head(url),):
        return CheckResult.skip(
            DATABASE_ROOMS,
            "not checked: the database is not migrated yet (the bridge checks its rooms "
            "after migrating it at the first start)",
        )
    with logged_warnings("bridge.portal.adopt") as warnings:
        try:
            async with read_only_tables(url) as tables:
                listed = await check_known_rooms(intent, tables)
        except KnownRoomsMissing as error:
            return CheckResult.fail(DATABASE_ROOMS, str(error), KNOWN_ROOMS_FIX)
    if warnings:
        warning = warnings[0]
        return CheckResult.ok(
            DATABASE_ROOMS, f"the bridge starts, but {warning[:1].lower()}{warning[1:]}"
        )
    if not listed:
        return CheckResult.skip(DATABASE_ROOMS, "no rooms yet (the database lists none)")
    return CheckResult.ok(
        DATABASE_ROOMS,
        f"the bot is in all {listed} room{'s' if listed != 1 else ''} the database lists",
    )


def _no_sqlite_file(url: DatabaseURL) -> bool:
    """Whether ``url`` is a SQLite file that does not exist (opening it would create it)."""
    return url.is_sqlite and not Path(url.runtime.removeprefix("sqlite://")).exists()


@asynccontextmanager
async def read_only_tables(url: DatabaseURL) -> AsyncIterator[BridgeTables]:
    """The bridge's tables on one read-only connection, without migrating.

    SQLite: ``PRAGMA query_only`` and the journal mode left as it is (mautrix would switch
    it to WAL); PostgreSQL: ``default_transaction_read_only``.
    """
    db_args: dict[str, Any] = {"min_size": 1, "max_size": 1}
    if url.is_sqlite:
        db_args["init_commands"] = ["PRAGMA query_only = ON", "PRAGMA journal_mode"]
    else:
        db_args["server_settings"] = {"default_transaction_read_only": "on"}
    pool = Database.create(url.runtime, db_args=db_args, log=logging.getLogger("bridge.doctor.db"))
    await pool.start()
    try:
        yield BridgeTables(pool)
    finally:
        await pool.stop()
