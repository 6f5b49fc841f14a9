"""The tables of a workspace's own exercises and pictures (migration 0011): custom exercises,
built-ins turned off, a channel's pack, and the Slack files pictures were uploaded as. Only
`storage/exercises.py` reads and writes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigIntId


class CustomExerciseRow(Base):
    """A workspace's own exercise (migration 0011); `pack` NULL: its main catalog."""

    __tablename__ = "custom_exercises"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    name_folded: Mapped[str] = mapped_column(String(255))  # the name in lower case: unique
    how_to: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(8))
    position: Mapped[str] = mapped_column(String(16))
    image_url: Mapped[str | None] = mapped_column(String(1000))
    pack: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("platform", "team_id", "key", name="uq_custom_exercises_key"),
        UniqueConstraint("platform", "team_id", "name_folded", name="uq_custom_exercises_name"),
        CheckConstraint("unit IN ('seconds', 'reps')", name="ck_custom_exercises_unit"),
        CheckConstraint("position IN ('seated', 'standing')", name="ck_custom_exercises_position"),
    )


class ExerciseSwitchRow(Base):
    """A built-in exercise a workspace turned off (migration 0011)."""

    __tablename__ = "exercise_switches"

    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(255))
    exercise_key: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("platform", "team_id", "exercise_key", name="pk_exercise_switches"),
    )


class ChannelExercisePackRow(Base):
    """The named pack a channel's nudges pick from (migration 0011)."""

    __tablename__ = "channel_exercise_packs"

    platform: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str] = mapped_column(String(255))
    channel_id: Mapped[str] = mapped_column(String(255))
    pack: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("platform", "team_id", "channel_id", name="pk_channel_exercise_packs"),
    )


class SlackPictureFileRow(Base):
    """The Slack file a built-in exercise picture was uploaded as, per workspace and picture
    version (Socket Mode; migration 0011)."""

    __tablename__ = "slack_picture_files"

    team_id: Mapped[str] = mapped_column(String(255))
    picture: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("team_id", "picture", "version", name="pk_slack_picture_files"),
    )
