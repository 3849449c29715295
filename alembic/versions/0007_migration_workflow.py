"""The migration workflow: linked accounts and their one-time codes, the cut-over's
announcements and the Discord overwrites it changed (to restore them exactly), and rooms
handed over to the community's owners.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every link ever made; the current ones have no unlinked_at. Old rows stay so that the
    # migration page can show how many members were linked on any past day.
    op.create_table(
        "account_link",
        sa.Column("discord_user_id", sa.BigInteger, primary_key=True),
        sa.Column("linked_at", sa.BigInteger, primary_key=True),
        sa.Column("mxid", sa.Text, nullable=False),
        sa.Column("via", sa.Text, nullable=False),
        sa.Column("unlinked_at", sa.BigInteger, nullable=True),
    )
    # One current link per Discord user and per Matrix account (partial unique indexes: both
    # SQLite and PostgreSQL have them).
    op.create_index(
        "account_link_current_discord_idx",
        "account_link",
        ["discord_user_id"],
        unique=True,
        sqlite_where=sa.text("unlinked_at IS NULL"),
        postgresql_where=sa.text("unlinked_at IS NULL"),
    )
    op.create_index(
        "account_link_current_mxid_idx",
        "account_link",
        ["mxid"],
        unique=True,
        sqlite_where=sa.text("unlinked_at IS NULL"),
        postgresql_where=sa.text("unlinked_at IS NULL"),
    )
    # One-time link codes, stored as SHA-256 hashes: the code itself is only ever shown once.
    op.create_table(
        "link_code",
        sa.Column("code_hash", sa.Text, primary_key=True),
        sa.Column("issued_on", sa.Text, nullable=False),  # "discord" or "matrix"
        sa.Column("discord_user_id", sa.BigInteger, nullable=True),
        sa.Column("mxid", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("used_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "cutover",
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("started_by", sa.Text, nullable=False),
        sa.Column("undone_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "cutover_announcement",
        sa.Column("channel_id", sa.BigInteger, primary_key=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("message_id", sa.BigInteger, nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False),
    )
    # @everyone's overwrite of a channel as it was before the read-only cut-over.
    op.create_table(
        "cutover_overwrite",
        sa.Column("channel_id", sa.BigInteger, primary_key=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("existed", sa.Boolean, nullable=False),
        sa.Column("allow", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("deny", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "room_handover",
        sa.Column("room_id", sa.Text, primary_key=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("method", sa.Text, nullable=False),  # "upgrade" or "power"
        sa.Column("new_room_id", sa.Text, nullable=True),
        sa.Column("handed_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("room_handover")
    op.drop_table("cutover_overwrite")
    op.drop_table("cutover_announcement")
    op.drop_table("cutover")
    op.drop_table("link_code")
    op.drop_index("account_link_current_mxid_idx", "account_link")
    op.drop_index("account_link_current_discord_idx", "account_link")
    op.drop_table("account_link")
