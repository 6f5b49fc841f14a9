"""Indexes on the Slack OAuth state table: look-ups by state, pruning by expiry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Every install start writes a `slack_oauth_states` row and every return from Slack looks one up
by `state`; expired rows are deleted by `expire_at`. Without indexes both are full scans of a
table anyone can grow by opening the install link.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_slack_oauth_states_state", "slack_oauth_states", ["state"])
    op.create_index("ix_slack_oauth_states_expire_at", "slack_oauth_states", ["expire_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_oauth_states_expire_at", table_name="slack_oauth_states")
    op.drop_index("ix_slack_oauth_states_state", table_name="slack_oauth_states")
