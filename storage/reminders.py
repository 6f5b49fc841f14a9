"""Personal reminders on SQL (`SqlReminderRepository`): a person's reminder channel, found by
who they are, and how many of its slots were skipped while they were busy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from bot.ports import ChannelKey, ChannelState, NudgeStatus
from storage.channels import state_from_row
from storage.db import Database, channel_pk, require_aware
from storage.models import ChannelRow, NudgeRow


class SqlReminderRepository:
    """`bot.reminders.ReminderRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, *, platform: str, team_id: str, person_id: str) -> ChannelState | None:
        """The person's personal reminder channel (ix_channels_personal), or None."""
        query = (
            select(ChannelRow)
            .where(
                ChannelRow.platform == platform,
                ChannelRow.team_id == team_id,
                ChannelRow.personal_for == person_id,
            )
            .order_by(ChannelRow.id.desc())
            .limit(1)
        )
        async with self._db.read() as session:
            row = await session.scalar(query)
            return state_from_row(row) if row is not None else None

    async def skipped_since(self, channel: ChannelKey, *, since: datetime) -> int:
        """Skipped nudges of the channel with `slot_at >= since` (uq_nudges_channel_slot)."""
        require_aware(since=since)
        query = select(func.count(NudgeRow.id)).where(
            NudgeRow.channel_pk == channel_pk(channel).scalar_subquery(),
            NudgeRow.slot_at >= since,
            NudgeRow.status == NudgeStatus.SKIPPED.value,
        )
        async with self._db.read() as session:
            return int(await session.scalar(query) or 0)
