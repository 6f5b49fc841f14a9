"""SQLAlchemy ORM models: the tables behind the repositories.

The schema itself is created by Alembic (`storage/migrations/versions`), never by
`metadata.create_all`; these models must match it (a contract test compares the two).
Nothing outside `storage/` sees these classes: repositories convert them to `bot.ports` records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

# Surrogate keys are BIGINT on Postgres (nudges and breaks grow without bound) but must be plain
# INTEGER on SQLite, where only `INTEGER PRIMARY KEY` aliases the auto-incrementing rowid.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")

NUDGE_STATUSES = ("claimed", "posted", "failed", "skipped")


class UTCDateTime(TypeDecorator[datetime]):
    """An instant in time: aware UTC in Python, naive UTC on SQLite, `timestamptz` on Postgres.

    Naive datetimes are rejected on the way in: this codebase treats them as bugs, and storing
    one would silently shift it by the server's offset.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # SQLite has no timezone-aware type; SQLAlchemy's SQLite DATETIME would drop the offset
        # without converting, so we store UTC wall time and re-attach UTC on the way out.
        timezone = dialect.name != "sqlite"
        return dialect.type_descriptor(DateTime(timezone=timezone))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base; every `datetime` column is a `UTCDateTime`."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class ChannelRow(Base):
    """One channel on one platform, with its schedule and scheduler cursors."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(255))
    channel_id: Mapped[str] = mapped_column(String(255))
    # The schedule (ScheduleSpec), NULL interval when the channel never had one.
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    window_start: Mapped[str | None] = mapped_column(String(5))  # 'HH:MM'
    window_end: Mapped[str | None] = mapped_column(String(5))
    weekdays: Mapped[str | None] = mapped_column(String(20))  # '0,1,2,3,4', Monday=0
    tz: Mapped[str | None] = mapped_column(String(64))
    holidays: Mapped[str | None] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(server_default=false())
    paused: Mapped[bool] = mapped_column(server_default=false())
    paused_until: Mapped[datetime | None]
    seated_only: Mapped[bool] = mapped_column(server_default=false())
    weekly_board: Mapped[bool] = mapped_column(server_default=true())
    next_slot_at: Mapped[datetime | None]
    next_board_at: Mapped[datetime | None]
    updated_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # Keys of the latest picked exercises, most recent first, comma-separated (no repeats of
    # the last few); NULL: not known, read the latest nudges instead. See migration 0004.
    recent_exercises: Mapped[str | None] = mapped_column(String(255))
    # Team mechanics (migration 0009): the goal in percent (0: off), freezes per person-week.
    team_goal: Mapped[int] = mapped_column(Integer, server_default=text("50"))
    streak_freezes: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # Personal reminders (migration 0010): the person whose DM this is (NULL: a team's channel),
    # and the slot a reminder slid from while they were busy (NULL: not sliding).
    personal_for: Mapped[str | None] = mapped_column(String(255))
    slid_from: Mapped[datetime | None]
    # The channel's language, a catalog locale like 'de' or 'pt_BR' (migration 0013); NULL:
    # not chosen yet (the texts go out in the language of whoever set the schedule, or English).
    language: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("platform", "team_id", "channel_id", name="uq_channels_key"),
        # The scheduler polls `enabled AND next_slot_at <= now ORDER BY next_slot_at` every few
        # seconds; a partial index keeps that a short range scan however many channels are off.
        # The predicates are spelled the way SQLAlchemy renders `where(ChannelRow.enabled)` on
        # each dialect, so both planners can prove the query implies them.
        Index(
            "ix_channels_due_nudge",
            "next_slot_at",
            sqlite_where=text("enabled = 1"),
            postgresql_where=text("enabled"),
        ),
        Index(
            "ix_channels_due_board",
            "next_board_at",
            sqlite_where=text("next_board_at IS NOT NULL"),
            postgresql_where=text("next_board_at IS NOT NULL"),
        ),
        # A person's reminder schedule, found by who they are (`/stretch me`, the Home tab).
        Index(
            "ix_channels_personal",
            "platform",
            "team_id",
            "personal_for",
            sqlite_where=text("personal_for IS NOT NULL"),
            postgresql_where=text("personal_for IS NOT NULL"),
        ),
    )


class NudgeRow(Base):
    """A nudge: claimed for a slot (or ad hoc), then posted, failed or skipped."""

    __tablename__ = "nudges"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    channel_pk: Mapped[int] = mapped_column(BigIntId, ForeignKey("channels.id", ondelete="CASCADE"))
    slot_at: Mapped[datetime | None]  # NULL for ad-hoc nudges (NULLs never collide in UNIQUE)
    exercise_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The claim's lease (migration 0012): the process that must post it, until when. A claim
    # whose lease ran out before it was `sending` is re-claimed by another process.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    sending_at: Mapped[datetime | None]  # set just before the post's request: never re-claimed

    __table_args__ = (
        # The database-level claim: each (channel, slot) is posted at most once across replicas.
        UniqueConstraint("channel_pk", "slot_at", name="uq_nudges_channel_slot"),
        CheckConstraint(
            "status IN ('claimed', 'posted', 'failed', 'skipped')", name="ck_nudges_status"
        ),
        Index("ix_nudges_channel_message", "channel_pk", "message_id"),  # reaction -> nudge
        # Recent picks (ORDER BY id DESC): both engines scan a B-tree backwards as cheaply.
        Index("ix_nudges_channel_recent", "channel_pk", "id"),
        # Expired leases (each scheduler pass looks): only claims still open are in it.
        Index(
            "ix_nudges_claim_lease",
            "lease_until",
            sqlite_where=text("status = 'claimed'"),
            postgresql_where=text("status = 'claimed'"),
        ),
    )


class BreakRow(Base):
    """A counted break: one per (nudge, person) while the person has at least one mark."""

    __tablename__ = "breaks"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    nudge_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("nudges.id", ondelete="CASCADE"))
    # Denormalised from the nudge so leaderboards read one index without a join.
    channel_pk: Mapped[int] = mapped_column(BigIntId, ForeignKey("channels.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(String(255))
    logged_at: Mapped[datetime]

    __table_args__ = (
        # A break counts once even when two deliveries of one event race.
        UniqueConstraint("nudge_id", "person_id", name="uq_breaks_nudge_person"),
        # Covers `WHERE channel_pk = ? AND logged_at in [since, until) GROUP BY person_id`.
        Index("ix_breaks_channel_logged_person", "channel_pk", "logged_at", "person_id"),
        # One person's breaks across channels (their Home tab; forgetting them): migration 0008.
        Index("ix_breaks_person_logged", "person_id", "logged_at"),
    )


class BreakMarkRow(Base):
    """One reason a break exists: a ✅-style reaction or a Done-button press."""

    __tablename__ = "break_marks"

    nudge_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("nudges.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(String(255))
    mark: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]

    __table_args__ = (PrimaryKeyConstraint("nudge_id", "person_id", "mark", name="pk_break_marks"),)


class BoardPostRow(Base):
    """A leaderboard posted (or being posted) for one channel and period, at most once."""

    __tablename__ = "board_posts"

    channel_pk: Mapped[int] = mapped_column(BigIntId, ForeignKey("channels.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime]

    __table_args__ = (PrimaryKeyConstraint("channel_pk", "period_key", name="pk_board_posts"),)


class GroupBreakRow(Base):
    """A `/stretch together` card: its routine and start, and when and by whom it was done."""

    __tablename__ = "group_breaks"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    channel_pk: Mapped[int] = mapped_column(BigIntId, ForeignKey("channels.id", ondelete="CASCADE"))
    # The nudge the joiners' breaks are logged on (message id `together:<card id>`).
    nudge_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("nudges.id", ondelete="CASCADE"))
    message_id: Mapped[str | None] = mapped_column(String(255))  # the card, once posted
    started_by: Mapped[str] = mapped_column(String(255))
    minutes: Mapped[int] = mapped_column(Integer)
    routine: Mapped[str] = mapped_column(String(255))  # exercise keys, comma-separated
    rounds: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    tz: Mapped[str] = mapped_column(String(64))  # the channel's, for the start time in words
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # A button press finds its card by (channel, message); NULLs (unposted) never collide.
        UniqueConstraint("channel_pk", "message_id", name="uq_group_breaks_channel_message"),
    )


class GroupBreakJoinerRow(Base):
    """Someone who pressed "I'm in" on a group break card (once per person)."""

    __tablename__ = "group_break_joiners"

    group_break_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("group_breaks.id", ondelete="CASCADE")
    )
    person_id: Mapped[str] = mapped_column(String(255))
    joined_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("group_break_id", "person_id", name="pk_group_break_joiners"),
    )


class WorkspaceRow(Base):
    """A Slack workspace (or Teams tenant:team) the bot is installed in, or was."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(255))
    enterprise_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    uninstalled_at: Mapped[datetime | None]
    admins_only: Mapped[bool] = mapped_column(server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("platform", "team_id", name="uq_workspaces_key"),
        CheckConstraint("status IN ('active', 'uninstalled')", name="ck_workspaces_status"),
        Index("ix_workspaces_uninstalled", "status", "uninstalled_at"),
    )


