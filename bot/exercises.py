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
    # A picture of the move at an https address (custom exercises); built-ins have their own
    # drawings in bot/pictures.py.
    image_url: str | None = None


CATALOG: tuple[Exercise, ...] = (
    # Seated first: they work in any meeting, any office, any outfit.
    Exercise(
        key="glute-squeezes",
        name="Butt clenches (glute squeezes)",
        how_to="Sit tall and squeeze your buttocks together as hard as is comfortable, hold for "
        "a few seconds, then let go.",
        dose="10 squeezes, 5 seconds each",
        position="seated",
    ),
    Exercise(
        key="seated-marching",
        name="Marching in place (seated)",
        how_to="Sit near the front of your chair and lift one knee, then the other, as if "
        "marching. Keep your back upright.",
        dose="30 seconds",
        position="seated",
    ),
    Exercise(
        key="heel-lifts",
        name="Heel lifts",
        how_to="With your feet flat on the floor, lift both heels as high as you can, pause, "
        "and lower them slowly.",
        dose="20 reps",
        position="seated",
    ),
    Exercise(
        key="toe-lifts",
        name="Toe lifts",
        how_to="Keep your heels on the floor and lift your toes and the front of your feet "
        "towards your shins, then lower them.",
        dose="20 reps",
        position="seated",
    ),
    Exercise(
        key="seated-figure-four",
        name="Seated figure-four stretch",
        how_to="Rest one ankle on the opposite knee and lean forward gently with a straight back "
        "until you feel a stretch in the hip. Switch sides.",
        dose="30 seconds per side",
        position="seated",
    ),
    Exercise(
        key="seated-spinal-twist",
        name="Seated spinal twist",
        how_to="Sit tall, put one hand on the outside of the opposite knee and turn your upper "
        "body slowly towards that side. Switch sides.",
        dose="20 seconds per side",
        position="seated",
    ),
    Exercise(
        key="shoulder-rolls",
        name="Shoulder rolls",
        how_to="Lift your shoulders towards your ears and roll them back and down in slow "
        "circles, then roll them forwards.",
        dose="10 rolls each way",
        position="seated",
    ),
    Exercise(
        key="neck-side-stretch",
        name="Neck side stretch",
        how_to="Let one ear drop towards the same shoulder without lifting the shoulder, and "
        "breathe. Switch sides. Move slowly and stay in a comfortable range.",
        dose="20 seconds per side",
        position="seated",
    ),
    # Standing and floor.
    Exercise(
        key="chair-squats",
        name="Squats (chair squats)",
        how_to="Stand in front of your chair, sit back until you just touch the seat, and stand "
        "up again, pushing through your heels.",
        dose="10 reps",
        position="standing",
    ),
    Exercise(
        key="lunges",
        name="Lunges",
        how_to="Step one foot forward and bend both knees until the back knee is near the floor, "
        "then push back up. Alternate legs; hold a desk for balance if you like.",
        dose="8 per leg",
        position="standing",
    ),
    Exercise(
        key="standing-calf-raises",
        name="Calf raises (standing)",
        how_to="Stand tall, rise onto the balls of your feet, pause at the top, and lower your "
        "heels slowly.",
        dose="15 reps",
        position="standing",
    ),
    Exercise(
        key="weight-shifts",
        name="Weight shifts side to side",
        how_to="Stand with your feet hip-width apart and shift your weight slowly from one foot "
        "to the other, letting your hips follow.",
        dose="1 minute",
        position="standing",
    ),
    Exercise(
        key="standing-hip-circles",
        name="Standing hip circles",
        how_to="Stand with your hands on your hips and draw slow, wide circles with your hips. "
        "Change direction halfway.",
        dose="10 circles each way",
        position="standing",
    ),
    Exercise(
        key="short-walk",
        name="A short walk (or take the stairs)",
        how_to="Get up and walk: fetch water, go around the floor, or take a flight of stairs "
        "up and down.",
        dose="2 to 5 minutes",
        position="standing",
    ),
    Exercise(
        key="kneeling-hip-flexor-stretch",
        name="Kneeling hip flexor stretch",
        how_to="Kneel on one knee with the other foot in front, tuck your pelvis under and shift "
        "forward a little until the front of the back hip stretches. Switch sides.",
        dose="30 seconds per side",
        position="floor",
    ),
    Exercise(
        key="glute-bridges",
        name="Glute bridges",
        how_to="Lie on your back with knees bent and feet flat, squeeze your glutes and lift your "
        "hips until your body is straight from knees to shoulders, then lower.",
        dose="12 reps",
        position="floor",
    ),
)
_BY_KEY = {exercise.key: exercise for exercise in CATALOG}
_RNG = random.SystemRandom()

RECENT_WINDOW = 3  # a pick never repeats any of the channel's last three


def find_exercise(key: str) -> Exercise | None:
    """The catalog entry with this key, or None."""
    return _BY_KEY.get(key)


def pick_exercise(
    recent_keys: Sequence[str],
    *,
    seated_only: bool = False,
    rng: random.Random | None = None,
    catalog: Sequence[Exercise] | None = None,
) -> Exercise:
    """A random exercise of `catalog` (default: the built-in one) that is none of
    `recent_keys[:RECENT_WINDOW]` (most recent first).

    With `seated_only`, only seated exercises qualify; a catalog without any (a workspace's
    own list of standing moves) falls back to the built-in seated ones, and an empty catalog to
    the built-in one. If every candidate was used recently (a pool of three or fewer), the rule
    relaxes to "not the most recent one", then to anything.
    """
    catalog = catalog or CATALOG
    pool = [e for e in catalog if e.position == "seated"] if seated_only else list(catalog)
    if not pool:
        pool = [e for e in CATALOG if e.position == "seated"]
    recent = set(recent_keys[:RECENT_WINDOW])
    candidates = [e for e in pool if e.key not in recent]
    if not candidates and recent_keys:
        candidates = [e for e in pool if e.key != recent_keys[0]]
    if not candidates:
        candidates = pool
    return (rng or _RNG).choice(candidates)
