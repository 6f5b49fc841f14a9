"""The storage contract suite's shared records and builders (channels, moves, mark changes).

The contract tests (`tests/storage/test_*.py`) run every repository behaviour the services rely
on once per backend through the `storage` fixture; these are the words they share.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import BreakChange, ChannelKey, ChannelState, MarkChange, MarkOutcome, SlotMove
from bot.schedules import ScheduleSpec
from storage.models import Base
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
