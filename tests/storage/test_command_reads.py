"""The one-read lookup behind `/stretch status` (workspace and channel together), on every
backend, and SQLite's inline reader under it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import bindparam, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec
from storage.db import Database, InlineReader, inline_reader
from storage.engine import create_engine, run_migrations
from storage.models import WorkspaceRow
from storage.sql import SqlStorage, SqlTenancy

KEY = ChannelKey(platform="slack", team_id="T1", channel_id="C1")
SPEC = ScheduleSpec(
    interval=timedelta(minutes=45),
    tz="Europe/Berlin",
    window_start=time(9, 0),
    window_end=time(17, 0),
)
T0 = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)


@pytest.fixture
def tenancy(db_engine: AsyncEngine) -> SqlTenancy:
    return SqlTenancy(db_engine)


async def test_unknown_workspace_reads_as_none(storage: SqlStorage, tenancy: SqlTenancy) -> None:
    await storage.channels.save(ChannelState(key=KEY, spec=SPEC, enabled=True))
    assert await tenancy.workspaces.get_with_channel(KEY) is None


async def test_workspace_and_channel_in_one_read(storage: SqlStorage, tenancy: SqlTenancy) -> None:
    await tenancy.workspaces.ensure(platform="slack", team_id="T1", enterprise_id="E1")
    found = await tenancy.workspaces.get_with_channel(KEY)
    assert found is not None
    workspace, state = found
    assert workspace == await tenancy.workspaces.get(platform="slack", team_id="T1")
    assert state is None  # a known workspace, a channel never stored

    saved = ChannelState(
        key=KEY, spec=SPEC, enabled=True, paused=True, paused_until=T0, next_slot_at=T0
    )
    await storage.channels.save(saved)
    await tenancy.workspaces.set_admins_only(platform="slack", team_id="T1", enabled=True)
    found = await tenancy.workspaces.get_with_channel(KEY)
    assert found is not None
    workspace, state = found
    assert workspace.admins_only and workspace.installed and workspace.enterprise_id == "E1"
    assert state == await storage.channels.get(KEY)
    assert state is not None and state.spec == SPEC and state.paused_until == T0


async def test_other_workspaces_channels_are_never_read(
    storage: SqlStorage, tenancy: SqlTenancy
) -> None:
    """Same channel id in another workspace (or platform): not this workspace's channel."""
    for team in ("T1", "T2"):
        await tenancy.workspaces.ensure(platform="slack", team_id=team)
    await storage.channels.save(ChannelState(key=replace(KEY, team_id="T2"), spec=SPEC))
    await storage.channels.save(ChannelState(key=replace(KEY, platform="teams"), spec=SPEC))
    found = await tenancy.workspaces.get_with_channel(KEY)
    assert found is not None and found[1] is None


async def test_changes_show_at_once(storage: SqlStorage, tenancy: SqlTenancy) -> None:
    """Every read sees the last commit (SQLite's inline reader keeps its connection between
    reads, never a snapshot)."""
    await tenancy.workspaces.ensure(platform="slack", team_id="T1")
    state = ChannelState(key=KEY, spec=SPEC, enabled=True)
    for minutes in (45, 60, 90):
        state = replace(state, spec=replace(SPEC, interval=timedelta(minutes=minutes)))
        await storage.channels.save(state)
        found = await tenancy.workspaces.get_with_channel(KEY)
        assert found is not None and found[1] == state
    await tenancy.workspaces.mark_uninstalled(platform="slack", team_id="T1", at=T0)
    found = await tenancy.workspaces.get_with_channel(KEY)
    assert found is not None
    workspace, stopped = found
    assert not workspace.installed and workspace.uninstalled_at == T0
    assert stopped is not None and not stopped.enabled


async def test_sqlite_reads_inline_and_falls_back_when_busy(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(sqlite_url)
    try:
        await run_migrations(engine)
        reader = inline_reader(engine)
        assert isinstance(reader, InlineReader) and inline_reader(engine) is reader
        tenancy = SqlTenancy(engine)
        await tenancy.workspaces.ensure(platform="slack", team_id="T1")
        query = select(WorkspaceRow.team_id)
        assert reader.first(query, {}) == ("T1",)

        def busy(*_args: object) -> None:
            raise OperationalError("SELECT", {}, Exception("database is locked"))

        monkeypatch.setattr(reader, "first", busy)
        found = await tenancy.workspaces.get_with_channel(KEY)  # the async way instead
        assert found is not None and found[0].team_id == "T1"
    finally:
        await engine.dispose()


async def test_no_inline_reader_on_postgres(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        assert inline_reader(engine) is None
    finally:
        await engine.dispose()


async def test_postgres_driver_reads_give_their_connections_back(postgres_url: str) -> None:
    """The hot reads check a connection out of the pool without SQLAlchemy's `Connection`
    around it; each goes back, also when its statement fails."""
    engine = create_engine(postgres_url)
    try:
        await run_migrations(engine)
        storage, tenancy = SqlStorage(engine), SqlTenancy(engine)
        await tenancy.workspaces.ensure(platform="slack", team_id="T1")
        await storage.channels.save(ChannelState(key=KEY, spec=SPEC, enabled=True))
        pool = engine.sync_engine.pool
        for _ in range(30):
            found = await tenancy.workspaces.get_with_channel(KEY)
            assert found is not None and found[1] is not None
            assert await storage.breaks.break_times(channel=KEY, since=T0) == []
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        db = Database.shared(engine)
        by_team = select(WorkspaceRow.team_id).where(WorkspaceRow.team_id == bindparam("team"))
        with pytest.raises(Exception, match="syntax"):
            async with db._asyncpg() as raw:
                await raw.fetchrow("SELEC 1")
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        assert await db.first(by_team, {"team": "T1"}) == ("T1",)
    finally:
        await engine.dispose()


async def test_sqlite_reads_a_channels_rows_inline_and_falls_back_when_busy(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The team reads of `/stretch status` and `stats` (slot outcomes, break times, counts)
    never go through aiosqlite unless the file is busy, and give the same rows either way."""
    engine = create_engine(sqlite_url)
    try:
        await run_migrations(engine)
        storage = SqlStorage(engine)
        await storage.channels.save(ChannelState(key=KEY, spec=SPEC, enabled=True))
        since = T0 - timedelta(days=400)
        reads = {
            "outcomes": lambda: storage.slot_outcomes.slot_outcomes(
                channel=KEY, since=since, until=T0
            ),
            "times": lambda: storage.breaks.break_times(channel=KEY, since=since),
            "times of": lambda: storage.breaks.break_times(
                channel=KEY, since=since, person_ids=["U1"]
            ),
            "counts": lambda: storage.breaks.counts(channel=KEY, since=since),
        }
        through_aiosqlite: list[str] = []
        event.listen(
            engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_rest: through_aiosqlite.append(statement),
        )
        inline = {name: await read() for name, read in reads.items()}
        assert through_aiosqlite == []

        reader = inline_reader(engine)
        assert reader is not None

        def busy(*_args: object) -> None:
            raise OperationalError("SELECT", {}, Exception("database is locked"))

        monkeypatch.setattr(reader, "all", busy)
        assert {name: await read() for name, read in reads.items()} == inline
        assert len(through_aiosqlite) >= len(reads)
    finally:
        await engine.dispose()
