"""Which packages the wheel holds; everything else about the project is in pyproject.toml.

The Alembic environment and migrations live in the top-level ``alembic/`` folder (the layout
DESIGN.md names) and ship inside the package as ``bridge.migrations``, so that a plain
``pip install`` can migrate a database. pyproject.toml's ``[tool.setuptools]`` table cannot
combine package discovery with mapping one folder elsewhere, hence this file. Never install a
top-level package named ``alembic``: it would shadow the Alembic library.
"""

from setuptools import find_namespace_packages, setup

MIGRATIONS = {"bridge.migrations": "alembic", "bridge.migrations.versions": "alembic/versions"}

setup(
    packages=[*find_namespace_packages(include=["bridge*"]), *MIGRATIONS],
    package_dir=MIGRATIONS,
)
