"""Pure rules the use cases share: when a channel is paused, how a schedule (re)starts, when the
weekly board is next due.

No I/O: values in, values out.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import schedules
from bot.ports import ChannelState

WEEKLY_BOARD_DAY = 4  # Friday
WEEKLY_BOARD_TIME = time(16, 0)


def is_paused(state: ChannelState, at: datetime) -> bool:
    """Paused at `at`: paused until resumed, or until a time still after `at`."""
    return state.paused and (state.paused_until is None or state.paused_until > at)


def pause_end(state: ChannelState, now: datetime) -> datetime | None:
    """The pause's end if it is still in the future; None when not paused by time."""
    if state.paused and state.paused_until is not None and state.paused_until > now:
        return state.paused_until
    return None


def next_weekly_board_after(tz: str, after: datetime) -> datetime:
    """The next Friday 16:00 in `tz` strictly after `after`, in UTC."""
    zone = ZoneInfo(tz)
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(WEEKLY_BOARD_DAY - local.weekday()) % 7)
    while True:
        candidate = datetime.combine(day, WEEKLY_BOARD_TIME, tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
        day += timedelta(days=7)


def running(
    state: ChannelState,
    now: datetime,
    *,
    spec: schedules.ScheduleSpec | None = None,
    by: str | None = None,
) -> ChannelState:
    """The channel with its schedule (`spec`, or the one it had) running from `now`: enabled,
    not paused, its next slot and (when on) its next weekly board set."""
    spec = spec or state.spec
    assert spec is not None, "a schedule runs only with a spec"
    return replace(
        state,
        spec=spec,
        enabled=True,
        paused=False,
        paused_until=None,
        next_slot_at=schedules.next_slot_after(spec, now),
        next_board_at=next_weekly_board_after(spec.tz, now) if state.weekly_board else None,
        updated_by=by if by is not None else state.updated_by,
    )


def turned_off(state: ChannelState, *, by: str) -> ChannelState:
    """The channel with scheduled nudges and the weekly board off (the schedule is kept)."""
    return replace(
        state,
        enabled=False,
        paused=False,
        paused_until=None,
        next_slot_at=None,
        next_board_at=None,
        updated_by=by,
    )


def skipped_slots(state: ChannelState, now: datetime) -> list[datetime]:
    """The channel's upcoming slots a skip passes over: a skip moves the cursor
    (`next_slot_at`) beyond the next slot, so slots after `now` and before the cursor are
    skipped (a cursor never runs ahead otherwise: it is the first slot not yet handled)."""
    spec, cursor = state.spec, state.next_slot_at
    if spec is None or cursor is None or not state.enabled or cursor <= now:
        return []
    after = pause_end(state, now) or now  # slots a pause covers are not "skipped"
    return [slot for slot in schedules.slots_between(spec, after, cursor) if slot > after]


def slot_to_skip(state: ChannelState, now: datetime) -> datetime | None:
    """The next slot that would be posted (after a pause by time ends), or None when nothing
    is scheduled (off, paused until resumed, no slots)."""
    spec = state.spec
    if spec is None or not state.enabled or state.next_slot_at is None:
        return None
    if is_paused(state, now) and pause_end(state, now) is None:
        return None
    end = pause_end(state, now)
    after = max(now, end - timedelta(microseconds=1)) if end else now
    return schedules.next_slot_after(
        spec, max(after, state.next_slot_at - timedelta(microseconds=1))
    )
