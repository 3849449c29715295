"""Admin commands: who bridged a guild (the config, a command, Discord, the API), whether a
room's Matrix messages are relayed, and the users told once per room that they may not relay.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("guild") as batch:
        # "config", "matrix:@user:server", "discord:<user id>", "provisioning", "import";
        # NULL for guilds bridged before this revision (never unbridged automatically).
        batch.add_column(sa.Column("bridged_by", sa.Text, nullable=True))
    with op.batch_alter_table("portal") as batch:
        batch.add_column(
            sa.Column("relay_enabled", sa.Boolean, nullable=False, server_default=sa.true())
        )
    op.create_table(
        "permission_notice",
        sa.Column("room_id", sa.Text, primary_key=True),
        sa.Column("mxid", sa.Text, primary_key=True),
        sa.Column("sent_at", sa.BigInteger, nullable=False),
    )
    # Channels an admin unbridged while their guild stays bridged: syncs skip them.
    op.create_table(
        "excluded_channel",
        sa.Column("channel_id", sa.BigInteger, primary_key=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("excluded_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("excluded_channel")
    op.drop_table("permission_notice")
    with op.batch_alter_table("portal") as batch:
        batch.drop_column("relay_enabled")
    with op.batch_alter_table("guild") as batch:
        batch.drop_column("bridged_by")
