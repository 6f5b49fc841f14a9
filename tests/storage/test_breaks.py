"""The storage contract for `SqlBreakRepository`: one mark change at a time, counts, streaks.

Each test runs once per backend through the `storage` fixture ("sqlite" always, "postgres" when
TEST_POSTGRES_URL is set), each on a fresh, migrated database.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import pytest

from bot.ports import ChannelKey, MarkChange
from storage.models import BreakMarkRow, BreakRow
from storage.sql import SqlStorage
from tests.storage.contract import (
    CHECK,
    HEAVY,
    KEY,
    NOTHING,
    OTHER,
    SLOT,
    T0,
    add,
    apply_one,
    made,
    posted_nudge,
    remove,
    row_count,
)


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


async def test_person_counts_are_counts_for_one_person(storage: SqlStorage) -> None:
    for n in range(4):
        await posted_nudge(storage, message_id=f"m{n}")
    await posted_nudge(storage, OTHER, message_id="m0")
    logged = [T0 - timedelta(days=40), T0 - timedelta(days=1), T0, T0 + timedelta(days=7)]
    await storage.breaks.apply_marks(
        [add(f"m{n}", "U1", "button", at=at) for n, at in enumerate(logged)]
        + [add("m1", "U2", "button"), add("m0", "U1", "button", key=OTHER)]
    )
    unknown = ChannelKey(platform="teams", team_id="x", channel_id="y")
    for channel in (KEY, OTHER, unknown):
        for person in ("U1", "U2", "U3"):
            for first, second in [(T0, T0 - timedelta(days=30)), (T0 + timedelta(days=7), T0)]:
                expected = []
                for since in (first, second, None):
                    counts = await storage.breaks.counts(channel=channel, since=since)
                    expected.append(counts.get(person, 0))
                found = await storage.breaks.person_counts(
                    channel=channel, person_id=person, since=(first, second)
                )
                assert found == tuple(expected), (channel, person, first, second)
    assert await storage.breaks.person_counts(
        channel=KEY, person_id="U1", since=(T0, T0 - timedelta(days=30))
    ) == (2, 3, 4)


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


async def test_movers_are_the_people_with_a_break_on_the_nudge_first_first(
    storage: SqlStorage,
) -> None:
    nudge_id = await posted_nudge(storage, message_id="m1")
    other = await posted_nudge(storage, message_id="m2")
    await storage.breaks.apply_marks(
        [
            add("m1", "U3", CHECK, at=T0 + timedelta(minutes=3)),
            add("m1", "U1", CHECK, at=T0 + timedelta(minutes=1)),
            add("m1", "U2", "button", at=T0 + timedelta(minutes=2)),
            add("m1", "U1", "button", at=T0 + timedelta(minutes=4)),  # a second mark: once
            add("m2", "U9", CHECK, at=T0 + timedelta(minutes=1)),
        ]
    )
    assert await storage.breaks.movers(nudge_id=nudge_id) == ["U1", "U2", "U3"]
    await storage.breaks.apply_marks([remove("m1", "U2", "button")])
    assert await storage.breaks.movers(nudge_id=nudge_id) == ["U1", "U3"]
    assert await storage.breaks.movers(nudge_id=other) == ["U9"]
    assert await storage.breaks.movers(nudge_id=other + 1000) == []


async def test_nudges_moved_on_are_the_persons_recent_posted_nudges_in_the_workspace(
    storage: SqlStorage,
) -> None:
    first = await posted_nudge(storage, message_id="m1")
    await posted_nudge(storage, message_id="m2")
    elsewhere = ChannelKey("slack", "T9", "C9")
    await posted_nudge(storage, elsewhere, message_id="m3")
    await storage.breaks.apply_marks(
        [
            add("m1", "U1", CHECK, at=T0 + timedelta(minutes=1)),
            add("m2", "U1", CHECK, at=T0 - timedelta(days=3)),  # too old
            add("m2", "U2", CHECK, at=T0 + timedelta(minutes=1)),
        ]
    )
    await storage.breaks.apply_marks(
        [MarkChange(elsewhere, "m3", "U1", CHECK, added=True, at=T0 + timedelta(minutes=2))]
    )
    found = await storage.breaks.nudges_moved_on(
        platform="slack", team_id=KEY.team_id, person_id="U1", since=T0
    )
    assert found == [(KEY, "m1")]
    assert first > 0
    assert (
        await storage.breaks.nudges_moved_on(
            platform="slack", team_id=KEY.team_id, person_id="U3", since=T0
        )
        == []
    )
