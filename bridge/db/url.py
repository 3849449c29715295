"""Database URLs: the config's form, and the forms mautrix and SQLAlchemy want."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class DatabaseURL:
    """One database, named for each library that opens it."""

    # For mautrix.util.async_db (asyncpg or aiosqlite): postgres://… or sqlite:///abs/path
    runtime: str
    # For SQLAlchemy/Alembic with the same async drivers.
    sqlalchemy: str

    @property
    def is_sqlite(self) -> bool:
        return self.runtime.startswith("sqlite:")

    @property
    def location(self) -> str:
        """Where it points, without any password, for messages: "the SQLite file /x/y.db" or
        "PostgreSQL at db.example.org:5432, database bridge"."""
        if self.is_sqlite:
            return f"the SQLite file {self.runtime.removeprefix('sqlite://')}"
        parts = urlsplit(self.runtime)
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:  # not a number: the connection fails anyway, the host is what helps
            port = ""
        database = parts.path.lstrip("/")
        where = f"PostgreSQL at {parts.hostname or 'localhost'}{port}"
        return where + (f", database {database}" if database else "")


def resolve_database_url(url: str, base_dir: Path) -> DatabaseURL:
    """Turn the config's ``appservice.database.url`` into both library forms.

    ``sqlite:PATH`` is relative to ``base_dir`` (the config file's folder) unless absolute;
    ``sqlite:///abs/path`` is absolute as in SQLAlchemy.
    """
    if url.startswith("sqlite:"):
        rest = url.removeprefix("sqlite:")
        path = Path("/" + rest.lstrip("/")) if rest.startswith("///") else Path(rest)
        if not path.is_absolute():
            path = base_dir / path
        path = path.resolve()
        return DatabaseURL(f"sqlite://{path}", f"sqlite+aiosqlite:///{path}")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"unsupported database URL scheme {parts.scheme!r}")
    rest = url.split("://", 1)[1]
    return DatabaseURL(f"postgres://{rest}", f"postgresql+asyncpg://{rest}")
