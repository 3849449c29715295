"""The migrations live in the top-level alembic/ folder and ship inside the wheel, so that a
plain ``pip install`` (not editable) can migrate a database; Alembic's own command line still
works from the checkout (alembic.ini)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.packaging.files import REPO, clean_checkout, make_venv

pytestmark = pytest.mark.slow
SCRIPTS = sorted(path.name for path in (REPO / "alembic" / "versions").glob("*.py"))


def _environment() -> dict[str, str]:
    """This process's environment without the bridge's overrides or a PYTHONPATH."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("DISCORD_BRIDGE") and name != "PYTHONPATH"
    }


def _head() -> str:
    """The newest revision among the scripts in alembic/versions/."""
    from bridge.db.migrate import code_head
    from bridge.db.url import resolve_database_url

    return code_head(resolve_database_url("sqlite:unused.db", REPO))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built as ``pip wheel --no-deps`` builds it, from a clean copy of
    the checkout (a build/ folder left in the work tree could add stale files)."""
    out = tmp_path_factory.mktemp("wheel")
    source = clean_checkout(tmp_path_factory.mktemp("checkout"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
        check=True,
        env=_environment(),
    )
    (built,) = out.glob("discord_matrix_bridge-*.whl")
    return built


def test_the_wheel_carries_the_migrations_as_bridge_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"bridge/migrations/env.py", "bridge/migrations/script.py.mako"} <= names
    assert (
        sorted(Path(name).name for name in names if name.startswith("bridge/migrations/versions/"))
        == SCRIPTS
    )
    # A top-level `alembic` package would shadow the Alembic library itself.
    assert not [name for name in names if name.split("/")[0] in ("alembic", "migrations")]
    assert not [name for name in names if name.startswith("bridge/db/migrations")]


def test_the_alembic_folder_is_no_importable_package() -> None:
    # With an __init__.py, `python -m bridge` run from the checkout would import this folder
    # instead of the Alembic library.
    assert not (REPO / "alembic" / "__init__.py").exists()


def test_an_installed_wheel_migrates_a_fresh_sqlite_database(wheel: Path, tmp_path: Path) -> None:
    # Dependencies come from this environment (no download); the bridge only from the wheel.
    bin_dir = make_venv(tmp_path / "venv", reuse_site_packages=[sysconfig.get_path("purelib")])
    env = _environment()
    subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        env=env,
    )
    work = tmp_path / "elsewhere"  # not the checkout: its bridge/ must not be importable
    work.mkdir()
    where = subprocess.run(
        [bin_dir / "python", "-c", "import bridge.db.migrate as m; print(m.MIGRATIONS_DIR)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), where
    assert Path(where).name == "migrations"

    config = work / "data" / "config.yaml"
    first = subprocess.run(
        [bin_dir / "discord-matrix-bridge", "-c", str(config), "db", "upgrade"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert first.returncode == 1
    assert f"No config file at {config}, so an example config was written there." in first.stderr
    second = subprocess.run(
        [bin_dir / "python", "-m", "bridge", "-c", str(config), "db", "upgrade"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert second.returncode == 0, second.stderr
    head = _head()
    assert f"Migrated the database from empty to {head}." in second.stdout
    with sqlite3.connect(work / "data" / "discord-bridge.db") as database:
        assert database.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]


def test_alembics_command_line_migrates_from_the_checkout(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    alembic = Path(sys.executable).parent / "alembic"
    upgrade = subprocess.run(
        [alembic, "-x", f"db_url=sqlite+aiosqlite:///{database}", "upgrade", "head"],
        cwd=REPO,
        env=_environment(),
        capture_output=True,
        text=True,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (_head(),)
        ]
