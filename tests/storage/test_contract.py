"""The storage contract: every repository behaviour the services rely on, on every backend.

Each test runs once per backend through the `storage` fixture ("sqlite" always, "postgres" when
TEST_POSTGRES_URL is set), each on a fresh, migrated database.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, delete, event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import (
    BreakChange,
    ChannelKey,
    ChannelState,
    MarkChange,
    MarkOutcome,
    NudgeStatus,
    SlotMove,
)
from bot.schedules import ScheduleSpec
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

KEY = ChannelKey(platform="slack", team_id="T1", channel_id="C1")
OTHER = ChannelKey(platform="slack", team_id="T1", channel_id="C2")
T0 = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)  # a Monday
SLOT = timedelta(minutes=45)
SPEC = ScheduleSpec(
    interval=timedelta(minutes=45),
    tz="Europe/Berlin",
    window_start=time(9, 0),
    window_end=time(17, 0),
    weekdays=frozenset({0, 1, 2, 3, 4}),
)


async def schedule(
    storage: SqlStorage, key: ChannelKey = KEY, *, next_slot_at: datetime | None = T0
) -> ChannelState:
    """Save an enabled, scheduled channel whose next slot is `next_slot_at`."""
    state = ChannelState(key=key, spec=SPEC, enabled=True, next_slot_at=next_slot_at)
    await storage.channels.save(state)
    return state


async def posted_nudge(storage: SqlStorage, key: ChannelKey = KEY, *, message_id: str) -> int:
    nudge = await storage.nudges.create_adhoc(channel=key, exercise_key="heel-lifts")
    await storage.nudges.mark_posted(nudge.id, message_id=message_id, posted_at=T0)
    return nudge.id


def claim_move(
    key: ChannelKey = KEY,
    exercise: str = "a",
    *,
    slot_at: datetime = T0,
    next_slot_at: datetime | None = T0 + SLOT,
) -> SlotMove:
    """The scheduler's move that claims `slot_at` (where the cursor should be) for a nudge."""
    return SlotMove(
        channel=key,
        expected_slot_at=slot_at,
        next_slot_at=next_slot_at,
        slot_at=slot_at,
        exercise_key=exercise,
    )


def skip_move(
    key: ChannelKey = KEY, *, expected: datetime = T0, next_slot_at: datetime | None
) -> SlotMove:
    """The scheduler's move that skips the slots from `expected` to `next_slot_at`."""
    return SlotMove(channel=key, expected_slot_at=expected, next_slot_at=next_slot_at)


CHECK = "reaction:white_check_mark"
HEAVY = "reaction:heavy_check_mark"


def add(
    message_id: str,
    person: str,
    mark: str = CHECK,
    *,
    key: ChannelKey = KEY,
    at: datetime = T0,
) -> MarkChange:
    """`person` puts `mark` on the message."""
    return MarkChange(key, message_id, person, mark, added=True, at=at)


def remove(message_id: str, person: str, mark: str = CHECK, *, key: ChannelKey = KEY) -> MarkChange:
    """`person` takes `mark` off the message."""
    return MarkChange(key, message_id, person, mark, added=False, at=T0)


def made(nudge_id: int, breaks: int, changed: bool = True) -> MarkOutcome:
    """A mark change on the nudge: whether it made (or took back) a break, and the breaks after."""
    return MarkOutcome(
        nudge_id=nudge_id, change=BreakChange(changed=changed, breaks_on_nudge=breaks)
    )


NOTHING = MarkOutcome(nudge_id=None, change=BreakChange(changed=False, breaks_on_nudge=0))


async def apply_one(storage: SqlStorage, change: MarkChange) -> MarkOutcome:
    """One mark change in a transaction of its own (one reaction event, one button press)."""
    [outcome] = await storage.breaks.apply_marks([change])
    return outcome


async def row_count(engine: AsyncEngine, model: type[Base]) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


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
    try:
        await storage.channels.due_for_nudge(now=T0, limit=100)
        await storage.channels.due_for_board(now=T0, limit=100)
        await storage.breaks.counts(channel=KEY, since=T0, until=T0 + timedelta(days=7))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
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


# ---- channels ---------------------------------------------------------------------------------


async def test_get_unknown_channel_is_none(storage: SqlStorage) -> None:
    assert await storage.channels.get(KEY) is None


