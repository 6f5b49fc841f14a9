"""The storage contract for `SqlNudgeRepository`: claims and skips one at a time, posted ids.

Each test runs once per backend through the `storage` fixture ("sqlite" always, "postgres" when
TEST_POSTGRES_URL is set), each on a fresh, migrated database.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from bot.ports import ChannelKey, ChannelState, NudgeStatus
from storage.models import NudgeRow
from storage.sql import SqlStorage
from tests.storage.contract import (
    KEY,
    OTHER,
    SLOT,
    SPEC,
    T0,
    claim_move,
    row_count,
    schedule,
    skip_move,
)


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
