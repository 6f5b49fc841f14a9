"""Claim leases: a claimed nudge names the process that must post it, until when, and when its
request started.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

A process claims due slots a few dozen ahead of the posts it has in flight. Killed (SIGKILL)
between claim and post, it used to lose every claimed, unstarted slot. Now each claim carries a
lease (`lease_owner`, `lease_until`); `sending_at` is set just before the post's request. A
claim whose lease ran out and that never started sending is taken over by another process (or
the restarted one) and posted within the grace period, so a crash loses at most the posts that
were actually under way. Rows from before this migration have no lease and are never taken
over.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nudges") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sending_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_nudges_claim_lease",
        "nudges",
        ["lease_until"],
        sqlite_where=sa.text("status = 'claimed'"),
        postgresql_where=sa.text("status = 'claimed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_nudges_claim_lease", table_name="nudges")
    with op.batch_alter_table("nudges") as batch:
        batch.drop_column("sending_at")
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