async def test_save_and_get_round_trip_every_field(storage: SqlStorage) -> None:
    spec = ScheduleSpec(
        interval=timedelta(hours=1, minutes=30),
        tz="America/New_York",
        window_start=time(8, 30),
        window_end=time(18, 15),
        weekdays=frozenset({0, 2, 4}),
        holidays="US",
    )
    state = ChannelState(
        key=KEY,
        spec=spec,
        enabled=True,
        paused=True,
        paused_until=T0 + timedelta(hours=2),
        seated_only=True,
        weekly_board=False,
        next_slot_at=T0,
        next_board_at=T0 + timedelta(days=4),
        updated_by="U42",
    )
    await storage.channels.save(state)
    assert await storage.channels.get(KEY) == state


async def test_save_upserts_by_key(storage: SqlStorage) -> None:
    await schedule(storage)
    weekend = ScheduleSpec(interval=timedelta(minutes=15), tz="UTC", weekdays=frozenset({5, 6}))
    changed = ChannelState(key=KEY, spec=weekend, enabled=False, next_slot_at=None)
    await storage.channels.save(changed)
    assert await storage.channels.get(KEY) == changed
    assert await row_count(storage.engine, ChannelRow) == 1


async def test_save_without_schedule_and_with_no_weekdays(storage: SqlStorage) -> None:
    await storage.channels.save(ChannelState(key=KEY))
    assert await storage.channels.get(KEY) == ChannelState(key=KEY)
    never = ScheduleSpec(interval=timedelta(minutes=30), tz="UTC", weekdays=frozenset())
    await storage.channels.save(ChannelState(key=KEY, spec=never))
    state = await storage.channels.get(KEY)
    assert state is not None and state.spec == never


async def test_channels_are_keyed_by_platform_team_and_channel(storage: SqlStorage) -> None:
    keys = [
        KEY,
        ChannelKey(platform="slack", team_id="T2", channel_id="C1"),
        ChannelKey(platform="teams", team_id="T1", channel_id="C1"),
    ]
    for n, key in enumerate(keys):
        await storage.channels.save(ChannelState(key=key, updated_by=f"U{n}"))
    for n, key in enumerate(keys):
        state = await storage.channels.get(key)
        assert state is not None and state.updated_by == f"U{n}"


async def test_due_for_nudge(storage: SqlStorage) -> None:
    late = ChannelKey(platform="slack", team_id="T1", channel_id="late")
    early = ChannelKey(platform="slack", team_id="T1", channel_id="early")
    future = ChannelKey(platform="slack", team_id="T1", channel_id="future")
    off = ChannelKey(platform="slack", team_id="T1", channel_id="off")
    unscheduled = ChannelKey(platform="slack", team_id="T1", channel_id="unscheduled")
    await schedule(storage, late, next_slot_at=T0)
    await schedule(storage, early, next_slot_at=T0 - timedelta(minutes=5))
    await schedule(storage, future, next_slot_at=T0 + timedelta(seconds=1))
    await storage.channels.save(ChannelState(key=off, spec=SPEC, enabled=False, next_slot_at=T0))
    await schedule(storage, unscheduled, next_slot_at=None)

    due = await storage.channels.due_for_nudge(now=T0, limit=10)
    assert [state.key for state in due] == [early, late]  # `<=` now, oldest first
    assert due[0].spec == SPEC
    assert [s.key for s in await storage.channels.due_for_nudge(now=T0, limit=1)] == [early]


async def test_due_for_board(storage: SqlStorage) -> None:
    first = ChannelKey(platform="slack", team_id="T1", channel_id="first")
    second = ChannelKey(platform="slack", team_id="T1", channel_id="second")
    await storage.channels.save(ChannelState(key=second, next_board_at=T0))
    await storage.channels.save(ChannelState(key=first, next_board_at=T0 - timedelta(days=1)))
    await storage.channels.save(ChannelState(key=OTHER, next_board_at=T0 + timedelta(minutes=1)))
    await storage.channels.save(ChannelState(key=KEY, next_board_at=None))

    due = await storage.channels.due_for_board(now=T0, limit=10)
    assert [state.key for state in due] == [first, second]
    assert [s.key for s in await storage.channels.due_for_board(now=T0, limit=1)] == [first]


