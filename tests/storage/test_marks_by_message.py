"""Storage contract for `BreakRepository.apply_marks`: marks found by their message, many per
transaction, on every backend (the `storage` fixture runs each test on SQLite and, with
TEST_POSTGRES_URL, on Postgres).

The invariants are those of single changes (`test_breaks`): one break per (nudge, person), a
break exactly while its person has a mark on the nudge, idempotent under retries and races; and
each change's outcome is what it would have been applied alone, in order.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.ports import ChannelKey, MarkOutcome
from storage.models import BreakMarkRow, BreakRow
from storage.sql import SqlStorage, SqlTenancy
from tests.storage.contract import (
    HEAVY,
    KEY,
    NOTHING,
    OTHER,
    T0,
    add,
    made,
    posted_nudge,
    remove,
    row_count,
)


async def marks_and_breaks(
    storage: SqlStorage,
) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """(nudge, person) of every break, and of every mark (whatever the mark)."""
    async with storage.engine.connect() as conn:
        breaks = {
            (n, p) for n, p in await conn.execute(select(BreakRow.nudge_id, BreakRow.person_id))
        }
        marks = {
            (n, p)
            for n, p in await conn.execute(select(BreakMarkRow.nudge_id, BreakMarkRow.person_id))
        }
    return breaks, marks


async def test_a_batch_acts_as_its_changes_one_after_the_other(storage: SqlStorage) -> None:
    first = await posted_nudge(storage, message_id="m1")
    second = await posted_nudge(storage, message_id="m2")
    later = T0 + timedelta(minutes=3)
    outcomes = await storage.breaks.apply_marks(
        [
            add("m1", "U1", at=later),  # makes U1's break on m1
            add("m1", "U2"),  # makes U2's: 2 breaks on m1
            add("m1", "U1", HEAVY),  # a second mark: no new break
            add("m1", "U1"),  # the same mark again (a Slack retry)
            add("nope", "U1"),  # no nudge was posted as "nope"
            add("m2", "U1"),
            remove("m1", "U1"),  # U1 keeps HEAVY: the break stays
            remove("m1", "U1", HEAVY),  # the last mark: the break goes
            remove("m1", "U1", HEAVY),  # gone already
            add("m1", "U1", "button"),  # back again
            remove("m2", "U3"),  # never marked
        ]
    )
    assert outcomes == [
        made(first, 1),
        made(first, 2),
        made(first, 2, changed=False),
        made(first, 2, changed=False),
        NOTHING,
        made(second, 1),
        made(first, 2, changed=False),
        made(first, 1),
        made(first, 1, changed=False),
        made(first, 2),
        made(second, 1, changed=False),
    ]
    breaks, marks = await marks_and_breaks(storage)
    assert breaks == marks == {(first, "U1"), (first, "U2"), (second, "U1")}
    assert await storage.breaks.counts(channel=KEY, since=None) == {"U1": 2, "U2": 1}
    # A break is logged when its first mark arrived: U1's second break on m1 at T0.
    assert sorted(at for _, at in await storage.breaks.break_times(channel=KEY, since=T0)) == [
        T0,
        T0,
        T0,
    ]


async def test_the_first_mark_gives_the_break_its_time(storage: SqlStorage) -> None:
    await posted_nudge(storage, message_id="m1")
    early, late = T0 + timedelta(minutes=1), T0 + timedelta(minutes=9)
    await storage.breaks.apply_marks([add("m1", "U1", at=early), add("m1", "U1", HEAVY, at=late)])
    await storage.breaks.apply_marks([add("m1", "U1", "button", at=late)])
    assert await storage.breaks.break_times(channel=KEY, since=T0) == [("U1", early)]


async def test_a_message_is_found_in_its_own_channel_only(storage: SqlStorage) -> None:
    here = await posted_nudge(storage, message_id="m1")
    there = await posted_nudge(storage, OTHER, message_id="m1")
    unknown = ChannelKey("slack", "T9", "C1")
    outcomes = await storage.breaks.apply_marks(
        [
            add("m1", "U1"),
            add("m1", "U1", key=OTHER),
            add("m1", "U1", key=unknown),
            remove("m1", "U1", key=unknown),
        ]
    )
    assert outcomes == [made(here, 1), made(there, 1), NOTHING, NOTHING]
    assert await storage.breaks.counts(channel=KEY, since=None) == {"U1": 1}
    assert await storage.breaks.counts(channel=OTHER, since=None) == {"U1": 1}


async def test_the_latest_nudge_posted_as_a_message_counts(storage: SqlStorage) -> None:
    await posted_nudge(storage, message_id="m1")
    latest = await posted_nudge(storage, message_id="m1")
    assert await storage.breaks.apply_marks([add("m1", "U1")]) == [made(latest, 1)]


async def test_opted_out_people_store_nothing_where_opt_outs_apply(storage: SqlStorage) -> None:
    nudge_id = await posted_nudge(storage, message_id="m1")
    await storage.breaks.apply_marks([add("m1", "U1")])  # before opting out
    people = SqlTenancy(storage.engine).people
    await people.set_opted_out(platform="slack", team_id="T1", person_id="U1", opted_out=True)
    # Someone with the same id in another workspace did not opt out.
    await people.set_opted_out(platform="slack", team_id="T2", person_id="U2", opted_out=True)

    outcomes = await storage.breaks.apply_marks(
        [add("m1", "U1", HEAVY), add("m1", "U2"), remove("m1", "U1")]
    )
    opted_out = MarkOutcome(nudge_id=None, change=NOTHING.change, opted_out=True)
    # Taking a mark back still works: it only ever deletes.
    assert outcomes == [opted_out, made(nudge_id, 2), made(nudge_id, 1)]
    breaks, marks = await marks_and_breaks(storage)
    assert breaks == marks == {(nudge_id, "U2")}

    # Without opt-outs (no workspace features), everyone's marks count.
    assert await storage.breaks.apply_marks([add("m1", "U1")], opt_outs=False) == [
        made(nudge_id, 2)
    ]


async def test_a_big_batch_in_one_call(storage: SqlStorage) -> None:
    ids = [await posted_nudge(storage, message_id=f"m{n}") for n in range(5)]
    changes = [add(f"m{n % 5}", f"U{n}") for n in range(1200)]
    changes += [add(f"m{n % 5}", f"U{n}", HEAVY) for n in range(0, 1200, 2)]
    changes += [remove(f"m{n % 5}", f"U{n}") for n in range(0, 1200, 3)]
    outcomes = await storage.breaks.apply_marks(changes)
    assert sum(o.change.changed for o in outcomes) == 1200 + 200  # made, then taken back
    assert {o.nudge_id for o in outcomes} == set(ids)
    # Taken back: U(n) for n divisible by 3 but not by 2 (those keep their HEAVY mark).
    assert await row_count(storage.engine, BreakRow) == 1200 - 200


async def test_nothing_to_apply(storage: SqlStorage) -> None:
    assert await storage.breaks.apply_marks([]) == []


async def test_naive_times_are_rejected(storage: SqlStorage) -> None:
    await posted_nudge(storage, message_id="m1")
    with pytest.raises(ValueError, match="naive"):
        await storage.breaks.apply_marks([add("m1", "U1", at=datetime(2026, 11, 23, 9, 45))])
    assert await row_count(storage.engine, BreakMarkRow) == 0


# ---- races (Postgres: separate transactions; SQLite: serialised writers) ----------------------


@pytest.mark.parametrize("round_", range(3))
async def test_concurrent_batches_make_each_break_once(storage: SqlStorage, round_: int) -> None:
    """Replicas (or a Slack retry) apply overlapping batches at once, in different orders:
    every break is made exactly once, and none of them waits on another in a cycle."""
    ids = [await posted_nudge(storage, message_id=f"m{n}") for n in range(6)]
    batch = [add(f"m{n}", person) for n in range(6) for person in ("U1", "U2")]
    batches = [batch, batch[::-1], batch[3:] + batch[:3], batch[::2], batch[1::2], batch[::-3]]
    results = await asyncio.gather(*(storage.breaks.apply_marks(b) for b in batches))
    made_by = [
        (outcome.nudge_id, change.person_id)
        for changes, outcomes in zip(batches, results, strict=True)
        for change, outcome in zip(changes, outcomes, strict=True)
        if outcome.change.changed
    ]
    assert sorted(made_by) == sorted((n, p) for n in ids for p in ("U1", "U2"))  # each once
    assert all(o.change.breaks_on_nudge in (1, 2) for outcomes in results for o in outcomes)
    breaks, marks = await marks_and_breaks(storage)
    assert len(breaks) == len(marks) == 12


async def test_concurrent_duplicate_marks_by_message(storage: SqlStorage) -> None:
    await posted_nudge(storage, message_id="m1")
    # Single events and batches that hold the same mark twice (a retry inside one flush).
    results = await asyncio.gather(
        *(storage.breaks.apply_marks([add("m1", "U1")]) for _ in range(10)),
        *(storage.breaks.apply_marks([add("m1", "U1"), add("m1", "U1")]) for _ in range(3)),
    )
    changed = [outcome.change.changed for outcomes in results for outcome in outcomes]
    assert changed.count(True) == 1
    assert await row_count(storage.engine, BreakRow) == 1
    assert await row_count(storage.engine, BreakMarkRow) == 1


async def test_racing_add_and_remove_by_message_keep_breaks_and_marks_consistent(
    storage: SqlStorage,
) -> None:
    """A break exists exactly while its person has a mark, however batches interleave."""
    nudge_id = await posted_nudge(storage, message_id="m1")
    apply = storage.breaks.apply_marks
    for round_ in range(10):
        await apply([add("m1", "U1")])
        await asyncio.gather(apply([add("m1", "U1", "button")]), apply([remove("m1", "U1")]))
        assert await marks_and_breaks(storage) == ({(nudge_id, "U1")},) * 2, round_
        await asyncio.gather(
            apply([remove("m1", "U1", "button")]),
            apply([add("m1", "U1")]),
            apply([remove("m1", "U1", "button")]),
        )
        assert await marks_and_breaks(storage) == ({(nudge_id, "U1")},) * 2, round_
        await apply([remove("m1", "U1")])
        assert await marks_and_breaks(storage) == (set(), set()), round_


async def test_breaks_on_nudge_after_a_racing_batch(storage: SqlStorage) -> None:
    """Counts come from the committed state: concurrent batches on one nudge end at 20."""
    await posted_nudge(storage, message_id="m1")
    results = await asyncio.gather(
        *(storage.breaks.apply_marks([add("m1", f"U{n}-{k}") for k in range(4)]) for n in range(5))
    )
    finals = sorted(outcomes[-1].change.breaks_on_nudge for outcomes in results)
    assert finals[-1] == 20 and len(set(finals)) == 5  # each batch saw the ones before it
    async with storage.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(BreakRow))).scalar_one() == 20
