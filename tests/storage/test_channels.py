"""The storage contract for `SqlChannelRepository`: schedules, due channels, board cursors.

Each test runs once per backend through the `storage` fixture ("sqlite" always, "postgres" when
TEST_POSTGRES_URL is set), each on a fresh, migrated database.
"""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

from sqlalchemy import select

from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec
from storage.models import ChannelRow
from storage.sql import SqlStorage
from tests.storage.contract import KEY, OTHER, SPEC, T0, row_count, schedule


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
