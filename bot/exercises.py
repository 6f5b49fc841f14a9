"""Built-in exercise catalog and the picking rules.

Pure: no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Position = Literal["seated", "standing", "floor"]


@dataclass(frozen=True)
class Exercise:
    key: str  # stable id stored with each nudge, e.g. "heel-lifts"
    name: str  # "Heel lifts"
    how_to: str  # one or two sentences, our own words
    dose: str  # rough duration or reps, e.g. "20 reps" or "1 minute"
    position: Position


CATALOG: tuple[Exercise, ...] = ()  # filled in below

RECENT_WINDOW = 3  # a pick never repeats any of the channel's last three


def find_exercise(key: str) -> Exercise | None:
    """The catalog entry with this key, or None."""
    raise NotImplementedError


def pick_exercise(
    recent_keys: Sequence[str], *, seated_only: bool = False, rng: random.Random | None = None
) -> Exercise:
    """A random exercise that is none of `recent_keys[:RECENT_WINDOW]` (most recent first)."""
    raise NotImplementedError
