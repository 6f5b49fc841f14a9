"""Team mechanics: a team goal and streak freezes per channel, group breaks and their joiners.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

`channels.team_goal` is the share (percent) of the people who moved in the last two weeks that
must move on a day for it to count for the team (0: off; existing channels start at the
default, 50). `channels.streak_freezes` is how many missed scheduled days per person and
calendar week a streak bridges (default 1). A `/stretch together` card is a `group_breaks`
row; whoever presses "I'm in" is a `group_break_joiners` row, and Done credits each of them a
break on the group break's nudge.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(
            sa.Column("team_goal", sa.Integer(), nullable=False, server_default=sa.text("50"))
        )
        batch.add_column(
            sa.Column("streak_freezes", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    op.create_table(
        "group_breaks",
        sa.Column("id", _ID, primary_key=True),
        sa.Column(
            "channel_pk",
            _ID,
            sa.ForeignKey(
                "channels.id", ondelete="CASCADE", name="fk_group_breaks_channel_pk_channels"
            ),
            nullable=False,
        ),
        sa.Column(
            "nudge_id",
            _ID,
            sa.ForeignKey("nudges.id", ondelete="CASCADE", name="fk_group_breaks_nudge_id_nudges"),
            nullable=False,
        ),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("started_by", sa.String(255), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("routine", sa.String(255), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_group_breaks"),
        sa.UniqueConstraint("channel_pk", "message_id", name="uq_group_breaks_channel_message"),
    )
    op.create_table(
        "group_break_joiners",
        sa.Column(
            "group_break_id",
            _ID,
            sa.ForeignKey(
                "group_breaks.id",
                ondelete="CASCADE",
                name="fk_group_break_joiners_group_break_id_group_breaks",
            ),
            nullable=False,
        ),
        sa.Column("person_id", sa.String(255), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("group_break_id", "person_id", name="pk_group_break_joiners"),
    )


def downgrade() -> None:
    op.drop_table("group_break_joiners")
    op.drop_table("group_breaks")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("streak_freezes")
        batch.drop_column("team_goal")
