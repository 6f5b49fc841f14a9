"""An index on breaks by person: a person's page reads their breaks across channels.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-01

The Home tab (and `stats` in a direct chat) reads one person's breaks of the last 400 days in
every channel of a workspace at once. The only index on `breaks` starts with the channel, so
that read scanned every break of every channel in the range; by (person_id, logged_at) it is
one short range scan. Forgetting a person (`people.forget`) finds their breaks the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_breaks_person_logged", "breaks", ["person_id", "logged_at"])


def downgrade() -> None:
    op.drop_index("ix_breaks_person_logged", table_name="breaks")
