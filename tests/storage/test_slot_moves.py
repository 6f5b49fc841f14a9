"""The storage contract for the scheduler's batch writes: `move_slots`, `release_claims`,
`mark_posted_many` and the picks kept on the channel row. SQLite and Postgres, like the rest of
the contract suite."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.ports import ChannelKey, ChannelState, NudgeStatus, PostedNudge, SlotMove
from storage.models import ChannelRow, NudgeRow
from storage.sql import SqlStorage
from tests.storage.contract import KEY, OTHER, SLOT, SPEC, T0, row_count, schedule


def keys(n: int, team: str = "T1") -> list[ChannelKey]:
    return [ChannelKey("slack", team, f"C{i:04d}") for i in range(n)]


def claim(key: ChannelKey, exercise: str = "heel-lifts", *, expected: datetime = T0) -> SlotMove:
    return SlotMove(
        channel=key,
        expected_slot_at=expected,
        next_slot_at=expected + SLOT,
        slot_at=expected,
        exercise_key=exercise,
        recent_exercises=(exercise, "toe-taps", "squats"),
    )


async def cursor(storage: SqlStorage, key: ChannelKey) -> ChannelState:
    state = await storage.channels.get(key)
    assert state is not None
    return state


async def test_a_batch_claims_and_skips_in_one_go(storage: SqlStorage) -> None:
    a, b, c = keys(3)
    for key in (a, b, c):
        await schedule(storage, key)
    skip = SlotMove(channel=c, expected_slot_at=T0, next_slot_at=T0 + 2 * SLOT)
    won = await storage.nudges.move_slots([claim(a, "heel-lifts"), claim(b, "squats"), skip])

    assert set(won) == {a, b, c}
    assert won[c] is None  # a skip: moved, nothing to post
    nudge_a, nudge_b = won[a], won[b]
    assert nudge_a is not None and nudge_b is not None
    assert (nudge_a.channel, nudge_a.slot_at, nudge_a.exercise_key, nudge_a.status) == (
        a,
        T0,
        "heel-lifts",
        NudgeStatus.CLAIMED,
    )
    assert nudge_b.exercise_key == "squats" and nudge_a.id != nudge_b.id
    assert (await cursor(storage, a)).next_slot_at == T0 + SLOT
    assert (await cursor(storage, c)).next_slot_at == T0 + 2 * SLOT
    assert (await cursor(storage, a)).recent_exercises == ("heel-lifts", "toe-taps", "squats")
    assert (await cursor(storage, c)).recent_exercises is None  # a skip keeps what was there
    assert await row_count(storage.engine, NudgeRow) == 2
    # What the scheduler reads next time carries the picks.
    due = await storage.channels.due_for_nudge(now=T0 + SLOT, limit=10, platforms=["slack"])
    assert {state.key: state.recent_exercises for state in due} == {
        a: ("heel-lifts", "toe-taps", "squats"),
        b: ("squats", "toe-taps", "squats"),
    }


async def test_losers_are_left_out_and_keep_their_cursor(storage: SqlStorage) -> None:
    moved, disabled, ahead, unknown, fine = keys(5)
    for key in (moved, ahead, fine):
        await schedule(storage, key)
    await storage.channels.save(
        ChannelState(key=disabled, spec=SPEC, enabled=False, next_slot_at=T0)
    )
    skip = SlotMove(channel=moved, expected_slot_at=T0, next_slot_at=T0 + SLOT)
    assert await storage.nudges.move_slots([skip]) == {moved: None}
    await schedule(storage, ahead, next_slot_at=T0 + SLOT)

    won = await storage.nudges.move_slots(
        [claim(moved), claim(disabled), claim(ahead), claim(unknown), claim(fine)]
    )
    assert set(won) == {fine}
    assert (await cursor(storage, moved)).next_slot_at == T0 + SLOT
    assert (await cursor(storage, ahead)).next_slot_at == T0 + SLOT
    assert await row_count(storage.engine, NudgeRow) == 1


async def test_a_slot_claimed_already_leaves_that_channel_alone_only(storage: SqlStorage) -> None:
    posted, fresh = keys(2)
    for key in (posted, fresh):
        await schedule(storage, key)
    assert (await storage.nudges.move_slots([claim(posted, "a")]))[posted] is not None
    await schedule(storage, posted, next_slot_at=T0)  # edited back onto the posted slot

    won = await storage.nudges.move_slots([claim(posted, "b"), claim(fresh, "c")])
    assert set(won) == {fresh}
    assert (await cursor(storage, posted)).next_slot_at == T0
    assert (await cursor(storage, fresh)).next_slot_at == T0 + SLOT


async def test_a_batch_refuses_two_moves_for_one_channel(storage: SqlStorage) -> None:
    await schedule(storage)
    with pytest.raises(ValueError, match="two moves"):
        await storage.nudges.move_slots([claim(KEY, "a"), claim(KEY, "b")])
    with pytest.raises(ValueError, match="slot_at and exercise_key"):
        await storage.nudges.move_slots(
            [SlotMove(KEY, T0, T0 + SLOT, slot_at=None, exercise_key="a")]
        )
    assert await storage.nudges.move_slots([]) == {}
    assert await row_count(storage.engine, NudgeRow) == 0


@pytest.mark.parametrize("round_", range(3))
async def test_overlapping_batches_from_two_workers_claim_each_slot_once(
    storage: SqlStorage, round_: int
) -> None:
    """Two replicas walk the same due list in different orders; on Postgres the rows one of
    them holds are skipped by the other (no waiting, no deadlock), on SQLite writers queue."""
    channels = keys(120)
    for key in channels:
        await schedule(storage, key)
    forward = [claim(key, "a") for key in channels]
    backward = [claim(key, "b") for key in reversed(channels)]
    halves = [forward[:60], backward[:60], forward[60:], backward[60:]]
    results = await asyncio.gather(*(storage.nudges.move_slots(half) for half in halves))

    winners = [key for result in results for key in result]
    assert len(winners) == len(set(winners)), "a slot was claimed twice"
    assert await row_count(storage.engine, NudgeRow) == len(winners)
    # Whatever lost a race (or was skipped while locked) is still due and claims next time.
    left = [claim(key, "c") for key in channels if key not in set(winners)]
    assert set(await storage.nudges.move_slots(left)) == {move.channel for move in left}
    assert await row_count(storage.engine, NudgeRow) == len(channels)


async def test_posted_ids_are_written_in_one_batch(storage: SqlStorage) -> None:
    channels = keys(3)
    for key in channels:
        await schedule(storage, key)
    won = await storage.nudges.move_slots([claim(key) for key in channels])
    nudges = [won[key] for key in channels]
    assert all(nudge is not None for nudge in nudges)
    await storage.nudges.mark_posted_many(
        [
            PostedNudge(nudge.id, f"170000000{i}.0001", T0 + timedelta(seconds=i))
            for i, nudge in enumerate(nudges)
            if nudge is not None
        ]
    )
    await storage.nudges.mark_posted_many([])  # nothing to do, no error
    for i, key in enumerate(channels):
        found = await storage.nudges.find_by_message(channel=key, message_id=f"170000000{i}.0001")
        assert found is not None and found.status is NudgeStatus.POSTED
        assert found.posted_at == T0 + timedelta(seconds=i)


async def test_released_claims_are_due_again_unless_posted_or_moved_on(
    storage: SqlStorage,
) -> None:
    queued, posted, edited = keys(3)
    for key in (queued, posted, edited):
        await schedule(storage, key)
    moves = {key: claim(key) for key in (queued, posted, edited)}
    won = await storage.nudges.move_slots(list(moves.values()))
    nudge_q, nudge_p, nudge_e = won[queued], won[posted], won[edited]
    assert nudge_q is not None and nudge_p is not None and nudge_e is not None
    await storage.nudges.mark_posted(nudge_p.id, message_id="1.2", posted_at=T0)
    await schedule(storage, edited, next_slot_at=T0 + 5 * SLOT)  # someone changed the schedule

    released = await storage.nudges.release_claims(
        [(nudge_q, moves[queued]), (nudge_p, moves[posted]), (nudge_e, moves[edited])]
    )
    assert released == 1
    async with storage.engine.connect() as conn:
        left = set((await conn.execute(select(NudgeRow.id))).scalars())
        picks = await conn.scalar(
            select(ChannelRow.recent_exercises).where(ChannelRow.channel_id == queued.channel_id)
        )
    assert left == {nudge_p.id}  # the posted one stays; the edited channel's claim is gone too
    assert picks is None  # forgotten: the next pick reads the nudges that went out
    assert (await cursor(storage, queued)).next_slot_at == T0
    assert (await cursor(storage, posted)).next_slot_at == T0 + SLOT
    assert (await cursor(storage, edited)).next_slot_at == T0 + 5 * SLOT
    due = await storage.channels.due_for_nudge(now=T0, limit=10)
    assert [state.key for state in due] == [queued]
    assert await storage.nudges.release_claims([]) == 0


async def test_an_adhoc_nudge_clears_the_stored_picks(storage: SqlStorage) -> None:
    await schedule(storage)
    assert await storage.nudges.move_slots([claim(KEY, "heel-lifts")])
    assert (await cursor(storage, KEY)).recent_exercises is not None
    await storage.nudges.create_adhoc(channel=KEY, exercise_key="squats")
    assert (await cursor(storage, KEY)).recent_exercises is None
    assert await storage.nudges.recent_exercise_keys(channel=KEY, limit=3) == [
        "squats",
        "heel-lifts",
    ]
    await storage.nudges.create_adhoc(channel=OTHER, exercise_key="squats")  # new channel: fine


async def test_saving_a_channel_keeps_its_picks(storage: SqlStorage) -> None:
    state = await schedule(storage)
    assert await storage.nudges.move_slots([claim(KEY, "heel-lifts")])
    await storage.channels.save(
        ChannelState(key=KEY, spec=state.spec, enabled=True, next_slot_at=T0 + SLOT)
    )
    assert (await cursor(storage, KEY)).recent_exercises == ("heel-lifts", "toe-taps", "squats")


async def test_recent_picks_of_many_channels_in_one_read(storage: SqlStorage) -> None:
    a, b, never, unknown = keys(4)
    for n, exercise in enumerate(["w", "x", "y", "z"]):
        await storage.nudges.create_adhoc(channel=a, exercise_key=exercise)
        if n < 2:
            await storage.nudges.create_adhoc(channel=b, exercise_key=exercise.upper())
    await schedule(storage, never)
    found = await storage.nudges.recent_exercise_keys_many(
        channels=[a, b, never, unknown, a], limit=3
    )
    assert found == {a: ["z", "y", "x"], b: ["X", "W"], never: [], unknown: []}
    assert await storage.nudges.recent_exercise_keys_many(channels=[b], limit=1) == {b: ["X"]}
    assert await storage.nudges.recent_exercise_keys_many(channels=[], limit=3) == {}
