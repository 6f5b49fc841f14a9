"""The storage contract for claim leases: `move_slots(lease=...)`, `start_sending`, `take_over`
and `end_leases`. SQLite and Postgres, like the rest of the contract suite.

A claim held under a lease is taken over only once its lease has ended and only if it never
started sending; sending is a compare-and-set on the holder, so however a takeover and the old
holder race, one of them sends.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.ports import ChannelKey, Lease, NudgeStatus
from storage.models import NudgeRow
from storage.sql import SqlStorage
from tests.storage.contract import KEY, OTHER, SLOT, T0, claim_move, schedule

A = "replica-a"
B = "replica-b"
LEASE = timedelta(seconds=30)
GRACE = timedelta(minutes=10)


async def claimed_by(storage: SqlStorage, owner: str, *keys: ChannelKey) -> list[int]:
    for key in keys:
        await schedule(storage, key)
    won = await storage.nudges.move_slots(
        [claim_move(key) for key in keys], lease=Lease(owner, T0 + LEASE)
    )
    ids = []
    for key in keys:
        nudge = won[key]
        assert nudge is not None
        ids.append(nudge.id)
    return ids


async def take_over(storage: SqlStorage, owner: str, at: timedelta) -> tuple[list[int], list[int]]:
    now = T0 + at
    taken = await storage.nudges.take_over(
        now=now, lease=Lease(owner, now + LEASE), oldest_slot=now - GRACE, limit=100
    )
    return [n.id for n in taken.claims], [n.id for n in taken.stale]


async def test_a_live_lease_is_not_taken_over_an_ended_one_is(storage: SqlStorage) -> None:
    [nudge] = await claimed_by(storage, A, KEY)
    assert await take_over(storage, B, timedelta(seconds=29)) == ([], [])
    claims, stale = await take_over(storage, B, timedelta(seconds=31))
    assert (claims, stale) == ([nudge], [])
    # The old holder may not send it any more; the new one may, once.
    assert await storage.nudges.start_sending([nudge], owner=A) == set()
    assert await storage.nudges.start_sending([nudge], owner=B) == {nudge}
    assert await storage.nudges.start_sending([nudge], owner=B) == set()


async def test_a_claim_that_started_sending_is_never_taken_over(storage: SqlStorage) -> None:
    sent, unsent = await claimed_by(storage, A, KEY, OTHER)
    assert await storage.nudges.start_sending([sent], owner=A) == {sent}
    claims, _ = await take_over(storage, B, timedelta(minutes=1))
    assert claims == [unsent]
    assert await storage.nudges.start_sending([unsent], owner=B) == {unsent}
    assert await take_over(storage, A, timedelta(minutes=5)) == ([], [])


async def test_the_taken_over_claim_carries_its_channel_slot_and_exercise(
    storage: SqlStorage,
) -> None:
    await claimed_by(storage, A, KEY)
    now = T0 + timedelta(minutes=1)
    taken = await storage.nudges.take_over(
        now=now, lease=Lease(B, now + LEASE), oldest_slot=now - GRACE, limit=100
    )
    [nudge] = taken.claims
    assert (nudge.channel, nudge.slot_at, nudge.exercise_key, nudge.status) == (
        KEY,
        T0,
        "a",
        NudgeStatus.CLAIMED,
    )
    # Only the platforms asked for.
    assert (
        await storage.nudges.take_over(
            now=now + LEASE * 2,
            lease=Lease(A, now + LEASE * 3),
            oldest_slot=now - GRACE,
            limit=100,
            platforms=["teams"],
        )
    ).claims == []


async def test_a_claim_past_the_grace_period_is_skipped_not_taken_over(
    storage: SqlStorage,
) -> None:
    [nudge] = await claimed_by(storage, A, KEY)
    claims, stale = await take_over(storage, B, GRACE + timedelta(seconds=1))
    assert (claims, stale) == ([], [nudge])
    async with storage.nudges._db.read() as session:  # type: ignore[attr-defined]
        status = await session.scalar(select(NudgeRow.status).where(NudgeRow.id == nudge))
    assert status == NudgeStatus.SKIPPED.value
    assert await take_over(storage, B, GRACE * 2) == ([], [])


async def test_ended_leases_are_taken_over_at_once(storage: SqlStorage) -> None:
    storage = SqlStorage(storage.engine, clock=lambda: T0)  # the claims' clock stands at T0
    first, _ = await claimed_by(storage, A, KEY, OTHER)
    await storage.nudges.end_leases([first], owner=B)  # not B's: nothing happens
    await storage.nudges.end_leases([first], owner=A)
    claims, _ = await take_over(storage, B, timedelta(seconds=1))
    assert claims == [first]  # the other keeps its lease until T0 + 30 s


async def test_two_processes_taking_over_at_once_take_each_claim_once(
    storage: SqlStorage,
) -> None:
    keys = [ChannelKey("slack", "T1", f"C{i:04d}") for i in range(40)]
    ids = await claimed_by(storage, A, *keys)
    (b_claims, _), (c_claims, _) = await asyncio.gather(
        take_over(storage, B, timedelta(minutes=1)), take_over(storage, "replica-c", SLOT / 60)
    )
    assert not set(b_claims) & set(c_claims)
    assert sorted(b_claims + c_claims) == sorted(ids)


async def test_the_sending_mark_is_stored_as_its_time_for_any_number_of_claims(
    storage: SqlStorage,
) -> None:
    # start_sending runs on the driver itself (its own SQL and values), so check that what it
    # writes reads back through the ORM's column type, and that a call with more claims than
    # one SQLite statement takes marks every one of them.
    at = T0 + timedelta(seconds=5)
    storage = SqlStorage(storage.engine, clock=lambda: at)
    keys = [ChannelKey("slack", "T1", f"C{i:04d}") for i in range(520)]
    ids = await claimed_by(storage, A, *keys)
    assert await storage.nudges.start_sending(ids[:3], owner=B) == set()
    assert await storage.nudges.start_sending(ids, owner=A) == set(ids)
    assert await storage.nudges.start_sending(ids, owner=A) == set()
    async with storage.nudges._db.read() as session:  # type: ignore[attr-defined]
        stored = set(await session.scalars(select(NudgeRow.sending_at).where(NudgeRow.id.in_(ids))))
    assert stored == {at}
    assert await take_over(storage, B, timedelta(minutes=5)) == ([], [])
