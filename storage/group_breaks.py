"""The `group_breaks` aggregate on SQL: `/stretch together` cards, their roll calls and the
nudge each one credits its joiners' breaks on (`SqlGroupBreakRepository`).

Every method is one short transaction; joining and finishing race safely across replicas
(ON CONFLICT DO NOTHING for a join, a compare-and-set on `done_at` for Done).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ports import ChannelKey, NudgeStatus
from bot.team_ports import (
    FinishOutcome,
    GroupBreak,
    JoinOutcome,
    credit_message_id,
)
from bot.together import Routine, routine_from_keys
from storage.db import Database, channel_pk, require_aware
from storage.models import GroupBreakJoinerRow, GroupBreakRow, NudgeRow


class SqlGroupBreakRepository:
    """`bot.team_ports.GroupBreakRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        channel: ChannelKey,
        started_by: str,
        routine: Routine,
        starts_at: datetime,
        tz: str,
    ) -> GroupBreak:
        """Store a group break and its (claimed, ad-hoc) nudge in one transaction."""
        require_aware(starts_at=starts_at)
        now = self._db.clock()
        async with self._db.write() as session:
            pk = await self._db.ensure_channel(session, channel)
            nudge_id = (
                await session.execute(
                    self._db.insert(NudgeRow)
                    .values(
                        channel_pk=pk,
                        slot_at=None,
                        exercise_key=routine.keys[0] if routine.keys else "together",
                        status=NudgeStatus.CLAIMED.value,
                        claimed_at=now,
                    )
                    .returning(NudgeRow.id)
                )
            ).scalar_one()
            group_id = (
                await session.execute(
                    self._db.insert(GroupBreakRow)
                    .values(
                        channel_pk=pk,
                        nudge_id=nudge_id,
                        started_by=started_by,
                        minutes=routine.minutes,
                        routine=",".join(routine.keys),
                        rounds=routine.rounds,
                        starts_at=starts_at,
                        tz=tz,
                        created_at=now,
                    )
                    .returning(GroupBreakRow.id)
                )
            ).scalar_one()
            await session.commit()
        return GroupBreak(
            id=group_id,
            channel=channel,
            started_by=started_by,
            routine=routine,
            starts_at=starts_at,
            tz=tz,
            message_id=None,
            joiners=(),
        )

    async def mark_posted(self, group_id: int, *, message_id: str, posted_at: datetime) -> None:
        """The card is out as `message_id`; its nudge is posted as `together:<message_id>`."""
        require_aware(posted_at=posted_at)
        async with self._db.write() as session:
            nudge_id = (
                await session.execute(
                    update(GroupBreakRow)
                    .where(GroupBreakRow.id == group_id)
                    .values(message_id=message_id)
                    .returning(GroupBreakRow.nudge_id)
                )
            ).scalar_one_or_none()
            if nudge_id is not None:
                await session.execute(
                    update(NudgeRow)
                    .where(NudgeRow.id == nudge_id)
                    .values(
                        status=NudgeStatus.POSTED.value,
                        message_id=credit_message_id(message_id),
                        posted_at=posted_at,
                    )
                )
            await session.commit()

    async def mark_failed(self, group_id: int, *, reason: str) -> None:
        """Posting the card failed: keep the row (for logs and export), fail its nudge."""
        async with self._db.write() as session:
            nudge_id = (
                await session.execute(
                    update(GroupBreakRow)
                    .where(GroupBreakRow.id == group_id)
                    .values(error=reason[:1000])
                    .returning(GroupBreakRow.nudge_id)
                )
            ).scalar_one_or_none()
            if nudge_id is not None:
                await session.execute(
                    update(NudgeRow)
                    .where(NudgeRow.id == nudge_id)
                    .values(status=NudgeStatus.FAILED.value, error=reason[:1000])
                )
            await session.commit()

    async def find(self, *, channel: ChannelKey, message_id: str) -> GroupBreak | None:
        """The group break posted as `message_id` in `channel`, with its joiners."""
        async with self._db.read() as session:
            return await self._find(session, channel, message_id)

    async def join(
        self, *, channel: ChannelKey, message_id: str, person_id: str, at: datetime
    ) -> JoinOutcome:
        """Add the person to the roll call (once), unless the group break is done."""
        require_aware(at=at)
        async with self._db.write() as session:
            row = await self._row(session, channel, message_id)
            if row is None:
                return JoinOutcome(group=None, joined=False)
            joined = False
            if row.done_at is None:
                inserted = (
                    await session.execute(
                        self._db.insert(GroupBreakJoinerRow)
                        .values(group_break_id=row.id, person_id=person_id, joined_at=at)
                        .on_conflict_do_nothing(index_elements=["group_break_id", "person_id"])
                        .returning(GroupBreakJoinerRow.person_id)
                    )
                ).scalar_one_or_none()
                joined = inserted is not None
            group = await self._group(session, channel, row)
            await session.commit()
        return JoinOutcome(group=group, joined=joined)

    async def finish(
        self, *, channel: ChannelKey, message_id: str, person_id: str, at: datetime
    ) -> FinishOutcome:
        """Mark the group break done by `person_id`, once: False when it was done already."""
        require_aware(at=at)
        async with self._db.write() as session:
            row = await self._row(session, channel, message_id)
            if row is None:
                return FinishOutcome(group=None, finished=False)
            won = (
                await session.execute(
                    update(GroupBreakRow)
                    .where(GroupBreakRow.id == row.id, GroupBreakRow.done_at.is_(None))
                    .values(done_at=at, done_by=person_id)
                    .returning(GroupBreakRow.id)
                )
            ).scalar_one_or_none()
            await session.refresh(row)
            group = await self._group(session, channel, row)
            await session.commit()
        return FinishOutcome(group=group, finished=won is not None)

    async def _row(
        self, session: AsyncSession, channel: ChannelKey, message_id: str, *, lock: bool = True
    ) -> GroupBreakRow | None:
        # Locked in a write (FOR UPDATE on Postgres; SQLite's writers are serialised already),
        # so a join cannot slip in after Done, nor two Done presses interleave.
        query = select(GroupBreakRow).where(
            and_(
                GroupBreakRow.channel_pk == channel_pk(channel).scalar_subquery(),
                GroupBreakRow.message_id == message_id,
            )
        )
        if lock:
            query = query.with_for_update(of=GroupBreakRow)
        row: GroupBreakRow | None = await session.scalar(query)
        return row

    async def _find(
        self, session: AsyncSession, channel: ChannelKey, message_id: str
    ) -> GroupBreak | None:
        row = await self._row(session, channel, message_id, lock=False)
        return None if row is None else await self._group(session, channel, row)

    async def _group(
        self, session: AsyncSession, channel: ChannelKey, row: GroupBreakRow
    ) -> GroupBreak:
        joiners = (
            await session.execute(
                select(GroupBreakJoinerRow.person_id)
                .where(GroupBreakJoinerRow.group_break_id == row.id)
                .order_by(GroupBreakJoinerRow.joined_at, GroupBreakJoinerRow.person_id)
            )
        ).scalars()
        return GroupBreak(
            id=row.id,
            channel=channel,
            started_by=row.started_by,
            routine=routine_from_keys(row.minutes, row.routine, row.rounds),
            starts_at=row.starts_at,
            tz=row.tz,
            message_id=row.message_id,
            joiners=tuple(joiners),
            done_at=row.done_at,
            done_by=row.done_by,
        )
