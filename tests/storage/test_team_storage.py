"""The storage contract of the team mechanics: the channel's goal and freezes, group breaks
(roll call, Done once, credit through the nudge) and slot outcomes. Each test runs on SQLite
and Postgres."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.ports import ChannelKey, ChannelState, MarkChange
from bot.team_ports import GROUP_BREAK_MARK, credit_message_id
from bot.together import build_routine
from storage.db import Database
from storage.retention import export_workspace, purge_workspace
from storage.sql import SqlStorage, SqlTenancy
from tests.storage.contract import KEY, SPEC, T0, claim_move, schedule

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_goal_and_freezes_round_trip_with_defaults(storage: SqlStorage) -> None:
    await storage.channels.save(ChannelState(key=KEY))
    state = await storage.channels.get(KEY)
    assert state is not None and (state.team_goal, state.streak_freezes) == (50, 1)
    await storage.channels.save(replace(state, team_goal=70, streak_freezes=2))
    state = await storage.channels.get(KEY)
    assert state is not None and (state.team_goal, state.streak_freezes) == (70, 2)
    await storage.channels.save(replace(state, team_goal=0))
    state = await storage.channels.get(KEY)
    assert state is not None and state.team_goal == 0


async def started(storage: SqlStorage, key: ChannelKey = KEY, ts: str = "1700000000.000100"):  # type: ignore[no-untyped-def]
    group = await storage.group_breaks.create(
        channel=key,
        started_by="U1",
        routine=build_routine(2, rng=random.Random(3)),
        starts_at=NOW + timedelta(minutes=1),
        tz="Europe/Berlin",
    )
    await storage.group_breaks.mark_posted(group.id, message_id=ts, posted_at=NOW)
    return group


async def test_a_group_break_keeps_its_routine_and_roll_call(storage: SqlStorage) -> None:
    group = await started(storage)
    found = await storage.group_breaks.find(channel=KEY, message_id="1700000000.000100")
    assert found is not None
    assert (found.id, found.routine.keys, found.routine.minutes) == (
        group.id,
        group.routine.keys,
        2,
    )
    assert found.starts_at == NOW + timedelta(minutes=1) and found.tz == "Europe/Berlin"
    assert found.joiners == () and not found.done
    first = await storage.group_breaks.join(
        channel=KEY, message_id="1700000000.000100", person_id="U2", at=NOW
    )
    again = await storage.group_breaks.join(
        channel=KEY, message_id="1700000000.000100", person_id="U2", at=NOW
    )
    other = await storage.group_breaks.join(
        channel=KEY, message_id="1700000000.000100", person_id="U3", at=NOW + timedelta(seconds=1)
    )
    assert (first.joined, again.joined, other.joined) == (True, False, True)
    assert other.group is not None and other.group.joiners == ("U2", "U3")
    # Another channel's message with the same ts is not this card.
    other_key = ChannelKey("slack", KEY.team_id, "C0THER")
    assert (
        await storage.group_breaks.find(channel=other_key, message_id="1700000000.000100") is None
    )
    missing = await storage.group_breaks.join(channel=KEY, message_id="1.2", person_id="U2", at=NOW)
    assert missing.group is None and not missing.joined


async def test_done_happens_once_and_closes_the_roll_call(storage: SqlStorage) -> None:
    await started(storage)
    ts = "1700000000.000100"
    for person in ("U2", "U3"):
        await storage.group_breaks.join(channel=KEY, message_id=ts, person_id=person, at=NOW)
    presses = await asyncio.gather(
        *(
            storage.group_breaks.finish(
                channel=KEY, message_id=ts, person_id=p, at=NOW + timedelta(minutes=3)
            )
            for p in ("U2", "U3", "U2")
        )
    )
    assert sum(1 for press in presses if press.finished) == 1
    winner = next(press for press in presses if press.finished)
    assert winner.group is not None and winner.group.done and winner.group.joiners == ("U2", "U3")
    late = await storage.group_breaks.join(channel=KEY, message_id=ts, person_id="U4", at=NOW)
    assert not late.joined and late.group is not None and late.group.joiners == ("U2", "U3")


async def test_joiners_are_credited_once_through_the_group_breaks_nudge(
    storage: SqlStorage,
) -> None:
    group = await started(storage)
    message = credit_message_id("1700000000.000100")
    changes = [
        MarkChange(KEY, message, person, GROUP_BREAK_MARK, added=True, at=NOW)
        for person in ("U2", "U3", "U2")
    ]
    outcomes = await storage.breaks.apply_marks(changes)
    assert [o.change.changed for o in outcomes] == [True, True, False]
    assert await storage.breaks.counts(channel=KEY, since=None) == {"U2": 1, "U3": 1}
    # A ✅ on the card itself (its real ts) is no nudge: it counts nothing.
    card = await storage.breaks.apply_marks(
        [MarkChange(KEY, "1700000000.000100", "U5", "reaction:white_check_mark", True, NOW)]
    )
    assert card[0].nudge_id is None
    assert group.id > 0


async def test_slot_outcomes_say_which_scheduled_nudges_got_a_break(storage: SqlStorage) -> None:
    await schedule(storage)
    won = await storage.nudges.move_slots([claim_move(exercise="heel-lifts")])
    nudge = won[KEY]
    assert nudge is not None
    await storage.nudges.mark_posted(nudge.id, message_id="1.1", posted_at=T0)
    until = T0 + timedelta(days=1)
    assert await storage.slot_outcomes.slot_outcomes(
        channel=KEY, since=T0 - timedelta(days=1), until=until
    ) == [(T0, False)]
    await storage.breaks.apply_marks(
        [MarkChange(KEY, "1.1", "U1", "reaction:white_check_mark", True, T0)]
    )
    assert await storage.slot_outcomes.slot_outcomes(
        channel=KEY, since=T0 - timedelta(days=1), until=until
    ) == [(T0, True)]
    # Ad-hoc nudges (group breaks, `now`) and slots outside the range are left out.
    await started(storage)
    assert (
        await storage.slot_outcomes.slot_outcomes(
            channel=KEY, since=until, until=until + SPEC.interval
        )
        == []
    )


async def test_purge_and_export_cover_group_breaks(storage: SqlStorage) -> None:
    await started(storage)
    await storage.group_breaks.join(
        channel=KEY, message_id="1700000000.000100", person_id="U2", at=NOW
    )
    db = Database.shared(storage.engine)
    tables = {
        t.name: t for t in await export_workspace(db, platform=KEY.platform, team_id=KEY.team_id)
    }
    [row] = tables["group_breaks"].rows
    assert row[2] == "U1" and row[-1] == "U2"
    tenancy = SqlTenancy(storage.engine)
    assert (
        await tenancy.people.forget(platform=KEY.platform, team_id=KEY.team_id, person_id="U2") == 0
    )
    found = await storage.group_breaks.find(channel=KEY, message_id="1700000000.000100")
    assert found is not None and found.joiners == ()
    await purge_workspace(db, platform=KEY.platform, team_id=KEY.team_id)
    assert await storage.group_breaks.find(channel=KEY, message_id="1700000000.000100") is None