async def test_set_next_board_is_compare_and_set(storage: SqlStorage) -> None:
    await storage.channels.save(ChannelState(key=KEY, next_board_at=T0))
    next_week = T0 + timedelta(days=7)
    assert await storage.channels.set_next_board(KEY, expected=T0, next_board_at=next_week)
    # A second worker that read the old value loses.
    assert not await storage.channels.set_next_board(KEY, expected=T0, next_board_at=next_week)
    state = await storage.channels.get(KEY)
    assert state is not None and state.next_board_at == next_week
    assert await storage.channels.set_next_board(KEY, expected=next_week, next_board_at=None)
    state = await storage.channels.get(KEY)
    assert state is not None and state.next_board_at is None
    assert not await storage.channels.set_next_board(OTHER, expected=T0, next_board_at=next_week)


async def test_set_next_board_race_has_one_winner(storage: SqlStorage) -> None:
    await storage.channels.save(ChannelState(key=KEY, next_board_at=T0))
    results = await asyncio.gather(
        *(
            storage.channels.set_next_board(
                KEY, expected=T0, next_board_at=T0 + timedelta(days=7, minutes=n)
            )
            for n in range(10)
        )
    )
    assert results.count(True) == 1


async def test_disable_turns_schedule_and_board_off_and_keeps_the_spec(
    storage: SqlStorage,
) -> None:
    await storage.channels.save(
        ChannelState(key=KEY, spec=SPEC, enabled=True, next_slot_at=T0, next_board_at=T0)
    )
    await storage.channels.disable(KEY, reason="channel_gone: is_archived")
    state = await storage.channels.get(KEY)
    assert state == ChannelState(key=KEY, spec=SPEC, enabled=False)
    assert await storage.channels.due_for_nudge(now=T0, limit=10) == []
    assert await storage.channels.due_for_board(now=T0, limit=10) == []

    async def reason() -> str | None:
        async with storage.engine.connect() as conn:
            return (await conn.execute(select(ChannelRow.disabled_reason))).scalar_one()

    assert await reason() == "channel_gone: is_archived"
    await storage.channels.save(ChannelState(key=KEY, spec=SPEC, enabled=False, paused=True))
    assert await reason() == "channel_gone: is_archived"  # still off: the reason stands
    await schedule(storage)
    assert await reason() is None  # re-enabled: the old reason no longer applies

    await storage.channels.disable(OTHER, reason="unknown channel")  # no-op, no error
    assert await storage.channels.get(OTHER) is None


# ---- nudges -----------------------------------------------------------------------------------


async def test_a_claim_claims_once_and_advances_the_channel(storage: SqlStorage) -> None:
    await schedule(storage)
    won = await storage.nudges.move_slots([claim_move(exercise="butt-clenches")])
    nudge = won[KEY]
    assert nudge is not None
    assert (nudge.channel, nudge.slot_at, nudge.exercise_key, nudge.status) == (
        KEY,
        T0,
        "butt-clenches",
        NudgeStatus.CLAIMED,
    )
    assert nudge.message_id is None and nudge.posted_at is None
    state = await storage.channels.get(KEY)
    assert state is not None and state.next_slot_at == T0 + SLOT

    # A worker that read next_slot_at == T0 before the claim loses the compare-and-set.
    assert await storage.nudges.move_slots([claim_move(exercise="heel-lifts")]) == {}
    assert await storage.nudges.recent_exercise_keys(channel=KEY, limit=10) == ["butt-clenches"]


async def test_a_claim_refuses_an_already_posted_slot_and_rolls_back(
    storage: SqlStorage,
) -> None:
    await schedule(storage)
    assert (await storage.nudges.move_slots([claim_move(exercise="a")]))[KEY] is not None
    # The schedule is edited so that next_slot_at points at the slot already posted: the CAS
    # passes, the unique (channel, slot) refuses, and the CAS is rolled back with it.
    await schedule(storage, next_slot_at=T0)
    lost = await storage.nudges.move_slots([claim_move(exercise="b", next_slot_at=T0 + 2 * SLOT)])
    assert lost == {}
    state = await storage.channels.get(KEY)
    assert state is not None and state.next_slot_at == T0
    assert await row_count(storage.engine, NudgeRow) == 1


async def test_a_claim_needs_an_enabled_known_channel(storage: SqlStorage) -> None:
    assert await storage.nudges.move_slots([claim_move(OTHER)]) == {}
    await storage.channels.save(ChannelState(key=KEY, spec=SPEC, enabled=False, next_slot_at=T0))
    assert await storage.nudges.move_slots([claim_move(KEY)]) == {}
    assert await row_count(storage.engine, NudgeRow) == 0


