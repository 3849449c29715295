"""Matrix events waiting to be relayed to Discord: kept until relayed, so a transaction can be
acknowledged at once and a crash still loses nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matrix_inbox",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("arrival", sa.BigInteger, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
    )
    op.create_index("matrix_inbox_arrival_idx", "matrix_inbox", ["arrival"])


def downgrade() -> None:
    op.drop_table("matrix_inbox")
