"""SQL implementations of the repositories in `bot.ports` (SQLite and PostgreSQL).

Every method is one short transaction and takes and returns `bot.ports` records, never ORM
objects. Races between replicas (or between two deliveries of one Slack event) are settled by
the database: compare-and-set updates, unique constraints with ON CONFLICT DO NOTHING, and row
locks, so no method needs a retry loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from bot.ports import (
    BoardRepository,
    BreakChange,
    BreakRepository,
    ChannelKey,
    ChannelRepository,
    ChannelState,
    Nudge,
    NudgeRepository,
    NudgeStatus,
    Storage,
)
from bot.schedules import ScheduleSpec
from storage.db import SQLITE_BEGIN
from storage.models import (
    BoardPostRow,
    BreakMarkRow,
    BreakRow,
    ChannelRow,
    NudgeRow,
    UTCDateTime,
)

Clock = Callable[[], datetime]

_PICKABLE_STATUSES = (NudgeStatus.CLAIMED.value, NudgeStatus.POSTED.value)

# Leaderboards ask for the same GROUP BY with new values many times: build the statement once
# (bound parameters, open period ends as far-off instants) so each call skips SQLAlchemy's
# statement construction and cache-key work, which cost more than the query itself.
_NEVER_BEFORE = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER_AFTER = datetime(9999, 1, 1, tzinfo=UTC)
_COUNTS_BY_PERSON = (
    select(BreakRow.person_id, func.count())
    .where(
        BreakRow.channel_pk
        == select(ChannelRow.id)
        .where(
            ChannelRow.platform == bindparam("platform"),
            ChannelRow.team_id == bindparam("team_id"),
            ChannelRow.channel_id == bindparam("channel_id"),
        )
        .scalar_subquery(),
        BreakRow.logged_at >= bindparam("since", type_=UTCDateTime()),
        BreakRow.logged_at < bindparam("until", type_=UTCDateTime()),
    )
    .group_by(BreakRow.person_id)
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _require_aware(**values: datetime | None) -> None:
    """Raise ValueError for naive datetimes before they reach SQL (where the error would arrive
    wrapped in a StatementError)."""
    for name, value in values.items():
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


# ---- ScheduleSpec <-> columns -----------------------------------------------------------------


def _time_text(value: time) -> str:
    if value.second or value.microsecond:
        raise ValueError(f"schedule times are whole minutes, got {value.isoformat()}")
    return value.strftime("%H:%M")


def _parse_time(text: str | None, default: time) -> time:
    return time.fromisoformat(text) if text else default


def spec_to_columns(spec: ScheduleSpec | None) -> dict[str, Any]:
    """The `channels` column values for a schedule (all NULL for no schedule)."""
    if spec is None:
        return dict.fromkeys(
            ("interval_minutes", "window_start", "window_end", "weekdays", "tz", "holidays")
        )
    minutes, remainder = divmod(spec.interval, timedelta(minutes=1))
    if remainder:
        raise ValueError(f"schedule interval must be whole minutes, got {spec.interval}")
    return {
        "interval_minutes": minutes,
        "window_start": _time_text(spec.window_start),
        "window_end": _time_text(spec.window_end),
        "weekdays": ",".join(str(day) for day in sorted(spec.weekdays)),
        "tz": spec.tz,
        "holidays": spec.holidays,
    }


def spec_from_row(row: ChannelRow) -> ScheduleSpec | None:
    """The schedule stored in a `channels` row, or None when it has none."""
    if row.interval_minutes is None:
        return None
    defaults = ScheduleSpec(interval=timedelta(minutes=row.interval_minutes), tz=row.tz or "UTC")
    weekdays = (
        frozenset(int(day) for day in row.weekdays.split(",") if day)
        if row.weekdays is not None
        else defaults.weekdays
    )
    return ScheduleSpec(
        interval=defaults.interval,
        tz=defaults.tz,
        window_start=_parse_time(row.window_start, defaults.window_start),
        window_end=_parse_time(row.window_end, defaults.window_end),
        weekdays=weekdays,
        holidays=row.holidays,
    )


def _state_from_row(row: ChannelRow) -> ChannelState:
    return ChannelState(
        key=ChannelKey(platform=row.platform, team_id=row.team_id, channel_id=row.channel_id),
        spec=spec_from_row(row),
        enabled=row.enabled,
        paused=row.paused,
        paused_until=row.paused_until,
        seated_only=row.seated_only,
        weekly_board=row.weekly_board,
        next_slot_at=row.next_slot_at,
        next_board_at=row.next_board_at,
        updated_by=row.updated_by,
    )


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


def _is_channel(key: ChannelKey) -> ColumnElement[bool]:
    return (
        (ChannelRow.platform == key.platform)
        & (ChannelRow.team_id == key.team_id)
        & (ChannelRow.channel_id == key.channel_id)
    )


def _channel_pk(key: ChannelKey) -> Select[int]:
    return select(ChannelRow.id).where(_is_channel(key))


# ---- shared plumbing --------------------------------------------------------------------------


class _Database:
    """Sessions and dialect helpers shared by the repositories of one `SqlStorage`."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.dialect = engine.dialect.name
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database dialect {self.dialect!r}")
        self.clock = clock
        self.engine = engine
        self._reads = async_sessionmaker(engine, expire_on_commit=False)
        # On SQLite, writers take the write lock at BEGIN (see storage.db.SQLITE_BEGIN);
        # Postgres ignores the option.
        self._writes = async_sessionmaker(
            engine, expire_on_commit=False, execution_options={SQLITE_BEGIN: "IMMEDIATE"}
        )
        # SQLite has one writer at a time and a bot process is alone on its file (bot.app locks
        # it), so queue writers here instead of on the file lock: pooled connections waiting on
        # BEGIN IMMEDIATE gave up after busy_timeout under a big fan-out ("database is locked"),
        # which could leave a posted nudge without its message id.
        self._write_turn: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection for hot read-only queries (no ORM session around them)."""
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; whatever it did is rolled back on exit."""
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session for one write transaction. Call `commit()` to keep the work: leaving
        without committing (early return or exception) rolls it back."""
        if self._write_turn is None:
            async with self._writes() as session:
                yield session
            return
        async with self._write_turn, self._writes() as session:
            await session.connection()  # BEGIN now, so SQLite takes the write lock up front
            yield session

    def insert(self, model: type[Any]) -> sqlite.Insert | postgresql.Insert:
        """INSERT with ON CONFLICT support for the engine's dialect."""
        return postgresql.insert(model) if self.dialect == "postgresql" else sqlite.insert(model)

    async def ensure_channel(self, session: AsyncSession, key: ChannelKey) -> int:
        """The channel's primary key, inserting a default (unscheduled) row when it is new."""
        now = self.clock()
        await session.execute(
            self.insert(ChannelRow)
            .values(
                platform=key.platform,
                team_id=key.team_id,
                channel_id=key.channel_id,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["platform", "team_id", "channel_id"])
        )
        return (await session.execute(_channel_pk(key))).scalar_one()


