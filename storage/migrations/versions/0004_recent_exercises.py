"""Recent exercises on the channel row, so a fan-out picks without reading nudges.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

`channels.recent_exercises` holds the keys of the channel's latest picks, most recent first,
comma-separated; the scheduler reads it with the due channels and writes it in the same
statement that claims the slot. NULL means "not known": the bot then reads the latest nudges
once, as before, and the next claim fills the column in. Existing rows start NULL, so there is
nothing to backfill.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("recent_exercises", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("recent_exercises")
