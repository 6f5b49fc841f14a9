"""Custom exercises: a workspace's own exercises, the built-ins it turned off, the channels that
use a named pack, and the Slack files of uploaded exercise pictures (Socket Mode).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

`custom_exercises` holds a workspace's own exercises (key `x-...`, unique per workspace, and
each name once in any case through `name_folded`); `pack` NULL means the workspace's main
catalog. `exercise_switches` lists the built-in exercises a workspace turned off.
`channel_exercise_packs` names the pack a channel picks from. `slack_picture_files` remembers,
per workspace, the Slack file each built-in picture (at a version: its content hash) was
uploaded as, so Socket Mode uploads a picture once per workspace. All of them are keyed by
(platform, team_id) and purged with the workspace.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "custom_exercises",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(255), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("name_folded", sa.String(255), nullable=False),
        sa.Column("how_to", sa.Text(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("position", sa.String(16), nullable=False),
        sa.Column("image_url", sa.String(1000), nullable=True),
        sa.Column("pack", sa.String(32), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_custom_exercises"),
        sa.UniqueConstraint("platform", "team_id", "key", name="uq_custom_exercises_key"),
        sa.UniqueConstraint("platform", "team_id", "name_folded", name="uq_custom_exercises_name"),
        sa.CheckConstraint("unit IN ('seconds', 'reps')", name="ck_custom_exercises_unit"),
        sa.CheckConstraint(
            "position IN ('seated', 'standing')", name="ck_custom_exercises_position"
        ),
    )
    op.create_table(
        "exercise_switches",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(255), nullable=False),
        sa.Column("exercise_key", sa.String(64), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "team_id", "exercise_key", name="pk_exercise_switches"),
    )
    op.create_table(
        "channel_exercise_packs",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(255), nullable=False),
        sa.Column("channel_id", sa.String(255), nullable=False),
        sa.Column("pack", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "platform", "team_id", "channel_id", name="pk_channel_exercise_packs"
        ),
    )
    op.create_table(
        "slack_picture_files",
        sa.Column("team_id", sa.String(255), nullable=False),
        sa.Column("picture", sa.String(64), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("file_id", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "picture", "version", name="pk_slack_picture_files"),
    )


def downgrade() -> None:
    op.drop_table("slack_picture_files")
    op.drop_table("channel_exercise_packs")
    op.drop_table("exercise_switches")
    op.drop_table("custom_exercises")