async def test_a_claim_of_the_last_slot_turns_the_cursor_off(storage: SqlStorage) -> None:
    await schedule(storage)
    assert (await storage.nudges.move_slots([claim_move(next_slot_at=None)]))[KEY] is not None
    state = await storage.channels.get(KEY)
    assert state is not None and state.enabled and state.next_slot_at is None


@pytest.mark.parametrize("round_", range(3))
async def test_concurrent_claims_of_one_slot_have_exactly_one_winner(
    storage: SqlStorage, round_: int
) -> None:
    await schedule(storage)
    results = await asyncio.gather(
        *(storage.nudges.move_slots([claim_move(exercise=f"exercise-{n}")]) for n in range(10))
    )
    winners = [won[KEY] for won in results if KEY in won]
    assert len(winners) == 1 and winners[0] is not None
    assert await row_count(storage.engine, NudgeRow) == 1
    state = await storage.channels.get(KEY)
    assert state is not None and state.next_slot_at == T0 + SLOT


async def test_concurrent_claims_across_channels_all_win(storage: SqlStorage) -> None:
    keys = [ChannelKey(platform="slack", team_id="T1", channel_id=f"C{n}") for n in range(10)]
    for key in keys:
        await schedule(storage, key)
    results = await asyncio.gather(*(storage.nudges.move_slots([claim_move(key)]) for key in keys))
    nudges = [won.get(key) for key, won in zip(keys, results, strict=True)]
    assert all(nudge is not None for nudge in nudges)
    assert len({nudge.id for nudge in nudges if nudge is not None}) == 10


async def test_a_skip_is_compare_and_set(storage: SqlStorage) -> None:
    await schedule(storage)
    later = T0 + 3 * SLOT
    move = storage.nudges.move_slots
    assert await move([skip_move(next_slot_at=later)]) == {KEY: None}
    assert await move([skip_move(next_slot_at=T0)]) == {}
    state = await storage.channels.get(KEY)
    assert state is not None and state.next_slot_at == later
    assert await row_count(storage.engine, NudgeRow) == 0
    assert await move([skip_move(expected=later, next_slot_at=None)]) == {KEY: None}
    assert await move([skip_move(OTHER, next_slot_at=later)]) == {}


async def test_concurrent_skips_have_one_winner(storage: SqlStorage) -> None:
    await schedule(storage)
    results = await asyncio.gather(
        *(storage.nudges.move_slots([skip_move(next_slot_at=T0 + n * SLOT)]) for n in range(1, 11))
    )
    assert [KEY in won for won in results].count(True) == 1


async def test_adhoc_nudges_do_not_collide_and_create_the_channel(storage: SqlStorage) -> None:
    first = await storage.nudges.create_adhoc(channel=KEY, exercise_key="heel-lifts")
    second = await storage.nudges.create_adhoc(channel=KEY, exercise_key="toe-lifts")
    assert first.id != second.id
    assert (first.slot_at, first.status, first.channel) == (None, NudgeStatus.CLAIMED, KEY)
    assert await storage.channels.get(KEY) == ChannelState(key=KEY)  # new, unscheduled
    assert await storage.nudges.recent_exercise_keys(channel=KEY, limit=5) == [
        "toe-lifts",
        "heel-lifts",
    ]


async def test_mark_posted_and_find_by_message(storage: SqlStorage) -> None:
    await schedule(storage)
    nudge = (await storage.nudges.move_slots([claim_move()]))[KEY]
    assert nudge is not None
    posted_at = T0 + timedelta(seconds=2)
    await storage.nudges.mark_posted(nudge.id, message_id="1700000000.000100", posted_at=posted_at)

    found = await storage.nudges.find_by_message(channel=KEY, message_id="1700000000.000100")
    assert found is not None
    assert (found.id, found.status, found.message_id, found.posted_at, found.slot_at) == (
        nudge.id,
        NudgeStatus.POSTED,
        "1700000000.000100",
        posted_at,
        T0,
    )
    assert found.posted_at is not None and found.posted_at.tzinfo is UTC
    # Message ids are only unique within a channel; anything else is not a nudge.
    assert (
        await storage.nudges.find_by_message(channel=OTHER, message_id="1700000000.000100") is None
    )
    assert await storage.nudges.find_by_message(channel=KEY, message_id="nope") is None