class PersonRow(Base):
    """A person's choices in one workspace (opted out of boards and break storage)."""

    __tablename__ = "people"

    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[str] = mapped_column(String(255))
    opted_out: Mapped[bool] = mapped_column(server_default=false())
    display_name: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime]

    __table_args__ = (PrimaryKeyConstraint("platform", "team_id", "person_id", name="pk_people"),)


class CooldownRow(Base):
    """A running abuse-limit cooldown, e.g. `/stretch now` in one channel (migration 0003)."""

    __tablename__ = "cooldowns"

    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    ends_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("platform", "team_id", "action", "subject", name="pk_cooldowns"),
    )


class ConversationRefRow(Base):
    """How to reach a channel proactively (Teams: the serialized ConversationReference)."""

    __tablename__ = "conversation_refs"

    channel_pk: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    service_url: Mapped[str] = mapped_column(String(1000))
    reference: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(server_default=true())
    updated_at: Mapped[datetime]


# slack_sdk's installation and OAuth state stores own these tables' reads and writes; they are
# declared here only so the migrations can be checked against a model (naive UTC, like slack_sdk).
_SLACK_TOKEN = String(1000)

SLACK_INSTALLATIONS = Table(
    "slack_installations",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", _SLACK_TOKEN),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", _SLACK_TOKEN),
    Column("bot_token_expires_at", DateTime()),
    Column("user_id", String(32), nullable=False),
    Column("user_token", _SLACK_TOKEN),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", _SLACK_TOKEN),
    Column("user_token_expires_at", DateTime()),
    Column("incoming_webhook_url", _SLACK_TOKEN),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime(), nullable=False),
    Index(
        "slack_installations_idx",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)

SLACK_BOTS = Table(
    "slack_bots",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", _SLACK_TOKEN),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", _SLACK_TOKEN),
    Column("bot_token_expires_at", DateTime()),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("installed_at", DateTime(), nullable=False),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

SLACK_OAUTH_STATES = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime(), nullable=False),
    # slack_sdk finds a state by value; expired ones are deleted by `expire_at` (migration 0005).
    Index("ix_slack_oauth_states_state", "state"),
    Index("ix_slack_oauth_states_expire_at", "expire_at"),
)


# The exercises aggregate's tables live in a module of their own; importing it here puts them
# in `Base.metadata` whenever the models are loaded (Alembic's check, the contract test).
import storage.exercise_models  # noqa: E402, F401
