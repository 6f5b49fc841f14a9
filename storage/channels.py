"""The `channels` aggregate on SQL: `SqlChannelRepository` and the row <-> `ChannelState` mapping.

Every method is one short transaction and takes and returns `bot.ports` records, never ORM
objects; races between replicas are settled by the database (upserts, compare-and-set
updates), so no method needs a retry loop.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import InstrumentedAttribute

from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec
from storage.db import Database, is_channel, require_aware
from storage.models import ChannelRow

RECENT_KEPT = 5  # exercise keys kept in channels.recent_exercises (the picker looks at 3)


# ---- rows <-> ChannelState --------------------------------------------------------------------


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


def spec_from_row(row: ChannelRow | Row[Any]) -> ScheduleSpec | None:
    """The schedule stored in a `channels` row, or None when it has none."""
    if row.interval_minutes is None:
        return None
    return _spec_from_columns(
        row.interval_minutes, row.tz, row.window_start, row.window_end, row.weekdays, row.holidays
    )


@functools.lru_cache(maxsize=4096)
def _spec_from_columns(
    interval_minutes: int,
    tz: str | None,
    window_start: str | None,
    window_end: str | None,
    weekdays: str | None,
    holidays: str | None,
) -> ScheduleSpec:
    # Cached: many channels share a few schedules, and ScheduleSpec is immutable.
    defaults = ScheduleSpec(interval=timedelta(minutes=interval_minutes), tz=tz or "UTC")
    return ScheduleSpec(
        interval=defaults.interval,
        tz=defaults.tz,
        window_start=_parse_time(window_start, defaults.window_start),
        window_end=_parse_time(window_end, defaults.window_end),
        weekdays=(
            frozenset(int(day) for day in weekdays.split(",") if day)
            if weekdays is not None
            else defaults.weekdays
        ),
        holidays=holidays,
    )


def state_from_row(row: ChannelRow | Row[Any]) -> ChannelState:
    """The state stored in a `channels` row: an ORM row, or a Core row with the `channels`
    columns under their own names."""
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
        recent_exercises=_recent_from_text(row.recent_exercises),
        team_goal=row.team_goal,
        streak_freezes=row.streak_freezes,
        personal_for=row.personal_for,
        slid_from=row.slid_from,
        language=row.language,
    )


def _recent_from_text(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(key for key in text.split(",") if key)


def recent_to_text(keys: Sequence[str] | None) -> str | None:
    """The `recent_exercises` column value for these picks, most recent first (None: not
    known)."""
    # The column holds RECENT_KEPT keys at most (255 characters, keys are short slugs).
    return None if keys is None else ",".join(keys[:RECENT_KEPT])


# ---- the repository ---------------------------------------------------------------------------


class SqlChannelRepository:
    """`bot.ports.ChannelRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: ChannelKey) -> ChannelState | None:
        """The channel's state, or None if the bot has never stored it."""
        async with self._db.read() as session:
            row = await session.scalar(select(ChannelRow).where(is_channel(key)))
            return state_from_row(row) if row is not None else None

    async def save(self, state: ChannelState) -> None:
        """Insert or update the channel (keyed by `state.key`).

        Re-enabling a channel clears the reason it was disabled; otherwise the reason stays.
        """
        require_aware(
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
            "team_goal": state.team_goal,
            "streak_freezes": state.streak_freezes,
            "personal_for": state.personal_for,
            # A saved schedule starts afresh: no slide of the old one carries over.
            "slid_from": None,
            "language": state.language,
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
        # A person's own reminders (their DM) never get a board.
        condition = and_(ChannelRow.next_board_at <= now, ChannelRow.personal_for.is_(None))
        return await self._due(ChannelRow.next_board_at, condition, now, limit, platforms)

    async def _due(
        self,
        cursor: InstrumentedAttribute[datetime | None],
        condition: ColumnElement[bool],
        now: datetime,
        limit: int,
        platforms: Sequence[str] | None,
    ) -> list[ChannelState]:
        require_aware(now=now)
        # No tie-breaker column: ordering by the indexed column alone lets the index serve
        # ORDER BY + LIMIT without a sort (Postgres cannot use a hidden rowid like SQLite).
        # Core rows, not ORM objects: a fan-out reads every due channel once, and building
        # (and tracking) a `ChannelRow` for each cost more than the read.
        query = select(*ChannelRow.__table__.columns).where(condition).order_by(cursor).limit(limit)
        if platforms is not None:
            query = query.where(ChannelRow.platform.in_(platforms))
        async with self._db.connect() as conn:
            return [state_from_row(row) for row in await conn.execute(query)]

    async def set_next_board(
        self, key: ChannelKey, *, expected: datetime, next_board_at: datetime | None
    ) -> bool:
        """Advance `next_board_at` from `expected`; False if another worker already moved it."""
        require_aware(expected=expected, next_board_at=next_board_at)
        statement = (
            update(ChannelRow)
            .where(is_channel(key), ChannelRow.next_board_at == expected)
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
            .where(is_channel(key))
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
