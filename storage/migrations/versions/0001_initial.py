"""Initial schema: channels, nudges, breaks, break marks, board posts.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in storage.models: a migration must not change when models do.
# BIGINT keys on Postgres; SQLite only auto-increments `INTEGER PRIMARY KEY`.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# timestamptz on Postgres; naive UTC text on SQLite (storage.models.UTCDateTime converts).
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(255), nullable=False),
        sa.Column("channel_id", sa.String(255), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=True),
        sa.Column("window_start", sa.String(5), nullable=True),
        sa.Column("window_end", sa.String(5), nullable=True),
        sa.Column("weekdays", sa.String(20), nullable=True),
        sa.Column("tz", sa.String(64), nullable=True),
        sa.Column("holidays", sa.String(16), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("paused_until", INSTANT, nullable=True),
        sa.Column("seated_only", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("weekly_board", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("next_slot_at", INSTANT, nullable=True),
        sa.Column("next_board_at", INSTANT, nullable=True),
        sa.Column("updated_by", sa.String(255), nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_channels"),
        sa.UniqueConstraint("platform", "team_id", "channel_id", name="uq_channels_key"),
    )
    # The scheduler's poll: `enabled AND next_slot_at <= now ORDER BY next_slot_at LIMIT n`.
    op.create_index(
        "ix_channels_due_nudge",
        "channels",
        ["next_slot_at"],
        sqlite_where=sa.text("enabled = 1"),
        postgresql_where=sa.text("enabled"),
    )
    op.create_index(
        "ix_channels_due_board",
        "channels",
        ["next_board_at"],
        sqlite_where=sa.text("next_board_at IS NOT NULL"),
        postgresql_where=sa.text("next_board_at IS NOT NULL"),
    )

    op.create_table(
        "nudges",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("channel_pk", BIG_ID, nullable=False),
        sa.Column("slot_at", INSTANT, nullable=True),
        sa.Column("exercise_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("claimed_at", INSTANT, nullable=False),
        sa.Column("posted_at", INSTANT, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_nudges"),
        sa.ForeignKeyConstraint(
            ["channel_pk"],
            ["channels.id"],
            name="fk_nudges_channel_pk_channels",
            ondelete="CASCADE",
        ),
        # The at-most-once claim of a (channel, slot) across replicas.
        sa.UniqueConstraint("channel_pk", "slot_at", name="uq_nudges_channel_slot"),
        sa.CheckConstraint(
            "status IN ('claimed', 'posted', 'failed', 'skipped')", name="ck_nudges_status"
        ),
    )
    op.create_index("ix_nudges_channel_message", "nudges", ["channel_pk", "message_id"])
    op.create_index("ix_nudges_channel_recent", "nudges", ["channel_pk", "id"])

    op.create_table(
        "breaks",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("nudge_id", BIG_ID, nullable=False),
        sa.Column("channel_pk", BIG_ID, nullable=False),
        sa.Column("person_id", sa.String(255), nullable=False),
        sa.Column("logged_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_breaks"),
        sa.ForeignKeyConstraint(
            ["nudge_id"], ["nudges.id"], name="fk_breaks_nudge_id_nudges", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["channel_pk"],
            ["channels.id"],
            name="fk_breaks_channel_pk_channels",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("nudge_id", "person_id", name="uq_breaks_nudge_person"),
    )
    # Leaderboards: channel + time range, grouped by person, answered from the index alone.
    op.create_index(
        "ix_breaks_channel_logged_person", "breaks", ["channel_pk", "logged_at", "person_id"]
    )

    op.create_table(
        "break_marks",
        sa.Column("nudge_id", BIG_ID, nullable=False),
        sa.Column("person_id", sa.String(255), nullable=False),
        sa.Column("mark", sa.String(100), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("nudge_id", "person_id", "mark", name="pk_break_marks"),
        sa.ForeignKeyConstraint(
            ["nudge_id"],
            ["nudges.id"],
            name="fk_break_marks_nudge_id_nudges",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "board_posts",
        sa.Column("channel_pk", BIG_ID, nullable=False),
        sa.Column("period_key", sa.String(32), nullable=False),
        sa.Column("posted_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("channel_pk", "period_key", name="pk_board_posts"),
        sa.ForeignKeyConstraint(
            ["channel_pk"],
            ["channels.id"],
            name="fk_board_posts_channel_pk_channels",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("board_posts")
    op.drop_table("break_marks")
    op.drop_index("ix_breaks_channel_logged_person", table_name="breaks")
    op.drop_table("breaks")
    op.drop_index("ix_nudges_channel_recent", table_name="nudges")
    op.drop_index("ix_nudges_channel_message", table_name="nudges")
    op.drop_table("nudges")
    op.drop_index("ix_channels_due_board", table_name="channels")
    op.drop_index("ix_channels_due_nudge", table_name="channels")
    op.drop_table("channels")
