"""`/stretch together`: routines that fit the time (seated first), who may press Done, the start
a minute ahead, and the coalesced card updates."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest

from bot.coalescing import UpdateCoalescer
from bot.group_breaks import start_time
from bot.together import (
    MAX_MINUTES,
    MIN_MINUTES,
    build_routine,
    may_finish,
    move_seconds,
)


@pytest.mark.parametrize("minutes", range(MIN_MINUTES, MAX_MINUTES + 1))
@pytest.mark.parametrize("seed", range(20))
def test_routines_fit_the_time_and_put_seated_moves_first(minutes: int, seed: int) -> None:
    routine = build_routine(minutes, rng=random.Random(seed))
    assert len(routine.moves) == (2 if minutes < 3 else 3)
    assert len(set(routine.keys)) == len(routine.keys)
    per_round = sum(move_seconds(move) for move in routine.moves)
    assert per_round * routine.rounds <= minutes * 60
    assert 1 <= routine.rounds <= 5
    positions = [move.position for move in routine.moves]
    assert "floor" not in positions
    assert positions[0] == "seated"
    assert positions == sorted(positions, key=lambda p: p != "seated")  # seated before standing
    assert all(move.dose for move in routine.moves)


@pytest.mark.parametrize("minutes", range(MIN_MINUTES, MAX_MINUTES + 1))
def test_seated_only_channels_get_seated_routines(minutes: int) -> None:
    routine = build_routine(minutes, seated_only=True, rng=random.Random(minutes))
    assert {move.position for move in routine.moves} == {"seated"}


def test_out_of_range_lengths_are_refused() -> None:
    for minutes in (0, 11):
        with pytest.raises(ValueError):
            build_routine(minutes)


def test_done_is_for_joiners_and_whoever_called_it() -> None:
    assert may_finish("U2", joiners=("U2", "U3"), started_by="U1")
    assert may_finish("U1", joiners=("U2",), started_by="U1")
    assert not may_finish("U9", joiners=("U2",), started_by="U1")


def test_the_start_is_a_minute_ahead_on_the_whole_minute() -> None:
    now = datetime(2026, 11, 23, 9, 0, 20, tzinfo=UTC)
    assert start_time(now) == datetime(2026, 11, 23, 9, 2, tzinfo=UTC)
    assert start_time(now.replace(second=0)) == datetime(2026, 11, 23, 9, 1, tzinfo=UTC)


async def test_a_burst_of_changes_makes_two_refreshes_and_the_last_shows_the_final_state() -> None:
    state = {"joiners": 0}
    shown: list[int] = []
    pause = asyncio.Event()

    async def refresh(key: str) -> None:
        shown.append(state["joiners"])

    async def sleep(seconds: float) -> None:
        await pause.wait()

    cards = UpdateCoalescer(refresh, interval=3.0, sleep=sleep)
    for _n in range(10):
        state["joiners"] += 1
        cards.touch("card")
        await asyncio.sleep(0)
    assert shown == [1]  # the first change at once; the other nine wait for the pause
    pause.set()
    assert await cards.drain(1.0)
    assert shown == [1, 10]
    assert cards.refreshes == 2 and cards.pending == 0


async def test_separate_cards_refresh_independently_and_a_failed_refresh_is_not_fatal() -> None:
    calls: list[str] = []

    async def refresh(key: str) -> None:
        calls.append(key)
        if key == "bad":
            raise RuntimeError("chat.update failed")

    async def no_pause(seconds: float) -> None:
        return None

    cards = UpdateCoalescer(refresh, interval=3.0, sleep=no_pause)
    cards.touch("a")
    cards.touch("bad")
    assert await cards.drain(1.0)
    cards.touch("bad")
    assert await cards.drain(1.0)
    assert calls == ["a", "bad", "bad"]