# ---- repositories -----------------------------------------------------------------------------


class SqlChannelRepository:
    """`bot.ports.ChannelRepository` on SQL."""

    def __init__(self, db: _Database) -> None:
        self._db = db

    async def get(self, key: ChannelKey) -> ChannelState | None:
        """The channel's state, or None if the bot has never stored it."""
        async with self._db.read() as session:
            row = await session.scalar(select(ChannelRow).where(_is_channel(key)))
            return _state_from_row(row) if row is not None else None

    async def save(self, state: ChannelState) -> None:
        """Insert or update the channel (keyed by `state.key`).

        Re-enabling a channel clears the reason it was disabled; otherwise the reason stays.
        """
        _require_aware(
            paused_until=state.paused_until,
            next_slot_at=state.next_slot_at,
            next_board_at=state.next_board_at,
        )
        now = self._db.clock()
        values: dict[str, Any] = {
            **spec_to_columns(state.spec),
            "enabled": state.enabled,
            "paused": state.paused,
            "paused_until": state.paused_until,
            "seated_only": state.seated_only,
            "weekly_board": state.weekly_board,
            "next_slot_at": state.next_slot_at,
            "next_board_at": state.next_board_at,
            "updated_by": state.updated_by,
            "updated_at": now,
        }
        if state.enabled:
            values["disabled_reason"] = None
        statement = self._db.insert(ChannelRow).values(
            platform=state.key.platform,
            team_id=state.key.team_id,
            channel_id=state.key.channel_id,
            created_at=now,
            **values,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["platform", "team_id", "channel_id"], set_=values
        )
        async with self._db.write() as session:
            await session.execute(statement)
            await session.commit()

    async def due_for_nudge(
        self, *, now: datetime, limit: int, platforms: Sequence[str] | None = None
    ) -> list[ChannelState]:
        """Enabled channels whose `next_slot_at <= now`, oldest first (only `platforms` if given)."""
        # Spelled to match the partial index ix_channels_due_nudge (see storage.models).
        condition = and_(ChannelRow.enabled, ChannelRow.next_slot_at <= now)
        return await self._due(ChannelRow.next_slot_at, condition, now, limit, platforms)

    async def due_for_board(
        self, *, now: datetime, limit: int, platforms: Sequence[str] | None = None
    ) -> list[ChannelState]:
        """Channels whose `next_board_at <= now`, oldest first (only `platforms` if given)."""
        condition = ChannelRow.next_board_at <= now
        return await self._due(ChannelRow.next_board_at, condition, now, limit, platforms)

    async def _due(
        self,
        cursor: InstrumentedAttribute[datetime | None],
        condition: ColumnElement[bool],
        now: datetime,
        limit: int,
        platforms: Sequence[str] | None,
    ) -> list[ChannelState]:
        _require_aware(now=now)
        # No tie-breaker column: ordering by the indexed column alone lets the index serve
        # ORDER BY + LIMIT without a sort (Postgres cannot use a hidden rowid like SQLite).
        query = select(ChannelRow).where(condition).order_by(cursor).limit(limit)
        if platforms is not None:
            query = query.where(ChannelRow.platform.in_(platforms))
        async with self._db.read() as session:
            return [_state_from_row(row) for row in await session.scalars(query)]

    async def set_next_board(
        self, key: ChannelKey, *, expected: datetime, next_board_at: datetime | None
    ) -> bool:
        """Advance `next_board_at` from `expected`; False if another worker already moved it."""
        _require_aware(expected=expected, next_board_at=next_board_at)
        statement = (
            update(ChannelRow)
            .where(_is_channel(key), ChannelRow.next_board_at == expected)
            .values(next_board_at=next_board_at, updated_at=self._db.clock())
            .returning(ChannelRow.id)
        )
        async with self._db.write() as session:
            if (await session.execute(statement)).scalar_one_or_none() is None:
                return False
            await session.commit()
            return True

    async def disable(self, key: ChannelKey, *, reason: str) -> None:
        """Turn the channel's schedule and weekly board off (archived / deleted channel).

        The schedule itself is kept so a later `resume` can restore it.
        """
        statement = (
            update(ChannelRow)
            .where(_is_channel(key))
            .values(
                enabled=False,
                next_slot_at=None,
                next_board_at=None,
                disabled_reason=reason,
                updated_at=self._db.clock(),
            )
        )
        async with self._db.write() as session:
            await session.execute(statement)
            await session.commit()


