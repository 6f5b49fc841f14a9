"""Workspaces, people's choices, Slack OAuth installations, Teams conversation references.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

The three `slack_*` tables have the shape slack_sdk's AsyncSQLAlchemyInstallationStore and
AsyncSQLAlchemyOAuthStateStore expect (their own `create_tables()` is never called at run time),
with token columns wide enough for Fernet-encrypted tokens. Like slack_sdk, they hold naive UTC
datetimes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INSTANT = sa.DateTime(timezone=True)
TOKEN = sa.String(1000)  # Fernet ciphertext of a token is about 2.3x the token


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(255), nullable=False),
        sa.Column("enterprise_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        sa.Column("uninstalled_at", INSTANT, nullable=True),
        sa.Column("admins_only", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.UniqueConstraint("platform", "team_id", name="uq_workspaces_key"),
        sa.CheckConstraint("status IN ('active', 'uninstalled')", name="ck_workspaces_status"),
    )
    op.create_index("ix_workspaces_uninstalled", "workspaces", ["status", "uninstalled_at"])

    op.create_table(
        "people",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(255), nullable=False),
        sa.Column("person_id", sa.String(255), nullable=False),
        sa.Column("opted_out", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=True),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("platform", "team_id", "person_id", name="pk_people"),
    )

    op.create_table(
        "conversation_refs",
        sa.Column("channel_pk", BIG_ID, nullable=False),
        sa.Column("service_url", sa.String(1000), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),  # the platform's JSON reference
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("channel_pk", name="pk_conversation_refs"),
        sa.ForeignKeyConstraint(
            ["channel_pk"],
            ["channels.id"],
            name="fk_conversation_refs_channel_pk_channels",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("enterprise_name", sa.String(200)),
        sa.Column("enterprise_url", sa.String(200)),
        sa.Column("team_id", sa.String(32)),
        sa.Column("team_name", sa.String(200)),
        sa.Column("bot_token", TOKEN),
        sa.Column("bot_id", sa.String(32)),
        sa.Column("bot_user_id", sa.String(32)),
        sa.Column("bot_scopes", sa.String(1000)),
        sa.Column("bot_refresh_token", TOKEN),
        sa.Column("bot_token_expires_at", sa.DateTime()),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("user_token", TOKEN),
        sa.Column("user_scopes", sa.String(1000)),
        sa.Column("user_refresh_token", TOKEN),
        sa.Column("user_token_expires_at", sa.DateTime()),
        sa.Column("incoming_webhook_url", TOKEN),
        sa.Column("incoming_webhook_channel", sa.String(200)),
        sa.Column("incoming_webhook_channel_id", sa.String(200)),
        sa.Column("incoming_webhook_configuration_url", sa.String(200)),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", sa.String(32)),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_installations"),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )

    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("enterprise_name", sa.String(200)),
        sa.Column("team_id", sa.String(32)),
        sa.Column("team_name", sa.String(200)),
        sa.Column("bot_token", TOKEN),
        sa.Column("bot_id", sa.String(32)),
        sa.Column("bot_user_id", sa.String(32)),
        sa.Column("bot_scopes", sa.String(1000)),
        sa.Column("bot_refresh_token", TOKEN),
        sa.Column("bot_token_expires_at", sa.DateTime()),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_bots"),
    )
    op.create_index(
        "slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"]
    )

    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_oauth_states"),
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", table_name="slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", table_name="slack_installations")
    op.drop_table("slack_installations")
    op.drop_table("conversation_refs")
    op.drop_table("people")
    op.drop_index("ix_workspaces_uninstalled", table_name="workspaces")
    op.drop_table("workspaces")
