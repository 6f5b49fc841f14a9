"""The who-moved line and the nudge's menu as Block Kit (pure), the per-workspace edit pacer
on an injected clock, and the skip rules."""

from __future__ import annotations

import asyncio
import heapq
from datetime import UTC, datetime, time, timedelta

from bot import rules
from bot.coalescing import UpdateCoalescer
from bot.exercises import CATALOG
from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec
from bot.who_moved import MAX_NAMED, NudgeRoll, roll_of
from handlers.slack.blocks import MENU_ACTION_ID, nudge_message, roll_line
from handlers.slack.update_pacing import UpdatePacer, retry_after
from tests.fakes.block_kit import message_problems


def test_opted_out_people_are_counted_but_not_named() -> None:
    roll = roll_of(["U1", "U2", "U3"], frozenset({"U2"}))
    assert roll == NudgeRoll(count=3, named=("U1", "U3"))
    assert roll_line(roll) == "✅ 3 moved: <@U1> <@U3> and 1 more"
    assert roll_line(roll_of(["U2"], frozenset({"U2"}))) == "✅ 1 moved"


def test_the_line_names_the_first_few_then_counts() -> None:
    people = [f"U{i:04d}" for i in range(500)]
    roll = roll_of(people, frozenset())
    assert roll.named == tuple(people[:MAX_NAMED])
    line = roll_line(roll)
    assert line.startswith("✅ 500 moved: <@U0000> <@U0001>")
    assert line.endswith(f"and {500 - MAX_NAMED} more")
    assert roll_line(NudgeRoll(0, ())).startswith("Nobody has moved")


def test_only_well_formed_ids_become_mentions() -> None:
    roll = NudgeRoll(count=4, named=("U1", "<!channel>", "U2> <!here", "W9"))
    line = roll_line(roll)
    assert line == "✅ 4 moved: <@U1> <@W9> and 2 more"
    assert "!channel" not in line and "!here" not in line


def test_nudge_blocks_with_a_roll_and_menu_are_within_block_kit_limits() -> None:
    for exercise in CATALOG:
        for roll in (None, NudgeRoll(0, ()), roll_of([f"U{i}" for i in range(5000)], frozenset())):
            text, blocks = nudge_message(exercise, roll)
            assert message_problems({"text": text, "blocks": blocks}) == []
            [actions] = [b for b in blocks if b["type"] == "actions"]
            menu = actions["elements"][1]
            assert menu["type"] == "overflow" and menu["action_id"] == MENU_ACTION_ID
            assert [o["value"] for o in menu["options"]] == ["seated", "skip", "pause_today"]
    plain, with_roll = nudge_message(CATALOG[0]), nudge_message(CATALOG[0], NudgeRoll(1, ("U1",)))
    assert with_roll[1][: len(plain[1])] == plain[1]  # the posted blocks kept, the roll added


class VirtualTime:
    """A clock, and a sleep that waits for `advance` to move the clock past its end (no real
    waiting); with `auto`, a sleep moves the clock itself (one sleeper at a time)."""

    def __init__(self, *, auto: bool = True) -> None:
        self.now = 0.0
        self.auto = auto
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if self.auto:
            self.now += seconds
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, id(wake), wake))
        await wake

    async def advance(self, seconds: float) -> None:
        """Move the clock on, waking each sleeper at its time (earliest first)."""
        end = self.now + seconds
        for _ in range(5):
            await asyncio.sleep(0)
        while self._sleepers and self._sleepers[0][0] <= end:
            at, _key, wake = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            wake.set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)
        self.now = end


async def test_the_pacer_allows_a_burst_then_its_rate_per_workspace() -> None:
    t = VirtualTime()
    pacer = UpdatePacer(per_minute=40, burst=10, clock=t.clock, sleep=t.sleep)
    times = []
    for _ in range(50):
        await pacer.turn("T1")
        times.append(t.now)
    assert times[:10] == [0.0] * 10
    assert times[-1] == 60.0  # 40 more in the next minute: 50 in any 60 s window at most
    for start in times:
        assert sum(1 for at in times if start <= at < start + 60) <= 50
    await pacer.turn("T2")  # another workspace has its own budget
    assert t.now == 60.0


async def test_a_429_pauses_the_workspace_for_its_retry_after() -> None:
    t = VirtualTime()
    pacer = UpdatePacer(clock=t.clock, sleep=t.sleep)
    await pacer.turn("T1")
    pacer.pause("T1", retry_after({"Retry-After": "7"}))
    await pacer.turn("T1")
    assert t.now == 7.0
    assert retry_after({"retry-after": ["3"]}) == 3.0
    assert retry_after({}) == 30.0 and retry_after({"Retry-After": "soon"}) == 30.0


async def test_coalesced_edits_on_a_virtual_clock_end_exact() -> None:
    shown: list[int] = []
    state = {"count": 0}

    async def refresh(key: str) -> None:
        shown.append(state["count"])

    t = VirtualTime(auto=False)
    updates: UpdateCoalescer[str] = UpdateCoalescer(refresh, interval=3.0, sleep=t.sleep)
    for _ in range(500):  # 500 ✅ in 10 s of virtual time
        state["count"] += 1
        updates.touch("nudge")
        await t.advance(0.02)
    await t.advance(10)
    assert await updates.drain(1)
    assert shown[-1] == 500
    assert len(shown) == 5  # at 0, 3, 6, 9 and the last one at 12 s: one per 3 s


def berlin_state(now: datetime) -> ChannelState:
    spec = ScheduleSpec(
        interval=timedelta(minutes=45),
        tz="Europe/Berlin",
        window_start=time(9),
        window_end=time(17),
        weekdays=frozenset(range(5)),
    )
    return rules.running(ChannelState(key=ChannelKey("slack", "T1", "C1")), now, spec=spec)


def test_a_skip_is_the_cursor_past_the_next_slot() -> None:
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
    state = berlin_state(now)
    assert rules.skipped_slots(state, now) == []
    slot = rules.slot_to_skip(state, now)
    assert slot == datetime(2026, 11, 23, 8, 45, tzinfo=UTC)
    state.next_slot_at = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert rules.skipped_slots(state, now) == [slot]
    state.paused, state.paused_until = True, None
    assert rules.slot_to_skip(state, now) is None