class SqlNudgeRepository:
    """`bot.ports.NudgeRepository` on SQL."""

    def __init__(self, db: _Database) -> None:
        self._db = db

    async def claim_slot(
        self,
        *,
        channel: ChannelKey,
        slot_at: datetime,
        exercise_key: str,
        next_slot_at: datetime | None,
        expected_slot_at: datetime,
    ) -> Nudge | None:
        """Atomically insert the (channel, slot) claim and move the channel's `next_slot_at`
        from `expected_slot_at` to `next_slot_at`.

        Returns:
            The claimed nudge, or None when another worker moved `next_slot_at` first, the
            channel is disabled or unknown, or the slot was already claimed.
        """
        _require_aware(
            slot_at=slot_at, next_slot_at=next_slot_at, expected_slot_at=expected_slot_at
        )
        now = self._db.clock()
        async with self._db.write() as session:
            # Compare-and-set first: on Postgres a concurrent claimer blocks on the row lock and
            # then re-checks the WHERE against the winner's committed value, so exactly one
            # passes; on SQLite BEGIN IMMEDIATE already serialised us.
            channel_pk = (
                await session.execute(
                    update(ChannelRow)
                    .where(
                        _is_channel(channel),
                        ChannelRow.enabled,
                        ChannelRow.next_slot_at == expected_slot_at,
                    )
                    .values(next_slot_at=next_slot_at, updated_at=now)
                    .returning(ChannelRow.id)
                )
            ).scalar_one_or_none()
            if channel_pk is None:
                return None
            # The unique (channel_pk, slot_at) is the last line of defence, e.g. when the
            # schedule was edited and `expected_slot_at` points at a slot already posted.
            nudge_id = (
                await session.execute(
                    self._db.insert(NudgeRow)
                    .values(
                        channel_pk=channel_pk,
                        slot_at=slot_at,
                        exercise_key=exercise_key,
                        status=NudgeStatus.CLAIMED.value,
                        claimed_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["channel_pk", "slot_at"])
                    .returning(NudgeRow.id)
                )
            ).scalar_one_or_none()
            if nudge_id is None:
                return None  # rolls the CAS back too: the caller will see the slot as taken
            await session.commit()
        return Nudge(
            id=nudge_id,
            channel=channel,
            exercise_key=exercise_key,
            slot_at=slot_at,
            status=NudgeStatus.CLAIMED,
        )

    async def skip_slots(
        self, *, channel: ChannelKey, expected_slot_at: datetime, next_slot_at: datetime | None
    ) -> bool:
        """Move `next_slot_at` on without posting (stale or paused slots); False if lost a race."""
        _require_aware(expected_slot_at=expected_slot_at, next_slot_at=next_slot_at)
        statement = (
            update(ChannelRow)
            .where(
                _is_channel(channel),
                ChannelRow.enabled,
                ChannelRow.next_slot_at == expected_slot_at,
            )
            .values(next_slot_at=next_slot_at, updated_at=self._db.clock())
            .returning(ChannelRow.id)
        )
        async with self._db.write() as session:
            if (await session.execute(statement)).scalar_one_or_none() is None:
                return False
            await session.commit()
            return True

    async def create_adhoc(self, *, channel: ChannelKey, exercise_key: str) -> Nudge:
        """Record an unscheduled nudge (`/stretch now`), status claimed.

        A channel the bot has not stored yet is created, unscheduled.
        """
        async with self._db.write() as session:
            channel_pk = await self._db.ensure_channel(session, channel)
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
        _require_aware(posted_at=posted_at)
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

    async def _update(self, nudge_id: int, **values: Any) -> None:
        async with self._db.write() as session:
            await session.execute(update(NudgeRow).where(NudgeRow.id == nudge_id).values(values))
            await session.commit()

    async def find_by_message(self, *, channel: ChannelKey, message_id: str) -> Nudge | None:
        """The nudge posted as `message_id` in `channel`, or None (not a nudge)."""
        query = (
            select(NudgeRow)
            .where(NudgeRow.channel_pk == _channel_pk(channel).scalar_subquery())
            .where(NudgeRow.message_id == message_id)
            .order_by(NudgeRow.id.desc())
            .limit(1)
        )
        async with self._db.read() as session:
            row = await session.scalar(query)
            return _nudge_from_row(row, channel) if row is not None else None

    async def recent_exercise_keys(self, *, channel: ChannelKey, limit: int) -> list[str]:
        """Exercise keys of the channel's latest posted/claimed nudges, most recent first."""
        query = (
            select(NudgeRow.exercise_key)
            .where(NudgeRow.channel_pk == _channel_pk(channel).scalar_subquery())
            .where(NudgeRow.status.in_(_PICKABLE_STATUSES))
            .order_by(NudgeRow.id.desc())
            .limit(limit)
        )
        async with self._db.read() as session:
            return list(await session.scalars(query))


