"""The storage contract for personal reminders: a personal channel found by its person, a slid
cursor that remembers its slot, and a busy skip recorded once (SQLite and Postgres)."""

from __future__ import annotations

from datetime import timedelta

from bot.ports import ChannelKey, ChannelState, SlotMove
from storage.models import NudgeRow
from storage.sql import SqlStorage
from tests.storage.contract import SLOT, SPEC, T0, row_count

DM = ChannelKey("slack", "T1", "D0001")


async def personal(storage: SqlStorage, person: str = "U1") -> ChannelState:
    state = ChannelState(
        key=DM, spec=SPEC, enabled=True, next_slot_at=T0, weekly_board=False, personal_for=person
    )
    await storage.channels.save(state)
    return state


async def test_a_personal_channel_is_found_by_its_person(storage: SqlStorage) -> None:
    await personal(storage)
    await storage.channels.save(ChannelState(key=ChannelKey("slack", "T1", "C1"), spec=SPEC))
    found = await storage.reminders.find(platform="slack", team_id="T1", person_id="U1")
    assert found is not None and found.key == DM and found.personal_for == "U1"
    assert await storage.reminders.find(platform="slack", team_id="T2", person_id="U1") is None
    assert await storage.reminders.find(platform="slack", team_id="T1", person_id="U2") is None


async def test_a_slide_keeps_its_slot_and_a_claim_clears_it(storage: SqlStorage) -> None:
    await personal(storage)
    later = T0 + timedelta(minutes=23)
    slide = SlotMove(DM, T0, later, slid_from=T0)
    assert await storage.nudges.move_slots([slide]) == {DM: None}
    state = await storage.reminders.find(platform="slack", team_id="T1", person_id="U1")
    assert state is not None and (state.next_slot_at, state.slid_from) == (later, T0)
    # The same slide again loses: the cursor moved.
    assert await storage.nudges.move_slots([slide]) == {}
    won = await storage.nudges.move_slots(
        [SlotMove(DM, later, T0 + SLOT, slot_at=T0, exercise_key="heel-lifts")]
    )
    assert won[DM] is not None and won[DM].slot_at == T0  # still the nudge of its slot
    state = await storage.channels.get(DM)
    assert state is not None and (state.next_slot_at, state.slid_from) == (T0 + SLOT, None)


async def test_a_busy_skip_is_recorded_once_and_counted(storage: SqlStorage) -> None:
    await personal(storage)
    skip = SlotMove(DM, T0, T0 + SLOT, slot_at=T0, skipped_reason="busy_dnd")
    assert await storage.nudges.move_slots([skip]) == {DM: None}
    assert await row_count(storage.engine, NudgeRow) == 1
    assert await storage.reminders.skipped_since(DM, since=T0 - timedelta(days=1)) == 1
    assert await storage.reminders.skipped_since(DM, since=T0 + timedelta(minutes=1)) == 0
    # Nothing posted: the picker and the slot insights never see a skipped reminder.
    assert await storage.nudges.recent_exercise_keys(channel=DM, limit=3) == []
    assert await storage.nudges.move_slots([skip]) == {}  # a second worker loses the race
    assert await row_count(storage.engine, NudgeRow) == 1


async def test_saving_a_schedule_drops_a_slide(storage: SqlStorage) -> None:
    state = await personal(storage)
    await storage.nudges.move_slots([SlotMove(DM, T0, T0 + timedelta(minutes=5), slid_from=T0)])
    await storage.channels.save(state)
    saved = await storage.channels.get(DM)
    assert saved is not None and saved.slid_from is None and saved.personal_for == "U1"


async def test_a_released_claim_of_a_slid_reminder_slides_there_again(storage: SqlStorage) -> None:
    await personal(storage)
    later = T0 + timedelta(minutes=23)
    await storage.nudges.move_slots([SlotMove(DM, T0, later, slid_from=T0)])
    move = SlotMove(DM, later, T0 + SLOT, slot_at=T0, exercise_key="heel-lifts")
    won = await storage.nudges.move_slots([move])
    nudge = won[DM]
    assert nudge is not None
    assert await storage.nudges.release_claims([(nudge, move)]) == 1
    state = await storage.channels.get(DM)
    assert state is not None and (state.next_slot_at, state.slid_from) == (later, T0)


async def test_a_personal_channel_is_never_due_for_a_board(storage: SqlStorage) -> None:
    state = await personal(storage)
    channel = ChannelState(key=ChannelKey("slack", "T1", "C1"), spec=SPEC, next_board_at=T0)
    await storage.channels.save(channel)
    await storage.channels.save(ChannelState(**{**state.__dict__, "next_board_at": T0}))
    due = await storage.channels.due_for_board(now=T0, limit=10)
    assert [s.key for s in due] == [channel.key]
