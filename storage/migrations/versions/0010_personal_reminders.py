"""Personal reminders: a schedule on a person's DM with the bot, and slides past busy times.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

A personal reminder schedule is a `channels` row for the bot's DM with the person (Slack `D...`)
with `personal_for` set to that person's id, so the scheduler's due slots, claims, grace and
replicas work for it unchanged; boards and the Home tab's channel list leave such rows out.
`slid_from` is the slot a reminder was moved from while its person was busy (Do Not Disturb, a
huddle, a meeting status): the cursor `next_slot_at` then points at the later time, and the
reminder posted there is still the nudge of that slot (the unique (channel, slot) holds).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("personal_for", sa.String(255), nullable=True))
        batch.add_column(sa.Column("slid_from", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_channels_personal",
        "channels",
        ["platform", "team_id", "personal_for"],
        sqlite_where=sa.text("personal_for IS NOT NULL"),
        postgresql_where=sa.text("personal_for IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_channels_personal", table_name="channels")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("slid_from")
        batch.drop_column("personal_for")