async def test_mark_failed_and_recent_exercise_keys(storage: SqlStorage) -> None:
    ids = []
    for key in ["a", "b", "c", "d"]:
        ids.append((await storage.nudges.create_adhoc(channel=KEY, exercise_key=key)).id)
    await storage.nudges.create_adhoc(channel=OTHER, exercise_key="other")
    await storage.nudges.mark_posted(ids[0], message_id="m1", posted_at=T0)
    await storage.nudges.mark_failed(ids[2], reason="not_in_channel")

    assert await storage.nudges.recent_exercise_keys(channel=KEY, limit=10) == ["d", "b", "a"]
    assert await storage.nudges.recent_exercise_keys(channel=KEY, limit=2) == ["d", "b"]
    assert await storage.nudges.recent_exercise_keys(channel=OTHER, limit=2) == ["other"]
    unknown = ChannelKey(platform="teams", team_id="x", channel_id="y")
    assert await storage.nudges.recent_exercise_keys(channel=unknown, limit=3) == []
    async with storage.engine.connect() as conn:
        row = (await conn.execute(select(NudgeRow).where(NudgeRow.id == ids[2]))).one()
    assert (row.status, row.error) == ("failed", "not_in_channel")


# ---- breaks -----------------------------------------------------------------------------------


async def test_first_mark_makes_the_break_and_repeats_change_nothing(storage: SqlStorage) -> None:
    nudge_id = await posted_nudge(storage, message_id="m1")
    at = T0 + timedelta(minutes=1)
    assert await apply_one(storage, add("m1", "U1", CHECK, at=at)) == made(nudge_id, 1)
    # The same mark again (Slack retry), and a second mark by the same person.
    assert await apply_one(storage, add("m1", "U1", CHECK, at=at + SLOT)) == made(
        nudge_id, 1, changed=False
    )
    assert await apply_one(storage, add("m1", "U1", "button", at=at + SLOT)) == made(
        nudge_id, 1, changed=False
    )
    assert await apply_one(storage, add("m1", "U2", "button", at=at)) == made(nudge_id, 2)
    # The break is logged when the first mark arrived.
    assert await storage.breaks.break_times(channel=KEY, since=T0, person_ids=["U1"]) == [
        ("U1", at)
    ]


async def test_removing_the_last_mark_takes_the_break_back(storage: SqlStorage) -> None:
    nudge_id = await posted_nudge(storage, message_id="m1")
    await storage.breaks.apply_marks(
        [add("m1", "U1", CHECK), add("m1", "U1", HEAVY), add("m1", "U2", "button")]
    )

    assert await apply_one(storage, remove("m1", "U1", CHECK)) == made(nudge_id, 2, changed=False)
    assert await apply_one(storage, remove("m1", "U1", CHECK)) == made(nudge_id, 2, changed=False)
    assert await apply_one(storage, remove("m1", "U1", HEAVY)) == made(nudge_id, 1)
    assert await apply_one(storage, remove("m1", "U3", "button")) == made(
        nudge_id, 1, changed=False
    )
    assert await storage.breaks.counts(channel=KEY, since=None) == {"U2": 1}
    # Marking again after an undo makes a new break, logged at the new time.
    later = T0 + timedelta(hours=1)
    assert await apply_one(storage, add("m1", "U1", "button", at=later)) == made(nudge_id, 2)
    assert await storage.breaks.break_times(channel=KEY, since=T0, person_ids=["U1"]) == [
        ("U1", later)
    ]


async def test_marks_on_a_message_that_is_no_nudge_change_nothing(storage: SqlStorage) -> None:
    assert await apply_one(storage, add("999", "U1", "button")) == NOTHING
    assert await apply_one(storage, remove("999", "U1", "button")) == NOTHING
    assert await row_count(storage.engine, BreakMarkRow) == 0


@pytest.mark.parametrize("round_", range(3))
async def test_concurrent_duplicate_marks_make_one_break(storage: SqlStorage, round_: int) -> None:
    await posted_nudge(storage, message_id="m1")
    results = await asyncio.gather(*(apply_one(storage, add("m1", "U1", CHECK)) for _ in range(10)))
    assert [outcome.change.changed for outcome in results].count(True) == 1
    assert all(outcome.change.breaks_on_nudge == 1 for outcome in results)
    assert await row_count(storage.engine, BreakRow) == 1
    assert await row_count(storage.engine, BreakMarkRow) == 1


async def test_concurrent_button_and_reaction_make_one_break(storage: SqlStorage) -> None:
    await posted_nudge(storage, message_id="m1")
    marks = ["button", CHECK, HEAVY] * 3
    results = await asyncio.gather(*(apply_one(storage, add("m1", "U1", mark)) for mark in marks))
    assert [outcome.change.changed for outcome in results].count(True) == 1
    assert await row_count(storage.engine, BreakMarkRow) == 3
    assert await storage.breaks.counts(channel=KEY, since=None) == {"U1": 1}


