"""Round trips to Postgres per repository read, counted at the driver (bench/roundtrips.py):
a read is one statement, one round trip (autocommit: no BEGIN and ROLLBACK around it), and
writes stay one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.roundtrips import RoundTrips
from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec
from storage.db import Database
from storage.engine import create_engine, run_migrations
from storage.models import ChannelRow
from storage.sql import SqlStorage, SqlTenancy

pytestmark = pytest.mark.postgres

KEY = ChannelKey(platform="slack", team_id="T1", channel_id="C1")
SPEC = ScheduleSpec(interval=timedelta(minutes=45), tz="Europe/Berlin")
NOW = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)


@pytest.fixture
async def counted(postgres_url: str) -> AsyncIterator[tuple[AsyncEngine, RoundTrips]]:
    engine = create_engine(postgres_url)
    try:
        await run_migrations(engine)
        await engine.dispose()  # the pool starts empty: every connection is counted
        yield engine, RoundTrips.attach(engine)
    finally:
        await engine.dispose()


async def trips(counter: RoundTrips, call: Callable[[], Awaitable[Any]]) -> int:
    """Round trips of `call` once its statements are prepared on the connection (asyncpg's
    statement cache: the first call on a connection also prepares each statement)."""
    await call()
    counter.reset()
    await call()
    return counter.total


async def test_each_hot_read_is_one_round_trip(
    counted: tuple[AsyncEngine, RoundTrips],
) -> None:
    engine, counter = counted
    storage, tenancy = SqlStorage(engine), SqlTenancy(engine)
    await tenancy.workspaces.ensure(platform="slack", team_id="T1")
    await storage.channels.save(ChannelState(key=KEY, spec=SPEC, enabled=True))
    since = NOW - timedelta(days=400)
    reads: dict[str, Callable[[], Awaitable[Any]]] = {
        "get_with_channel": lambda: tenancy.workspaces.get_with_channel(KEY),
        "channels.get": lambda: storage.channels.get(KEY),
        "break_times": lambda: storage.breaks.break_times(channel=KEY, since=since),
        "break_times of people": lambda: storage.breaks.break_times(
            channel=KEY, since=since, person_ids=["U1", "U2"]
        ),
        "counts": lambda: storage.breaks.counts(channel=KEY, since=since),
        "slot_outcomes": lambda: storage.slot_outcomes.slot_outcomes(
            channel=KEY, since=since, until=NOW
        ),
        "recent picks of many channels": lambda: storage.nudges.recent_exercise_keys_many(
            channels=[KEY], limit=3
        ),
    }
    found = {name: await trips(counter, read) for name, read in reads.items()}
    assert found == dict.fromkeys(reads, 1)


async def test_a_read_session_of_two_statements_is_two_round_trips(
    counted: tuple[AsyncEngine, RoundTrips],
) -> None:
    engine, counter = counted
    db = Database(engine)

    async def two() -> None:
        async with db.read() as session:
            await session.execute(select(ChannelRow.id).limit(1))
            await session.execute(select(ChannelRow.id).limit(2))

    assert await trips(counter, two) == 2
    assert "query BEGIN" not in " ".join(counter.by_kind)


async def test_writes_stay_one_transaction(counted: tuple[AsyncEngine, RoundTrips]) -> None:
    engine, counter = counted
    storage = SqlStorage(engine)
    state = ChannelState(key=KEY, spec=SPEC, enabled=True)
    await storage.channels.save(state)
    counter.reset()
    await storage.channels.save(state)
    kinds = " ".join(counter.by_kind)
    assert "query BEGIN" in kinds and "query COMMIT" in kinds
