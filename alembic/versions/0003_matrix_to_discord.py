"""Matrix → Discord: one Matrix event may become several Discord messages, and Matrix
reactions are remembered so the bot's reaction goes only with the last one of its emoji.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_part") as table:
        table.drop_constraint("message_part_event_uq", type_="unique")
    op.create_index("message_part_event_idx", "message_part", ["room_id", "event_id"])
    op.create_table(
        "matrix_reaction",
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("discord_message_id", sa.BigInteger, nullable=False),
        sa.Column("emoji_key", sa.Text, nullable=False),
        sa.Column("sender_mxid", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("room_id", "event_id"),
    )
    op.create_index(
        "matrix_reaction_target_idx", "matrix_reaction", ["discord_message_id", "emoji_key"]
    )


def downgrade() -> None:
    op.drop_table("matrix_reaction")
    op.drop_index("message_part_event_idx", "message_part")
    with op.batch_alter_table("message_part") as table:
        table.create_unique_constraint("message_part_event_uq", ["room_id", "event_id"])
