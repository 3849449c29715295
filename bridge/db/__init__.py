"""The bridge's database: row dataclasses, explicit SQL, and Alembic migrations."""