async def test_racing_add_and_remove_keep_break_and_marks_consistent(
    storage: SqlStorage,
) -> None:
    """A break exists exactly while its person has a mark, however add and remove interleave."""
    await posted_nudge(storage, message_id="m1")
    reaction, button = CHECK, "button"
    for round_ in range(10):
        await apply_one(storage, add("m1", "U1", reaction))
        await asyncio.gather(
            apply_one(storage, add("m1", "U1", button)),
            apply_one(storage, remove("m1", "U1", reaction)),
        )
        assert await row_count(storage.engine, BreakRow) == 1, round_
        await asyncio.gather(
            apply_one(storage, remove("m1", "U1", button)),
            apply_one(storage, add("m1", "U1", reaction)),
        )
        assert await row_count(storage.engine, BreakRow) == 1, round_
        await apply_one(storage, remove("m1", "U1", reaction))
        assert await row_count(storage.engine, BreakRow) == 0, round_
        assert await row_count(storage.engine, BreakMarkRow) == 0, round_


async def test_counts_per_person_within_bounds(storage: SqlStorage) -> None:
    for n in range(3):
        await posted_nudge(storage, message_id=f"m{n}")
    await posted_nudge(storage, OTHER, message_id="m0")
    logged = [T0 - timedelta(days=1), T0, T0 + timedelta(days=7)]
    await storage.breaks.apply_marks(
        [add(f"m{n}", "U1", "button", at=at) for n, at in enumerate(logged)]
        + [add("m1", "U2", "button"), add("m0", "U1", "button", key=OTHER)]
    )

    counts = storage.breaks.counts
    assert await counts(channel=KEY, since=None) == {"U1": 3, "U2": 1}
    assert await counts(channel=KEY, since=T0) == {"U1": 2, "U2": 1}  # since is inclusive
    week_end = T0 + timedelta(days=7)
    assert await counts(channel=KEY, since=T0, until=week_end) == {"U1": 1, "U2": 1}  # until: not
    assert await counts(channel=KEY, since=None, until=T0) == {"U1": 1}
    assert await counts(channel=OTHER, since=None) == {"U1": 1}
    unknown = ChannelKey(platform="teams", team_id="x", channel_id="y")
    assert await counts(channel=unknown, since=None) == {}


async def test_break_times_for_streaks(storage: SqlStorage) -> None:
    for n in range(3):
        await posted_nudge(storage, message_id=f"m{n}")
    await posted_nudge(storage, OTHER, message_id="m0")
    times = [T0 + timedelta(days=2), T0 - timedelta(days=1), T0]
    await storage.breaks.apply_marks(
        [add(f"m{n}", "U1", "button", at=at) for n, at in enumerate(times)]
        + [add("m0", "U2", "button"), add("m0", "U1", "button", key=OTHER)]
    )

    result = await storage.breaks.break_times(channel=KEY, since=T0)
    assert [at for _, at in result] == [T0, T0, T0 + timedelta(days=2)]  # oldest first
    assert sorted(result) == [("U1", T0), ("U1", T0 + timedelta(days=2)), ("U2", T0)]
    assert all(at.tzinfo is UTC for _, at in result)
    assert await storage.breaks.break_times(channel=KEY, since=T0, person_ids=["U2"]) == [
        ("U2", T0)
    ]
    assert await storage.breaks.break_times(channel=KEY, since=T0, person_ids=[]) == []
    assert len(await storage.breaks.break_times(channel=KEY, since=T0 - timedelta(days=9))) == 4


# ---- boards -----------------------------------------------------------------------------------


async def test_claim_board_once_per_channel_and_period(storage: SqlStorage) -> None:
    await schedule(storage)
    assert await storage.boards.claim_board(channel=KEY, period_key="2026-W48")
    assert not await storage.boards.claim_board(channel=KEY, period_key="2026-W48")
    assert await storage.boards.claim_board(channel=KEY, period_key="2026-W49")
    assert await storage.boards.claim_board(channel=OTHER, period_key="2026-W48")


async def test_concurrent_board_claims_have_one_winner(storage: SqlStorage) -> None:
    await schedule(storage)
    results = await asyncio.gather(
        *(storage.boards.claim_board(channel=KEY, period_key="2026-W48") for _ in range(10))
    )
    assert results.count(True) == 1


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
