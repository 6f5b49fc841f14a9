"""`/stretch together` rules: the short group routine that fits the time (seated first, from the
catalog, each move with its dose) and who may finish a group break.

Pure: no I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from bot.exercises import CATALOG, Exercise, find_exercise

MIN_MINUTES = 1
MAX_MINUTES = 10
DEFAULT_MINUTES = 2
START_DELAY = timedelta(minutes=1)  # the card names a start a minute ahead
MAX_ROUNDS = 5

# How long one go of each move takes at its dose, roughly (seconds): the routine's moves must
# fit the time together. A move not listed counts as a minute.
MOVE_SECONDS: dict[str, int] = {
    "glute-squeezes": 60,
    "seated-marching": 30,
    "heel-lifts": 30,
    "toe-lifts": 30,
    "seated-figure-four": 60,
    "seated-spinal-twist": 40,
    "shoulder-rolls": 30,
    "neck-side-stretch": 40,
    "chair-squats": 45,
    "lunges": 60,
    "standing-calf-raises": 30,
    "weight-shifts": 60,
    "standing-hip-circles": 45,
    "short-walk": 180,
    "kneeling-hip-flexor-stretch": 60,
    "glute-bridges": 45,
}


@dataclass(frozen=True)
class Routine:
    """Two or three moves done in order, `rounds` times, in `minutes`."""

    minutes: int
    moves: tuple[Exercise, ...]
    rounds: int = 1

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(move.key for move in self.moves)

    @property
    def seconds_per_round(self) -> int:
        return sum(move_seconds(move) for move in self.moves)


def move_seconds(exercise: Exercise) -> int:
    return MOVE_SECONDS.get(exercise.key, 60)


def build_routine(
    minutes: int,
    *,
    seated_only: bool = False,
    rng: random.Random | None = None,
    without: frozenset[str] = frozenset(),
) -> Routine:
    """Two moves for a short break (under 3 minutes), three for a longer one, that fit
    `minutes` together: seated moves first; with 3 minutes or more and standing moves allowed,
    the last move gets people up. No floor moves (this happens at desks), and none of the
    built-ins in `without` (turned off in the workspace) while enough others are left. The
    round repeats to fill the time, at most `MAX_ROUNDS` times."""
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValueError(f"a group break lasts {MIN_MINUTES} to {MAX_MINUTES} minutes")
    rng = rng or random.Random()
    budget = minutes * 60
    count = 2 if minutes < 3 else 3
    share = budget // count
    seated = [e for e in CATALOG if e.position == "seated" and move_seconds(e) <= share]
    standing = [e for e in CATALOG if e.position == "standing" and move_seconds(e) <= share]
    kept = [e for e in seated if e.key not in without]
    seated = kept if len(kept) >= count else seated
    standing = [e for e in standing if e.key not in without]
    rng.shuffle(seated)
    rng.shuffle(standing)
    wants_standing = not seated_only and minutes >= 3 and bool(standing)
    moves = seated[: count - 1] + standing[:1] if wants_standing else seated[:count]
    per_round = sum(move_seconds(move) for move in moves)
    rounds = max(1, min(MAX_ROUNDS, budget // per_round))
    return Routine(minutes=minutes, moves=tuple(moves), rounds=rounds)


def routine_from_keys(minutes: int, keys: str, rounds: int) -> Routine:
    """A stored routine back from its comma-separated exercise keys (unknown keys dropped)."""
    moves = tuple(e for e in (find_exercise(key) for key in keys.split(",")) if e is not None)
    return Routine(minutes=minutes, moves=moves, rounds=max(1, rounds))


def may_finish(person_id: str, *, joiners: tuple[str, ...], started_by: str) -> bool:
    """Done is for the people doing the break: whoever joined, or whoever called it. A passer-by
    cannot close it (and credit people who have not moved yet)."""
    return person_id in joiners or person_id == started_by
