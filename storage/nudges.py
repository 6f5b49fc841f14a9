"""The `nudges` aggregate on SQL: `SqlNudgeRepository` (slot claims, ad-hoc nudges, posted ids).

Every method is one short transaction and takes and returns `bot.ports` records, never ORM
objects. Races between replicas are settled by the database: compare-and-set updates, the
unique (channel, slot) with ON CONFLICT DO NOTHING, and row locks, so no method needs a retry
loop.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Executable,
    Integer,
    String,
    bindparam,
    case,
    delete,
    literal_column,
    select,
    tuple_,
    union_all,
    update,
)

from bot.ports import ChannelKey, Lease, Nudge, NudgeStatus, PostedNudge, SlotMove
from storage.channels import recent_to_text
from storage.db import Database, channel_pk, is_channel, require_aware
from storage.models import ChannelRow, NudgeRow, UTCDateTime
from storage.nudge_leases import NudgeLeases

# The slot moves of one scheduler batch (see SqlNudgeRepository.move_slots), built once.
# SKIP LOCKED: a row another worker is moving right now is left to it (it would win the
# compare-and-set anyway), so replicas claiming overlapping batches never wait on, or deadlock
# with, each other. SQLite renders no FOR UPDATE; BEGIN IMMEDIATE serialises writers there.
_LOCK_FOR_MOVE = (
    select(
        ChannelRow.id,
        ChannelRow.platform,
        ChannelRow.team_id,
        ChannelRow.channel_id,
        ChannelRow.enabled,
        ChannelRow.next_slot_at,
    )
    .where(
        tuple_(ChannelRow.platform, ChannelRow.team_id, ChannelRow.channel_id).in_(
            bindparam("keys", expanding=True)
        )
    )
    .with_for_update(skip_locked=True)
)
_MOVE_CURSOR = (
    update(ChannelRow)
    .where(ChannelRow.id == bindparam("pk"))
    .values(
        next_slot_at=bindparam("next_at"),
        # A skip keeps the picks; a claim stores them (NULL: not known).
        recent_exercises=case(
            (bindparam("keep_recent", type_=Boolean), ChannelRow.recent_exercises),
            else_=bindparam("recent", type_=String),
        ),
        slid_from=bindparam("slid_from", type_=UTCDateTime()),
        updated_at=bindparam("now"),
    )
)
# Posted message ids (see SqlNudgeRepository.mark_posted_many), in each driver's own SQL: they
# run on the driver itself (`Database.write_many_on_driver`), one batch per POSTED_BATCH posts
# of a fan-out.
_MARK_POSTED = {
    "postgresql": (
        f"UPDATE nudges SET status = '{NudgeStatus.POSTED.value}', message_id = $2, "
        "posted_at = $3, error = NULL WHERE id = $1"
    ),
    "sqlite": (
        f"UPDATE nudges SET status = '{NudgeStatus.POSTED.value}', message_id = ?, "
        "posted_at = ?, error = NULL WHERE id = ?"
    ),
}


_PICKABLE_STATUSES = (NudgeStatus.CLAIMED.value, NudgeStatus.POSTED.value)
# The same, written into the SQL: a tuple of values is an "expanding" parameter, rendered anew
# on every call, which in the 100-branch statement below was half its CPU.
_PICKABLE_IN_SQL: list[ColumnElement[str]] = [
    literal_column(f"'{status}'") for status in _PICKABLE_STATUSES
]


def _nudge_from_row(row: NudgeRow, channel: ChannelKey) -> Nudge:
    return Nudge(
        id=row.id,
        channel=channel,
        exercise_key=row.exercise_key,
        slot_at=row.slot_at,
        status=NudgeStatus(row.status),
        message_id=row.message_id,
        posted_at=row.posted_at,
    )


@functools.lru_cache(maxsize=16)
def _recent_picks_statement(count: int) -> Executable:
    """The latest pickable nudges of `count` channels: one LIMITed index scan each, UNION ALL,
    built once per count (the scheduler asks with a handful of batch sizes). Parameters: the
    keys as p<n>, t<n>, c<n> and `limit`; rows are (n, exercise_key, nudge id)."""
    branches = []
    for n in range(count):
        channel_pk = (
            select(ChannelRow.id)
            .where(
                ChannelRow.platform == bindparam(f"p{n}"),
                ChannelRow.team_id == bindparam(f"t{n}"),
                ChannelRow.channel_id == bindparam(f"c{n}"),
            )
            .scalar_subquery()
        )
        branches.append(
            select(literal_column(str(n)).label("n"), NudgeRow.exercise_key, NudgeRow.id)
            .where(NudgeRow.channel_pk == channel_pk)
            .where(NudgeRow.status.in_(_PICKABLE_IN_SQL))
            .order_by(NudgeRow.id.desc())
            .limit(bindparam("limit", type_=Integer))
            .subquery()
            .select()
        )
    return union_all(*branches) if count > 1 else branches[0]


# ---- the repository ---------------------------------------------------------------------------


class SqlNudgeRepository(NudgeLeases):
    """`bot.ports.NudgeRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def move_slots(
        self, moves: Sequence[SlotMove], *, lease: Lease | None = None
    ) -> dict[ChannelKey, Nudge | None]:
        """Apply one scheduler batch of slot moves in one transaction (see `bot.ports`).

        Three statements whatever the batch size: lock the channels that still sit at their
        expected slot (compare-and-set; rows another worker holds are skipped), insert the
        claimed nudges (the unique (channel, slot) is the last line of defence, e.g. when the
        schedule was edited so the cursor points at a slot already posted: that channel's
        cursor then stays put), and move the cursors of the winners.
        """
        if not moves:
            return {}
        if lease is not None:
            require_aware(lease_until=lease.until)
        by_key: dict[ChannelKey, SlotMove] = {}
        for move in moves:
            require_aware(
                expected_slot_at=move.expected_slot_at,
                next_slot_at=move.next_slot_at,
                slot_at=move.slot_at,
            )
            if move.channel in by_key:
                raise ValueError(f"two moves for one channel: {move.channel}")
            require_aware(slid_from=move.slid_from)
            if move.exercise_key is not None and move.slot_at is None:
                raise ValueError("a claim needs both slot_at and exercise_key")
            if move.slot_at is not None and move.exercise_key is None and not move.skipped_reason:
                raise ValueError("a slot_at needs an exercise_key (a claim) or a skipped_reason")
            by_key[move.channel] = move
        now = self._db.clock()
        keys = [(k.platform, k.team_id, k.channel_id) for k in by_key]
        async with self._db.write() as session:
            conn = await session.connection()
            won: dict[int, SlotMove] = {}
            for pk, platform, team_id, channel_id, enabled, at in await conn.execute(
                _LOCK_FOR_MOVE, {"keys": keys}
            ):
                move = by_key[ChannelKey(platform, team_id, channel_id)]
                if enabled and at == move.expected_slot_at:
                    won[pk] = move
            if not won:
                return {}
            claims = [
                {
                    "channel_pk": pk,
                    "slot_at": move.slot_at,
                    "exercise_key": move.exercise_key,
                    "status": NudgeStatus.CLAIMED.value,
                    "claimed_at": now,
                    "lease_owner": lease.owner if lease is not None else None,
                    "lease_until": lease.until if lease is not None else None,
                }
                for pk, move in won.items()
                if move.exercise_key is not None
            ]
            # A busy person's skipped reminder: recorded once (the unique (channel, slot)), and
            # the cursor moves on whether or not another worker recorded it first.
            skips = [
                {
                    "channel_pk": pk,
                    "slot_at": move.slot_at,
                    "exercise_key": "",
                    "status": NudgeStatus.SKIPPED.value,
                    "claimed_at": now,
                    "error": move.skipped_reason,
                }
                for pk, move in won.items()
                if move.exercise_key is None and move.skipped_reason and move.slot_at is not None
            ]
            if skips:
                await conn.execute(
                    self._db.insert(NudgeRow).on_conflict_do_nothing(
                        index_elements=["channel_pk", "slot_at"]
                    ),
                    skips,
                )
            nudges: dict[int, int] = {}
            if claims:
                inserted = await conn.execute(
                    self._db.insert(NudgeRow)
                    .on_conflict_do_nothing(index_elements=["channel_pk", "slot_at"])
                    .returning(NudgeRow.id, NudgeRow.channel_pk),
                    claims,
                )
                nudges = {channel_pk: nudge_id for nudge_id, channel_pk in inserted}
            moved = {
                pk: move for pk, move in won.items() if move.exercise_key is None or pk in nudges
            }
            if moved:
                await conn.execute(
                    _MOVE_CURSOR,
                    [
                        {
                            "pk": pk,
                            "next_at": move.next_slot_at,
                            "keep_recent": move.exercise_key is None,
                            "recent": recent_to_text(move.recent_exercises),
                            "slid_from": move.slid_from,
                            "now": now,
                        }
                        for pk, move in moved.items()
                    ],
                )
            await session.commit()
        result: dict[ChannelKey, Nudge | None] = {}
        for pk, move in moved.items():
            if move.exercise_key is None or move.slot_at is None:
                result[move.channel] = None
                continue
            result[move.channel] = Nudge(
                id=nudges[pk],
                channel=move.channel,
                exercise_key=move.exercise_key,
                slot_at=move.slot_at,
                status=NudgeStatus.CLAIMED,
            )
        return result

    async def release_claims(self, claims: Sequence[tuple[Nudge, SlotMove]]) -> int:
        """Give back claimed, unposted nudges (see `bot.ports`); the picks are forgotten too
        (NULL: the next pick reads the nudges that really went out)."""
        released = 0
        if not claims:
            return released
        now = self._db.clock()
        async with self._db.write() as session:
            for nudge, move in claims:
                gone = await session.execute(
                    delete(NudgeRow)
                    .where(
                        NudgeRow.id == nudge.id,
                        NudgeRow.status == NudgeStatus.CLAIMED.value,
                        NudgeRow.message_id.is_(None),
                    )
                    .returning(NudgeRow.id)
                )
                if gone.scalar_one_or_none() is None:
                    continue  # posted (or failed) after all: keep it
                cursor = (
                    ChannelRow.next_slot_at.is_(None)
                    if move.next_slot_at is None
                    else ChannelRow.next_slot_at == move.next_slot_at
                )
                # A personal reminder claimed at the time it slid to slides there again.
                slid = nudge.slot_at if nudge.slot_at != move.expected_slot_at else None
                back = await session.execute(
                    update(ChannelRow)
                    .where(is_channel(nudge.channel), ChannelRow.enabled, cursor)
                    .values(
                        next_slot_at=move.expected_slot_at,
                        recent_exercises=None,
                        slid_from=case(
                            (
                                ChannelRow.personal_for.is_not(None),
                                bindparam("slid", slid, type_=UTCDateTime()),
                            ),
                            else_=None,
                        ),
                        updated_at=now,
                    )
                    .returning(ChannelRow.id)
                )
                released += back.scalar_one_or_none() is not None
            await session.commit()
        return released

    async def create_adhoc(self, *, channel: ChannelKey, exercise_key: str) -> Nudge:
        """Record an unscheduled nudge (`/stretch now`), status claimed.

        A channel the bot has not stored yet is created, unscheduled. The channel's stored
        picks are cleared, so the next scheduled pick reads the nudges (this one included).
        """
        async with self._db.write() as session:
            channel_pk = await self._db.ensure_channel(session, channel)
            await session.execute(
                update(ChannelRow)
                .where(ChannelRow.id == channel_pk, ChannelRow.recent_exercises.is_not(None))
                .values(recent_exercises=None)
            )
            nudge_id = (
                await session.execute(
                    self._db.insert(NudgeRow)
                    .values(
                        channel_pk=channel_pk,
                        slot_at=None,
                        exercise_key=exercise_key,
                        status=NudgeStatus.CLAIMED.value,
                        claimed_at=self._db.clock(),
                    )
                    .returning(NudgeRow.id)
                )
            ).scalar_one()
            await session.commit()
        return Nudge(
            id=nudge_id,
            channel=channel,
            exercise_key=exercise_key,
            slot_at=None,
            status=NudgeStatus.CLAIMED,
        )

    async def mark_posted(self, nudge_id: int, *, message_id: str, posted_at: datetime) -> None:
        """Record that the nudge is out, with the platform's message id (for reactions)."""
        require_aware(posted_at=posted_at)
        await self._update(
            nudge_id,
            status=NudgeStatus.POSTED.value,
            message_id=message_id,
            posted_at=posted_at,
            error=None,
        )

    async def mark_failed(self, nudge_id: int, *, reason: str) -> None:
        """Record that posting failed; the slot stays claimed so it is not retried."""
        await self._update(nudge_id, status=NudgeStatus.FAILED.value, error=reason)

    async def mark_skipped(self, nudge_id: int, *, reason: str) -> None:
        """Record that the claimed slot was given up (see `bot.ports`); not retried."""
        await self._update(nudge_id, status=NudgeStatus.SKIPPED.value, error=reason)

    async def mark_posted_many(self, posted: Sequence[PostedNudge]) -> None:
        """`mark_posted` for many nudges: one executemany UPDATE in one transaction, on the
        driver (see `Database.write_many_on_driver`)."""
        if not posted:
            return
        for one in posted:
            require_aware(posted_at=one.posted_at)
        at = self._db.driver_datetime
        rows: list[tuple[Any, ...]]
        if self._db.dialect == "postgresql":
            rows = [(one.nudge_id, one.message_id, at(one.posted_at)) for one in posted]
        else:
            rows = [(one.message_id, at(one.posted_at), one.nudge_id) for one in posted]
        await self._db.write_many_on_driver(_MARK_POSTED[self._db.dialect], rows)

    async def _update(self, nudge_id: int, **values: Any) -> None:
        async with self._db.write() as session:
            await session.execute(update(NudgeRow).where(NudgeRow.id == nudge_id).values(values))
            await session.commit()

    async def find_by_message(self, *, channel: ChannelKey, message_id: str) -> Nudge | None:
        """The nudge posted as `message_id` in `channel`, or None (not a nudge)."""
        query = (
            select(NudgeRow)
            .where(NudgeRow.channel_pk == channel_pk(channel).scalar_subquery())
            .where(NudgeRow.message_id == message_id)
            .order_by(NudgeRow.id.desc())
            .limit(1)
        )
        async with self._db.read() as session:
            row = await session.scalar(query)
            return _nudge_from_row(row, channel) if row is not None else None

    async def recent_exercise_keys_many(
        self, *, channels: Sequence[ChannelKey], limit: int
    ) -> dict[ChannelKey, list[str]]:
        """`recent_exercise_keys` for many channels in one query (each an index range scan).

        Every channel asked for is in the result, with an empty list when it has no nudges.
        """
        found: dict[ChannelKey, list[str]] = {key: [] for key in channels}
        if not found:
            return found
        unique = list(found)
        params: dict[str, Any] = {"limit": limit}
        for n, key in enumerate(unique):
            params.update({f"p{n}": key.platform, f"t{n}": key.team_id, f"c{n}": key.channel_id})
        async with self._db.connect() as conn:
            result = await conn.execute(_recent_picks_statement(len(unique)), params)
            rows = sorted(result, key=lambda row: (row[0], -row[2]))
        for n, exercise_key, _ in rows:
            found[unique[n]].append(exercise_key)
        return found

    async def recent_exercise_keys(self, *, channel: ChannelKey, limit: int) -> list[str]:
        """Exercise keys of the channel's latest posted/claimed nudges, most recent first."""
        query = (
            select(NudgeRow.exercise_key)
            .where(NudgeRow.channel_pk == channel_pk(channel).scalar_subquery())
            .where(NudgeRow.status.in_(_PICKABLE_STATUSES))
            .order_by(NudgeRow.id.desc())
            .limit(limit)
        )
        async with self._db.read() as session:
            return list(await session.scalars(query))
