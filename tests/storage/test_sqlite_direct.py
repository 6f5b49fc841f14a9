"""SQLite's hot reads straight on `sqlite3` (storage.sqlite_direct) give exactly what
SQLAlchemy's execute gives: the same rows, values and types (aware UTC datetimes, booleans,
schedules), for every read `/stretch status`, `stats` and the boards make."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, select

from bot.ports import ChannelState, MarkChange
from storage import db as storage_db
from storage.break_reads import _BREAK_TIMES, _BREAK_TIMES_OF, _COUNTS_BY_PERSON, _PERSON_COUNTS
from storage.engine import create_engine, run_migrations
from storage.models import BreakRow
from storage.slot_outcomes import _OUTCOMES
from storage.sql import SqlStorage, SqlTenancy
from storage.sqlite_direct import direct_statement
from storage.workspaces import _WORKSPACE_AND_CHANNEL
from tests.storage.contract import KEY, SPEC, T0, claim_move

Read = Callable[[], Awaitable[Any]]


async def seeded(storage: SqlStorage, tenancy: SqlTenancy) -> None:
    """A workspace and a paused, scheduled channel; three posted slots, two with breaks."""
    await tenancy.workspaces.ensure(platform="slack", team_id=KEY.team_id, enterprise_id="E1")
    await tenancy.workspaces.set_admins_only(platform="slack", team_id=KEY.team_id, enabled=True)
    state = ChannelState(
        key=KEY,
        spec=SPEC,
        enabled=True,
        paused=True,
        paused_until=T0 + timedelta(days=9, microseconds=7),
        next_slot_at=T0,
        seated_only=True,
    )
    await storage.channels.save(replace(state, team_goal=70, streak_freezes=2))
    for n in range(3):
        slot = T0 + n * SPEC.interval
        won = await storage.nudges.move_slots(
            [claim_move(slot_at=slot, next_slot_at=slot + SPEC.interval)]
        )
        nudge = won[KEY]
        assert nudge is not None
        await storage.nudges.mark_posted(nudge.id, message_id=f"1.{n}", posted_at=slot)
        if n < 2:
            await storage.breaks.apply_marks(
                [
                    MarkChange(KEY, f"1.{n}", person, "reaction:white_check_mark", True, slot)
                    for person in ("U1", "U2")[: n + 1]
                ]
            )


async def test_every_hot_read_compiles_for_the_driver(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    dialect = engine.sync_engine.dialect
    for statement in (
        _WORKSPACE_AND_CHANNEL,
        _OUTCOMES,
        _BREAK_TIMES,
        _COUNTS_BY_PERSON,
        _PERSON_COUNTS,
    ):
        assert direct_statement(statement, dialect) is not None, statement
    # An expanding IN list is rendered at execution: left to SQLAlchemy.
    assert direct_statement(_BREAK_TIMES_OF, dialect) is None
    assert direct_statement(select(BreakRow.id).where(BreakRow.id.in_([1, 2])), dialect) is None
    await engine.dispose()


async def test_direct_reads_equal_sqlalchemys(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(sqlite_url)
    try:
        await run_migrations(engine)
        storage, tenancy = SqlStorage(engine), SqlTenancy(engine)
        await seeded(storage, tenancy)
        since = T0 - timedelta(days=1)
        until = T0 + timedelta(days=1)
        reads: dict[str, Read] = {
            "workspace and channel": lambda: tenancy.workspaces.get_with_channel(KEY),
            "another channel": lambda: tenancy.workspaces.get_with_channel(
                replace(KEY, channel_id="C0THER")
            ),
            "outcomes": lambda: storage.slot_outcomes.slot_outcomes(
                channel=KEY, since=since, until=until
            ),
            "times": lambda: storage.breaks.break_times(channel=KEY, since=since),
            "counts": lambda: storage.breaks.counts(channel=KEY, since=since),
            "counts in all": lambda: storage.breaks.counts(channel=KEY, since=None),
            "person": lambda: storage.breaks.person_counts(
                channel=KEY, person_id="U1", since=(T0, since)
            ),
        }
        direct = {name: await read() for name, read in reads.items()}
        monkeypatch.setattr(storage_db, "direct_statement", lambda *_args: None)
        through_sqlalchemy = {name: await read() for name, read in reads.items()}
        assert direct == through_sqlalchemy
        # Not vacuous: the seeded rows came back, with aware UTC instants.
        found = direct["workspace and channel"]
        assert found is not None and found[1] is not None
        assert found[0].admins_only and found[0].enterprise_id == "E1"
        assert found[1].seated_only and found[1].team_goal == 70
        assert found[1].paused_until == T0 + timedelta(days=9, microseconds=7)
        assert direct["outcomes"] == [
            (T0, True),
            (T0 + SPEC.interval, True),
            (T0 + 2 * SPEC.interval, False),
        ]
        assert all(at.tzinfo is UTC for _person, at in direct["times"])
        assert direct["counts"] == {"U1": 2, "U2": 1}
    finally:
        await engine.dispose()


async def test_a_parameter_bound_in_the_statement_is_sent(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        await run_migrations(engine)
        storage, tenancy = SqlStorage(engine), SqlTenancy(engine)
        await seeded(storage, tenancy)
        reader = storage_reader(engine)
        # "U2" is bound in the statement itself; "since" is given (text, compared as stored).
        query = select(BreakRow.person_id).where(
            BreakRow.person_id == "U2", BreakRow.person_id >= bindparam("since")
        )
        assert direct_statement(query, engine.sync_engine.dialect) is not None
        assert reader.all(query, {"since": "U"}) == [("U2",)]
        assert reader.all(query, {"since": "V"}) == []
    finally:
        await engine.dispose()


def storage_reader(engine: Any) -> storage_db.InlineReader:
    reader = storage_db.inline_reader(engine)
    assert reader is not None
    return reader
