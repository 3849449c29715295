"""The initial schema: guilds, portals, puppets, users, messages, reactions, media, imports.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guild",
        sa.Column("discord_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("space_room_id", sa.Text, unique=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("icon_hash", sa.Text),
        sa.Column("avatar_mxc", sa.Text),
        sa.Column("bridged_at", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "portal",
        sa.Column("discord_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("guild_id", sa.BigInteger, sa.ForeignKey("guild.discord_id", ondelete="CASCADE")),
        sa.Column("parent_id", sa.BigInteger),
        sa.Column("channel_type", sa.Integer, nullable=False, server_default="0"),
        sa.Column("room_id", sa.Text, unique=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("topic", sa.Text, nullable=False, server_default=""),
        sa.Column("avatar_mxc", sa.Text),
        sa.Column("webhook_id", sa.BigInteger),
        sa.Column("webhook_token", sa.Text),
        sa.Column("live_since", sa.BigInteger),
    )
    op.create_index("portal_guild_idx", "portal", ["guild_id"])
    op.create_table(
        "puppet",
        sa.Column("ghost_id", sa.Text, primary_key=True),
        sa.Column("displayname", sa.Text),
        sa.Column("avatar_hash", sa.Text),
        sa.Column("avatar_mxc", sa.Text),
        sa.Column("is_bot", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("name_set", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("avatar_set", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "matrix_user",
        sa.Column("mxid", sa.Text, primary_key=True),
        sa.Column("management_room", sa.Text),
        sa.Column("discord_user_id", sa.BigInteger),
    )
    op.create_table(
        "message_part",
        sa.Column("discord_message_id", sa.BigInteger, nullable=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("sender_mxid", sa.Text, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("thread_id", sa.BigInteger),
        sa.PrimaryKeyConstraint("discord_message_id", "part"),
        sa.UniqueConstraint("room_id", "event_id", name="message_part_event_uq"),
    )
    op.create_index(
        "message_part_channel_idx", "message_part", ["channel_id", "discord_message_id"]
    )
    op.create_table(
        "reaction",
        sa.Column("discord_message_id", sa.BigInteger, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger, nullable=False),
        sa.Column("emoji_key", sa.Text, nullable=False),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("discord_message_id", "discord_user_id", "emoji_key"),
        sa.UniqueConstraint("room_id", "event_id", name="reaction_event_uq"),
    )
    op.create_table(
        "media_cache",
        sa.Column("source_key", sa.Text, primary_key=True),
        sa.Column("mxc", sa.Text, nullable=False),
        sa.Column("mimetype", sa.Text),
        sa.Column("size", sa.BigInteger),
    )
    op.create_table(
        "import_checkpoint",
        sa.Column("channel_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("last_message_id", sa.BigInteger),
        sa.Column("imported_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("finished", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "handled_txn",
        sa.Column("txn_id", sa.Text, primary_key=True),
        sa.Column("handled_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "handled_txn",
        "import_checkpoint",
        "media_cache",
        "reaction",
        "message_part",
        "matrix_user",
        "puppet",
        "portal",
        "guild",
    ):
        op.drop_table(table)
