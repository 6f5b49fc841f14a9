"""Cooldowns: abuse limits shared by every replica (e.g. `/stretch now` once per 5 minutes).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

One row per (workspace, action, subject) holds when the running cooldown ends. Taking a cooldown
is a single INSERT ... ON CONFLICT DO UPDATE ... WHERE ends_at <= now, so two replicas racing
for it cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cooldowns",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("ends_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("platform", "team_id", "action", "subject", name="pk_cooldowns"),
    )


def downgrade() -> None:
    op.drop_table("cooldowns")
