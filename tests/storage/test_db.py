"""`storage.db.Database`: one per engine and clock for every repository bundle on it, and one
SQLite write queue per engine whatever the clocks."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import ChannelKey, PostedNudge
from storage import db as db_module
from storage.conversations import SqlConversationRepository
from storage.db import Database, utc_now
from storage.engine import create_engine
from storage.models import NudgeRow
from storage.sql import SqlStorage, SqlTenancy


def frozen() -> datetime:
    return datetime(2026, 11, 23, 9, 45, tzinfo=UTC)


async def test_bundles_on_one_engine_and_clock_share_one_database(db_engine: AsyncEngine) -> None:
    storage, tenancy = SqlStorage(db_engine), SqlTenancy(db_engine)
    conversations = SqlConversationRepository(db_engine)
    shared = Database.shared(db_engine)
    assert shared.clock is utc_now
    for repository in (
        storage.channels,
        storage.nudges,
        storage.breaks,
        storage.boards,
        tenancy.workspaces,
        tenancy.people,
        tenancy.cooldowns,
        conversations,
    ):
        assert repository._db is shared  # type: ignore[attr-defined]


async def test_another_clock_gets_its_own_database_on_the_same_engine(
    db_engine: AsyncEngine,
) -> None:
    ticking = SqlStorage(db_engine).nudges._db  # type: ignore[attr-defined]
    stopped = SqlStorage(db_engine, clock=frozen).nudges._db  # type: ignore[attr-defined]
    assert stopped is not ticking and stopped.clock is frozen
    assert SqlTenancy(db_engine, clock=frozen).people._db is stopped  # type: ignore[attr-defined]
    # Whatever their clocks, writers to one SQLite file still queue in one line.
    assert stopped._write_turn is ticking._write_turn


async def test_the_shared_databases_do_not_keep_an_engine_alive(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    SqlStorage(engine)
    SqlTenancy(engine, clock=frozen)
    assert engine in db_module._SHARED
    gone = weakref.ref(engine)
    await engine.dispose()
    del engine
    gc.collect()
    assert gone() is None


async def test_every_repository_on_one_sqlite_engine_queues_in_one_line(
    sqlite_url: str,
) -> None:
    """Storage, tenancy and Teams conversations all write through the process's one engine; on
    SQLite their writers must share one queue, or two of them wait on the file lock and give up
    after busy_timeout ("database is locked")."""
    engine = create_engine(sqlite_url)
    other = create_engine(sqlite_url.replace(".db", "-other.db"))
    try:
        turn = SqlStorage(engine).nudges._db._write_turn
        assert turn is not None
        assert SqlTenancy(engine).workspaces._db._write_turn is turn  # type: ignore[attr-defined]
        assert SqlConversationRepository(engine)._db._write_turn is turn
        assert SqlStorage(other).nudges._db._write_turn is not turn
    finally:
        await engine.dispose()
        await other.dispose()


async def test_a_batch_on_the_driver_is_all_or_nothing_and_the_line_moves_on(
    db_engine: AsyncEngine,
) -> None:
    # `write_many_on_driver` runs outside SQLAlchemy: a row that fails takes the whole batch
    # back, and the connection and the SQLite write queue are free for the next writer.
    storage = SqlStorage(db_engine, clock=frozen)
    db = storage.nudges._db  # type: ignore[attr-defined]
    first, second = ChannelKey("slack", "T1", "C1"), ChannelKey("slack", "T1", "C2")
    ids = [
        (await storage.nudges.create_adhoc(channel=key, exercise_key="a")).id
        for key in (first, second)
    ]
    sql = (
        "UPDATE nudges SET status = $2 WHERE id = $1"
        if db.dialect == "postgresql"
        else "UPDATE nudges SET status = ? WHERE id = ?"
    )
    rows = [(ids[0], "posted"), (ids[1], "not a status")]  # the CHECK refuses the second
    with pytest.raises(Exception):  # noqa: B017 (each driver raises its own error class)
        await db.write_many_on_driver(
            sql, rows if db.dialect == "postgresql" else [(s, i) for i, s in rows]
        )
    async with db.read() as session:
        statuses = set(await session.scalars(select(NudgeRow.status).where(NudgeRow.id.in_(ids))))
    assert statuses == {"claimed"}
    await storage.nudges.mark_posted_many([PostedNudge(ids[0], "1.1", frozen())])
    nudge = await storage.nudges.find_by_message(channel=first, message_id="1.1")
    assert nudge is not None and nudge.posted_at == frozen()
