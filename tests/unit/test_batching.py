"""The batch writer (bot/batching.py) against a fake `apply_marks`: batching, order, retries,
bounded memory, flushing. No database and no sleeping: the fake decides when a write ends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bot.batching import BatchWriter
from bot.ports import BreakChange, ChannelKey, MarkChange, MarkOutcome

KEY = ChannelKey("slack", "T1", "C1")
T0 = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)


def mark(n: int, *, added: bool = True) -> MarkChange:
    return MarkChange(KEY, f"m{n}", f"U{n}", "reaction:white_check_mark", added=added, at=T0)


def outcome_for(change: MarkChange) -> MarkOutcome:
    """The fake's answer: the person's number as the nudge id, so answers can be told apart."""
    return MarkOutcome(nudge_id=int(change.person_id[1:]), change=BreakChange(True, 1))


class FakeStore:
    """`apply_marks` that records its batches, can fail on cue and can be held mid-write."""

    def __init__(self) -> None:
        self.batches: list[list[MarkChange]] = []
        self.failures = 0  # fail this many calls (any batch) first
        self.poison: set[str] = set()  # people whose marks always fail
        self.gate: asyncio.Event | None = None  # when set: writes wait for it
        self.writing = asyncio.Event()

    async def apply(self, changes: Sequence[MarkChange]) -> list[MarkOutcome]:
        self.writing.set()
        if self.gate is not None:
            await self.gate.wait()
        self.batches.append(list(changes))
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database went away")
        if any(change.person_id in self.poison for change in changes):
            raise ValueError("value too long for type character varying(255)")
        return [outcome_for(change) for change in changes]


def writer(store: FakeStore, **options: object) -> BatchWriter[MarkChange, MarkOutcome]:
    settings: dict[str, object] = {
        "what": "mark",
        "linger": 0,
        "batch_retry_pauses": (0,),
        "retry_pauses": (0, 0),
    }
    settings.update(options)
    return BatchWriter(store.apply, **settings)  # type: ignore[arg-type]


async def test_a_burst_is_written_in_few_batches_each_caller_getting_its_own_outcome() -> None:
    store = FakeStore()
    store.gate = asyncio.Event()
    marks = writer(store, max_batch=50)
    calls = [asyncio.create_task(marks.submit(mark(n))) for n in range(120)]
    await store.writing.wait()  # the first batch is being written; the rest queue up
    store.gate.set()
    results = await asyncio.gather(*calls)
    assert results == [outcome_for(mark(n)) for n in range(120)]
    assert [len(batch) for batch in store.batches] == [50, 50, 20]
    # Arrival order is kept across batches (an add and a later remove stay in that order).
    assert [c for batch in store.batches for c in batch] == [mark(n) for n in range(120)]
    assert marks.batches == 3


async def test_lingering_gathers_a_batch() -> None:
    store = FakeStore()
    marks = writer(store, linger=60.0, max_batch=10)  # only a full batch ends the wait
    calls = [asyncio.create_task(marks.submit(mark(n))) for n in range(10)]
    await asyncio.gather(*calls)
    assert [len(batch) for batch in store.batches] == [10]


async def test_a_transient_failure_is_retried_and_nothing_is_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeStore()
    store.failures = 1
    seen: list[MarkChange] = []
    marks = writer(store, on_outcome=lambda change, _: seen.append(change))
    results = await asyncio.gather(*(marks.submit(mark(n)) for n in range(5)))
    assert results == [outcome_for(mark(n)) for n in range(5)]
    assert store.batches[0] == store.batches[1]  # the same batch again
    assert seen == [mark(n) for n in range(5)]  # each mark reported once
    assert "retrying" in caplog.text


async def test_a_mark_that_keeps_failing_fails_alone() -> None:
    store = FakeStore()
    store.poison = {"U3"}
    marks = writer(store)
    calls = [asyncio.create_task(marks.submit(mark(n))) for n in range(8)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[3], ValueError)
    assert [r for n, r in enumerate(results) if n != 3] == [
        outcome_for(mark(n)) for n in range(8) if n != 3
    ]
    # The bad mark alone was tried 1 + 2 times once the batch had been split down to it.
    assert sum(1 for batch in store.batches if batch == [mark(3)]) == 3


async def test_queued_marks_nobody_waits_for_are_reported_or_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeStore()
    store.poison = {"U1"}
    seen: list[tuple[MarkChange, MarkOutcome]] = []
    marks = writer(store, on_outcome=lambda change, outcome: seen.append((change, outcome)))
    for n in range(3):
        await marks.put(mark(n))  # returns before the mark is written
    assert seen == []
    with caplog.at_level(logging.ERROR, logger="stretchbot.batching"):
        assert await marks.flush(grace_seconds=5)
    assert seen == [(mark(n), outcome_for(mark(n))) for n in (0, 2)]
    assert "mark not written" in caplog.text and "'U1'" in caplog.text


async def test_a_full_queue_makes_callers_wait_for_room() -> None:
    store = FakeStore()
    store.gate = asyncio.Event()
    marks = writer(store, max_batch=2, max_queued=4)
    for n in range(4):
        await marks.put(mark(n))
    fifth = asyncio.create_task(marks.put(mark(4)))
    await store.writing.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert not fifth.done()  # four marks in memory at most
    store.gate.set()
    await fifth
    assert await marks.flush(grace_seconds=5)
    assert [c for batch in store.batches for c in batch] == [mark(n) for n in range(5)]


async def test_flush_waits_for_the_queue_and_times_out_on_a_stuck_write() -> None:
    store = FakeStore()
    marks = writer(store)
    assert await marks.flush(grace_seconds=0)  # nothing queued
    store.gate = asyncio.Event()
    await marks.put(mark(1))
    await store.writing.wait()
    assert not await marks.flush(grace_seconds=0.01)
    store.gate.set()
    assert await marks.flush(grace_seconds=5)
    assert store.batches == [[mark(1)]]


async def test_a_cancelled_caller_still_gets_its_mark_written() -> None:
    store = FakeStore()
    store.gate = asyncio.Event()
    marks = writer(store)
    call = asyncio.create_task(marks.submit(mark(1)))
    await store.writing.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    store.gate.set()
    assert await marks.flush(grace_seconds=5)
    assert store.batches == [[mark(1)]]


def test_batch_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        BatchWriter(FakeStore().apply, max_batch=0)
    with pytest.raises(ValueError):
        BatchWriter(FakeStore().apply, max_batch=10, max_queued=5)
