"""The channel's language: `channels.language`, a catalog locale like 'de' or 'pt_BR'.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29

NULL (every existing channel) means not chosen: texts to the channel go out in the language of
whoever set its schedule, which `/stretch every ...` stores here the first time, or English.
`/stretch language de` sets it. It is a column of `channels`, so the workspace export lists it
and the purge deletes it with the channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("language")