class SqlBreakRepository:
    """`bot.ports.BreakRepository` on SQL."""

    def __init__(self, db: _Database) -> None:
        self._db = db

    async def _lock_nudge(self, session: AsyncSession, nudge_id: int) -> int | None:
        """Lock the nudge row and return its channel pk (None: no such nudge).

        Serialises mark changes per nudge, so an add racing a remove of another mark cannot
        leave a mark without a break (or a break without marks). SQLite needs no row lock:
        BEGIN IMMEDIATE serialised us already, and SQLAlchemy renders nothing there.
        """
        return await session.scalar(
            select(NudgeRow.channel_pk)
            .where(NudgeRow.id == nudge_id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE: FK checks elsewhere proceed
        )

    async def _breaks_on(self, session: AsyncSession, nudge_id: int) -> int:
        count = await session.scalar(
            select(func.count()).select_from(BreakRow).where(BreakRow.nudge_id == nudge_id)
        )
        return int(count or 0)

    async def add_mark(
        self, *, nudge_id: int, person_id: str, mark: str, at: datetime
    ) -> BreakChange:
        """Record a mark (`reaction:white_check_mark`, `button`); the first mark makes the break,
        logged at `at`. Idempotent, also when two calls race. An unknown nudge changes nothing.
        """
        _require_aware(at=at)
        async with self._db.write() as session:
            channel_pk = await self._lock_nudge(session, nudge_id)
            if channel_pk is None:
                return BreakChange(changed=False, breaks_on_nudge=0)
            await session.execute(
                self._db.insert(BreakMarkRow)
                .values(nudge_id=nudge_id, person_id=person_id, mark=mark, created_at=at)
                .on_conflict_do_nothing(index_elements=["nudge_id", "person_id", "mark"])
            )
            # Inserted regardless of whether the mark was new, so a break can never be missing
            # while a mark exists.
            created = (
                await session.execute(
                    self._db.insert(BreakRow)
                    .values(
                        nudge_id=nudge_id, channel_pk=channel_pk, person_id=person_id, logged_at=at
                    )
                    .on_conflict_do_nothing(index_elements=["nudge_id", "person_id"])
                    .returning(BreakRow.id)
                )
            ).scalar_one_or_none()
            breaks = await self._breaks_on(session, nudge_id)
            await session.commit()
        return BreakChange(changed=created is not None, breaks_on_nudge=breaks)

    async def remove_mark(self, *, nudge_id: int, person_id: str, mark: str) -> BreakChange:
        """Remove a mark; removing the last one deletes the break."""
        async with self._db.write() as session:
            if await self._lock_nudge(session, nudge_id) is None:
                return BreakChange(changed=False, breaks_on_nudge=0)
            await session.execute(
                delete(BreakMarkRow).where(
                    BreakMarkRow.nudge_id == nudge_id,
                    BreakMarkRow.person_id == person_id,
                    BreakMarkRow.mark == mark,
                )
            )
            marks_left = exists().where(
                BreakMarkRow.nudge_id == nudge_id, BreakMarkRow.person_id == person_id
            )
            deleted = (
                await session.execute(
                    delete(BreakRow)
                    .where(BreakRow.nudge_id == nudge_id, BreakRow.person_id == person_id)
                    .where(~marks_left)
                    .returning(BreakRow.id)
                )
            ).scalar_one_or_none()
            breaks = await self._breaks_on(session, nudge_id)
            await session.commit()
        return BreakChange(changed=deleted is not None, breaks_on_nudge=breaks)

    async def counts(
        self, *, channel: ChannelKey, since: datetime | None, until: datetime | None = None
    ) -> dict[str, int]:
        """Breaks per person in the channel with `since <= logged_at < until` (None: unbounded)."""
        _require_aware(since=since, until=until)
        params = {
            "platform": channel.platform,
            "team_id": channel.team_id,
            "channel_id": channel.channel_id,
            "since": since or _NEVER_BEFORE,
            "until": until or _NEVER_AFTER,
        }
        async with self._db.connect() as conn:
            rows = await conn.execute(_COUNTS_BY_PERSON, params)
            return {person: int(count) for person, count in rows}

    async def break_times(
        self, *, channel: ChannelKey, since: datetime, person_ids: list[str] | None = None
    ) -> list[tuple[str, datetime]]:
        """(person, logged_at) for the channel's breaks since `since`, oldest first (streaks).

        `person_ids` narrows the result to those people; an empty list gives nothing.
        """
        _require_aware(since=since)
        if person_ids is not None and not person_ids:
            return []
        query = (
            select(BreakRow.person_id, BreakRow.logged_at)
            .where(BreakRow.channel_pk == _channel_pk(channel).scalar_subquery())
            .where(BreakRow.logged_at >= since)
            .order_by(BreakRow.logged_at, BreakRow.id)
        )
        if person_ids is not None:
            query = query.where(BreakRow.person_id.in_(person_ids))
        async with self._db.read() as session:
            return [(person, logged_at) for person, logged_at in await session.execute(query)]


class SqlBoardRepository:
    """`bot.ports.BoardRepository` on SQL."""

    def __init__(self, db: _Database) -> None:
        self._db = db

    async def claim_board(self, *, channel: ChannelKey, period_key: str) -> bool:
        """Claim posting the board for this period ('2026-W47'); False if already claimed."""
        async with self._db.write() as session:
            channel_pk = await self._db.ensure_channel(session, channel)
            claimed = (
                await session.execute(
                    self._db.insert(BoardPostRow)
                    .values(
                        channel_pk=channel_pk, period_key=period_key, posted_at=self._db.clock()
                    )
                    .on_conflict_do_nothing(index_elements=["channel_pk", "period_key"])
                    .returning(BoardPostRow.channel_pk)
                )
            ).scalar_one_or_none()
            if claimed is None:
                return False
            await session.commit()
            return True


class SqlStorage:
    """All repositories over one engine; satisfies `bot.ports.Storage`.

    Args:
        engine: from `storage.db.create_engine`, schema migrated (`storage.db.run_migrations`).
        clock: source of "now" for bookkeeping columns (created/updated/claimed at).
    """

    def __init__(self, engine: AsyncEngine, *, clock: Clock = _utc_now) -> None:
        self.engine = engine
        db = _Database(engine, clock)
        # Annotated with the port types: `Storage` declares plain (hence invariant) attributes.
        self.channels: ChannelRepository = SqlChannelRepository(db)
        self.nudges: NudgeRepository = SqlNudgeRepository(db)
        self.breaks: BreakRepository = SqlBreakRepository(db)
        self.boards: BoardRepository = SqlBoardRepository(db)


if TYPE_CHECKING:

    def _satisfies_storage_port(storage: SqlStorage) -> Storage:
        # mypy proves here that SqlStorage structurally implements bot.ports.Storage.
        return storage
