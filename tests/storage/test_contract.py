"""The storage contract across aggregates: schema and migrations, datetimes, cascades.

Each test runs once per backend through the `storage` fixture ("sqlite" always, "postgres" when
TEST_POSTGRES_URL is set), each on a fresh, migrated database.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, delete, event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import ChannelState
from storage.engine import current_revision, head_revision, run_migrations
from storage.models import (
    Base,
    BoardPostRow,
    BreakMarkRow,
    BreakRow,
    ChannelRow,
    NudgeRow,
    UTCDateTime,
)
from storage.sql import SqlStorage
from tests.storage.contract import KEY, OTHER, T0, add, posted_nudge, row_count

# ---- schema and migrations ------------------------------------------------------------------


async def test_schema_is_at_head_and_migrating_again_is_a_no_op(db_engine: AsyncEngine) -> None:
    assert await current_revision(db_engine) == head_revision()
    await run_migrations(db_engine)
    await run_migrations(db_engine)
    assert await current_revision(db_engine) == head_revision()


async def test_models_match_the_migrations(db_engine: AsyncEngine) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with db_engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_concurrent_migrations_do_not_collide(database_url: str) -> None:
    from storage.engine import create_engine

    engines = [create_engine(database_url) for _ in range(5)]
    try:
        await asyncio.gather(*(run_migrations(engine) for engine in engines))
        assert await current_revision(engines[0]) == head_revision()
    finally:
        for engine in engines:
            await engine.dispose()


async def test_hot_queries_use_their_indexes(storage: SqlStorage) -> None:
    """The scheduler polls and the leaderboard query are index range scans, not table scans."""
    engine = storage.engine
    captured: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    storage.breaks._db.direct_reads = False  # the counts statement through the engine, seen
    try:
        await storage.channels.due_for_nudge(now=T0, limit=100)
        await storage.channels.due_for_board(now=T0, limit=100)
        await storage.breaks.counts(channel=KEY, since=T0, until=T0 + timedelta(days=7))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
        storage.breaks._db.direct_reads = True
    (due_sql, due_params), (board_sql, board_params), (counts_sql, counts_params) = captured

    async def plan(statement: str, params: object) -> str:
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                prefix = "EXPLAIN QUERY PLAN "
            else:
                # Tiny tables make scanning and sorting cheapest; we want to know the index fits.
                await conn.exec_driver_sql("SET enable_seqscan = off")
                await conn.exec_driver_sql("SET enable_sort = off")
                prefix = "EXPLAIN "
            result = await conn.exec_driver_sql(prefix + statement, params)  # type: ignore[arg-type]
            return "\n".join(str(row[-1]) for row in result)

    for (statement, params), index in [
        ((due_sql, due_params), "ix_channels_due_nudge"),
        ((board_sql, board_params), "ix_channels_due_board"),
    ]:
        poll_plan = await plan(statement, params)
        assert index in poll_plan, poll_plan
        # The ORDER BY is served by the index: no sort step in either engine's plan.
        assert "TEMP B-TREE" not in poll_plan and "Sort" not in poll_plan, poll_plan
    counts_plan = await plan(counts_sql, counts_params)
    assert "ix_breaks_channel_logged_person" in counts_plan, counts_plan


# ---- datetimes --------------------------------------------------------------------------------


async def test_datetimes_come_back_aware_utc(storage: SqlStorage) -> None:
    berlin = timezone(timedelta(hours=1))
    local = datetime(2026, 11, 23, 10, 45, 12, 345678, tzinfo=berlin)
    await storage.channels.save(
        ChannelState(key=KEY, enabled=True, next_slot_at=local, paused_until=local)
    )
    state = await storage.channels.get(KEY)
    assert state is not None
    assert state.next_slot_at == local
    assert state.next_slot_at is not None and state.next_slot_at.tzinfo is UTC
    assert state.next_slot_at.hour == 9 and state.next_slot_at.microsecond == 345678
    # ... and compare equal in SQL: the slot is due at exactly its own instant.
    assert [s.key for s in await storage.channels.due_for_nudge(now=local, limit=10)] == [KEY]


async def test_naive_datetimes_are_rejected(storage: SqlStorage) -> None:
    naive = datetime(2026, 11, 23, 9, 45)
    with pytest.raises(ValueError, match="naive"):
        await storage.channels.save(ChannelState(key=KEY, next_slot_at=naive))
    with pytest.raises(ValueError, match="naive"):
        await storage.channels.due_for_nudge(now=naive, limit=1)
    await posted_nudge(storage, message_id="m1")
    with pytest.raises(ValueError, match="naive"):
        await storage.breaks.apply_marks([add("m1", "U1", "button", at=naive)])
    # The column type guards too, for code that bypasses the repositories.
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(naive, storage.engine.dialect)


# ---- cascades ---------------------------------------------------------------------------------


async def test_deleting_a_nudge_deletes_its_breaks_and_marks(storage: SqlStorage) -> None:
    await posted_nudge(storage, message_id="kept")
    gone = await posted_nudge(storage, message_id="gone")
    await storage.breaks.apply_marks([add("kept", "U1", "button"), add("gone", "U1", "button")])
    async with storage.engine.begin() as conn:
        await conn.execute(delete(NudgeRow).where(NudgeRow.id == gone))
    assert await row_count(storage.engine, BreakRow) == 1
    assert await row_count(storage.engine, BreakMarkRow) == 1
    assert await storage.breaks.counts(channel=KEY, since=None) == {"U1": 1}


async def test_deleting_a_channel_deletes_everything_of_it(storage: SqlStorage) -> None:
    for key in (KEY, OTHER):
        await posted_nudge(storage, key, message_id="m1")
        await storage.breaks.apply_marks([add("m1", "U1", "button", key=key)])
        await storage.boards.claim_board(channel=key, period_key="2026-W48")
    async with storage.engine.begin() as conn:
        await conn.execute(delete(ChannelRow).where(ChannelRow.channel_id == "C1"))
    for model in (ChannelRow, NudgeRow, BreakRow, BreakMarkRow, BoardPostRow):
        assert await row_count(storage.engine, model) == 1, model.__tablename__
    assert await storage.channels.get(KEY) is None
    assert await storage.breaks.counts(channel=OTHER, since=None) == {"U1": 1}


async def test_foreign_keys_are_enforced(storage: SqlStorage) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with storage.engine.begin() as conn:
            await conn.execute(
                insert(BreakRow).values(
                    nudge_id=12345, channel_pk=12345, person_id="U1", logged_at=T0
                )
            )


async def test_raw_sql_sees_utc(storage: SqlStorage) -> None:
    """Other tools reading the database see the UTC instant, whatever offset came in."""
    await storage.channels.save(
        ChannelState(
            key=KEY,
            next_slot_at=datetime(2026, 11, 23, 10, 45, tzinfo=timezone(timedelta(hours=1))),
        )
    )
    async with storage.engine.connect() as conn:
        if storage.engine.dialect.name == "postgresql":
            query = "SELECT to_char(next_slot_at AT TIME ZONE 'UTC', 'HH24:MI') FROM channels"
        else:
            query = "SELECT substr(next_slot_at, 12, 5) FROM channels"
        assert (await conn.execute(text(query))).scalar_one() == "09:45"
