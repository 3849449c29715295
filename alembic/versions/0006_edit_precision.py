"""A message part's last bridged edit time is kept in microseconds, Discord's own precision.

Discord's ``edited_timestamp`` carries microseconds; cut to milliseconds, two edits within the
same millisecond looked like one and the second was never bridged. ``edited_ms`` becomes
``edited_us``; existing values are scaled (``× 1000``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_part") as table:
        table.alter_column("edited_ms", new_column_name="edited_us")
    op.execute("UPDATE message_part SET edited_us = edited_us * 1000 WHERE edited_us IS NOT NULL")


def downgrade() -> None:
    op.execute("UPDATE message_part SET edited_us = edited_us / 1000 WHERE edited_us IS NOT NULL")
    with op.batch_alter_table("message_part") as table:
        table.alter_column("edited_us", new_column_name="edited_ms")
