"""Doctor check 8: the database opens and its schema revision is one this bridge knows.

A database not migrated yet (empty, or at an older revision) is ✓: the bridge migrates it
at every start (bridge/db/connect.py), so it is no setup error; the line says so. A
revision this code does not know (a newer bridge migrated it) is ✗: the bridge refuses it.
"""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from ..config import Config
from ..db.migrate import DatabaseUnreachable, alembic_config, code_head, database_revisions
from ..db.url import DatabaseURL, resolve_database_url
from .result import CheckResult

LABEL = "database"


async def check_database(config: Config) -> CheckResult:
    """Connect to appservice.database.url (an absent SQLite file is not created) and compare
    its Alembic revision with this code's head."""
    raw = config["appservice.database.url"]
    try:
        url = resolve_database_url(raw, config.directory)
    except ValueError as error:
        return CheckResult.fail(LABEL, str(error), "use sqlite:PATH or postgresql://…")
    head = code_head(url)
    if url.is_sqlite:
        absent = _absent_sqlite(Path(url.runtime.removeprefix("sqlite://")))
        if absent is not None:
            return absent
    try:
        revisions = await database_revisions(url)
    except DatabaseUnreachable as error:
        return CheckResult.fail(
            LABEL,
            f"{error}",
            "start the database server or correct appservice.database.url",
        )
    if revisions == (head,):
        return CheckResult.ok(LABEL, f"reachable and migrated (schema {head})")
    script_known = _known(url, revisions)
    if not script_known:
        return CheckResult.fail(
            LABEL,
            f"the schema is at {', '.join(revisions)}, which this bridge does not know: a newer "
            "bridge migrated it",
            "run that newer version, or restore a backup",
        )
    before = ", ".join(revisions) or "empty"
    return CheckResult.ok(
        LABEL,
        f"reachable, not migrated yet ({before} → {head}): it will be at the first start, "
        "or run `python -m bridge -c CONFIG db upgrade`",
    )


def _known(url: DatabaseURL, revisions: tuple[str, ...]) -> bool:
    """Whether every revision is one of the bundled migrations."""
    script = ScriptDirectory.from_config(alembic_config(url))
    for revision in revisions:
        try:
            if script.get_revision(revision) is None:
                return False
        except CommandError:
            return False
    return True


def _absent_sqlite(path: Path) -> CheckResult | None:
    """The line for a SQLite file that does not exist yet (opening it would create it)."""
    if path.exists():
        return None
    if not path.parent.is_dir():
        return CheckResult.fail(
            LABEL, f"no folder {path.parent} for the SQLite database", "create it"
        )
    return CheckResult.ok(
        LABEL, f"no database yet at {path}: the first start creates and migrates it"
    )
