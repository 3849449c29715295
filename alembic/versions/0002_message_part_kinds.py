"""Message parts remember what they are and when their message was last edited.

An edit on Discord is matched to the Matrix events of the message part by part (its text, each
attachment, each sticker), and an update that only adds embeds (same edit time) is not an edit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_part") as table:
        table.add_column(sa.Column("kind", sa.Text, nullable=False, server_default="text"))
        table.add_column(
            sa.Column("event_type", sa.Text, nullable=False, server_default="m.room.message")
        )
        table.add_column(sa.Column("edited_ms", sa.BigInteger))
    op.create_index("message_part_thread_idx", "message_part", ["thread_id", "discord_message_id"])
    op.create_index("reaction_message_idx", "reaction", ["discord_message_id", "emoji_key"])


def downgrade() -> None:
    op.drop_index("reaction_message_idx", "reaction")
    op.drop_index("message_part_thread_idx", "message_part")
    with op.batch_alter_table("message_part") as table:
        table.drop_column("edited_ms")
        table.drop_column("event_type")
        table.drop_column("kind")
