"""Claim leases of the `nudges` aggregate on SQL (`NudgeLeases`, a base of
`SqlNudgeRepository`): claims marked as being sent just before their request, claims whose
owner died before sending taken over once its lease ran out, and leases ended.

A claim marked as sending is never taken over, so each (channel, slot) is still posted at
most once; what a killed replica loses is bounded by the posts it had started.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from bot.ports import ChannelKey, Lease, Nudge, NudgeStatus, TakenOver
from storage.db import Database, require_aware
from storage.models import ChannelRow, NudgeRow

# Claims about to be posted (see `NudgeLeases.start_sending`), in each driver's own SQL: the
# statement runs straight on the driver (`Database.write_on_driver`), a few hundred times per
# big fan-out, just ahead of the workers. Postgres takes the ids as one array; SQLite gets one
# placeholder per id (at most the send queue's room of them).
_UNSENT = f"sending_at IS NULL AND status = '{NudgeStatus.CLAIMED.value}'"
_START_SENDING_PG = (
    "UPDATE nudges SET sending_at = $1 WHERE id = ANY($2::bigint[]) AND lease_owner = $3 "
    f"AND {_UNSENT} RETURNING id"
)
_SQLITE_IDS_PER_STATEMENT = 500  # well under SQLite's limit on parameters


def _start_sending_sqlite(count: int) -> str:
    return (
        f"UPDATE nudges SET sending_at = ? WHERE id IN ({', '.join('?' * count)}) "
        f"AND lease_owner = ? AND {_UNSENT} RETURNING id"
    )


class NudgeLeases:
    """The lease half of the nudges repository (needs `_db`)."""

    _db: Database

    async def start_sending(self, nudge_ids: Sequence[int], *, owner: str) -> set[int]:
        """Mark claims as being sent (see `bot.ports`): one compare-and-set UPDATE, on the
        driver (see `Database.write_on_driver`). A claim another process took over (or one
        already sending) is left out of the result."""
        if not nudge_ids:
            return set()
        at = self._db.driver_datetime(self._db.clock())
        if self._db.dialect == "postgresql":
            rows = await self._db.write_on_driver(_START_SENDING_PG, [at, list(nudge_ids), owner])
            return {row[0] for row in rows}
        marked: set[int] = set()
        for start in range(0, len(nudge_ids), _SQLITE_IDS_PER_STATEMENT):
            ids = nudge_ids[start : start + _SQLITE_IDS_PER_STATEMENT]
            sql = _start_sending_sqlite(len(ids))
            marked.update(row[0] for row in await self._db.write_on_driver(sql, [at, *ids, owner]))
        return marked

    async def take_over(
        self,
        *,
        now: datetime,
        lease: Lease,
        oldest_slot: datetime,
        limit: int,
        platforms: Sequence[str] | None = None,
    ) -> TakenOver:
        """Take over claims whose lease ran out unsent (see `bot.ports`), in one transaction.

        The expired claims are locked (SKIP LOCKED: one another process is taking over right
        now is left to it) and updated with the conditions checked again, so two processes
        never both hold one claim; `start_sending` then lets only the holder send it.
        """
        require_aware(now=now, lease_until=lease.until, oldest_slot=oldest_slot)
        expired = (
            NudgeRow.status == NudgeStatus.CLAIMED.value,
            NudgeRow.lease_until <= now,
            NudgeRow.sending_at.is_(None),
            NudgeRow.slot_at.is_not(None),
        )
        query = (
            select(
                NudgeRow.id,
                NudgeRow.slot_at,
                NudgeRow.exercise_key,
                ChannelRow.platform,
                ChannelRow.team_id,
                ChannelRow.channel_id,
            )
            .join(ChannelRow, ChannelRow.id == NudgeRow.channel_pk)
            .where(*expired)
            .order_by(NudgeRow.lease_until)
            .limit(limit)
            .with_for_update(skip_locked=True, of=NudgeRow)
        )
        if platforms is not None:
            query = query.where(ChannelRow.platform.in_(list(platforms)))
        found: dict[int, Nudge] = {}
        async with self._db.write() as session:
            for (
                nudge_id,
                slot_at,
                exercise_key,
                platform,
                team_id,
                channel_id,
            ) in await session.execute(query):
                found[nudge_id] = Nudge(
                    id=nudge_id,
                    channel=ChannelKey(platform, team_id, channel_id),
                    exercise_key=exercise_key,
                    slot_at=slot_at,
                    status=NudgeStatus.CLAIMED,
                )
            if not found:
                return TakenOver(claims=[], stale=[])
            held = await session.execute(
                update(NudgeRow)
                .where(NudgeRow.id.in_(list(found)), NudgeRow.slot_at >= oldest_slot, *expired)
                .values(lease_owner=lease.owner, lease_until=lease.until)
                .returning(NudgeRow.id)
            )
            claims = set(held.scalars())
            dropped = await session.execute(
                update(NudgeRow)
                .where(NudgeRow.id.in_(list(found)), NudgeRow.slot_at < oldest_slot, *expired)
                .values(
                    status=NudgeStatus.SKIPPED.value,
                    error="stale: its process stopped before sending it",
                )
                .returning(NudgeRow.id)
            )
            stale = set(dropped.scalars())
            await session.commit()
        return TakenOver(
            claims=[found[i] for i in sorted(claims)], stale=[found[i] for i in sorted(stale)]
        )

    async def end_leases(self, nudge_ids: Sequence[int], *, owner: str) -> None:
        """End `owner`'s leases on unsent claims now (see `bot.ports`)."""
        if not nudge_ids:
            return
        async with self._db.write() as session:
            await session.execute(
                update(NudgeRow)
                .where(
                    NudgeRow.id.in_(list(nudge_ids)),
                    NudgeRow.lease_owner == owner,
                    NudgeRow.sending_at.is_(None),
                    NudgeRow.status == NudgeStatus.CLAIMED.value,
                )
                .values(lease_until=self._db.clock())
            )
            await session.commit()
