"""Built-in exercise catalog and the picking rules.

Pure: no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.i18n import N_, _

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

    # The texts as the reader sees them (the fields stay English: custom exercises, logs).
    @property
    def shown_name(self) -> str:
        return _(self.name)

    @property
    def shown_how_to(self) -> str:
        return _(self.how_to)

    @property
    def shown_dose(self) -> str:
        return _(self.dose)


CATALOG: tuple[Exercise, ...] = (
    # Seated first: they work in any meeting, any office, any outfit.
    Exercise(
        key="glute-squeezes",
        name=N_("Butt clenches (glute squeezes)"),
        how_to=N_(
            "Sit tall and squeeze your buttocks together as hard as is comfortable, hold for "
            "a few seconds, then let go."
        ),
        dose=N_("10 squeezes, 5 seconds each"),
        position="seated",
    ),
    Exercise(
        key="seated-marching",
        name=N_("Marching in place (seated)"),
        how_to=N_(
            "Sit near the front of your chair and lift one knee, then the other, as if "
            "marching. Keep your back upright."
        ),
        dose=N_("30 seconds"),
        position="seated",
    ),
    Exercise(
        key="heel-lifts",
        name=N_("Heel lifts"),
        how_to=N_(
            "With your feet flat on the floor, lift both heels as high as you can, pause, "
            "and lower them slowly."
        ),
        dose=N_("20 reps"),
        position="seated",
    ),
    Exercise(
        key="toe-lifts",
        name=N_("Toe lifts"),
        how_to=N_(
            "Keep your heels on the floor and lift your toes and the front of your feet "
            "towards your shins, then lower them."
        ),
        dose=N_("20 reps"),
        position="seated",
    ),
    Exercise(
        key="seated-figure-four",
        name=N_("Seated figure-four stretch"),
        how_to=N_(
            "Rest one ankle on the opposite knee and lean forward gently with a straight back "
            "until you feel a stretch in the hip. Switch sides."
        ),
        dose=N_("30 seconds per side"),
        position="seated",
    ),
    Exercise(
        key="seated-spinal-twist",
        name=N_("Seated spinal twist"),
        how_to=N_(
            "Sit tall, put one hand on the outside of the opposite knee and turn your upper "
            "body slowly towards that side. Switch sides."
        ),
        dose=N_("20 seconds per side"),
        position="seated",
    ),
    Exercise(
        key="shoulder-rolls",
        name=N_("Shoulder rolls"),
        how_to=N_(
            "Lift your shoulders towards your ears and roll them back and down in slow "
            "circles, then roll them forwards."
        ),
        dose=N_("10 rolls each way"),
        position="seated",
    ),
    Exercise(
        key="neck-side-stretch",
        name=N_("Neck side stretch"),
        how_to=N_(
            "Let one ear drop towards the same shoulder without lifting the shoulder, and "
            "breathe. Switch sides. Move slowly and stay in a comfortable range."
        ),
        dose=N_("20 seconds per side"),
        position="seated",
    ),
    # Standing and floor.
    Exercise(
        key="chair-squats",
        name=N_("Squats (chair squats)"),
        how_to=N_(
            "Stand in front of your chair, sit back until you just touch the seat, and stand "
            "up again, pushing through your heels."
        ),
        dose=N_("10 reps"),
        position="standing",
    ),
    Exercise(
        key="lunges",
        name=N_("Lunges"),
        how_to=N_(
            "Step one foot forward and bend both knees until the back knee is near the floor, "
            "then push back up. Alternate legs; hold a desk for balance if you like."
        ),
        dose=N_("8 per leg"),
        position="standing",
    ),
    Exercise(
        key="standing-calf-raises",
        name=N_("Calf raises (standing)"),
        how_to=N_(
            "Stand tall, rise onto the balls of your feet, pause at the top, and lower your "
            "heels slowly."
        ),
        dose=N_("15 reps"),
        position="standing",
    ),
    Exercise(
        key="weight-shifts",
        name=N_("Weight shifts side to side"),
        how_to=N_(
            "Stand with your feet hip-width apart and shift your weight slowly from one foot "
            "to the other, letting your hips follow."
        ),
        dose=N_("1 minute"),
        position="standing",
    ),
    Exercise(
        key="standing-hip-circles",
        name=N_("Standing hip circles"),
        how_to=N_(
            "Stand with your hands on your hips and draw slow, wide circles with your hips. "
            "Change direction halfway."
        ),
        dose=N_("10 circles each way"),
        position="standing",
    ),
    Exercise(
        key="short-walk",
        name=N_("A short walk (or take the stairs)"),
        how_to=N_(
            "Get up and walk: fetch water, go around the floor, or take a flight of stairs "
            "up and down."
        ),
        dose=N_("2 to 5 minutes"),
        position="standing",
    ),
    Exercise(
        key="kneeling-hip-flexor-stretch",
        name=N_("Kneeling hip flexor stretch"),
        how_to=N_(
            "Kneel on one knee with the other foot in front, tuck your pelvis under and shift "
            "forward a little until the front of the back hip stretches. Switch sides."
        ),
        dose=N_("30 seconds per side"),
        position="floor",
    ),
    Exercise(
        key="glute-bridges",
        name=N_("Glute bridges"),
        how_to=N_(
            "Lie on your back with knees bent and feet flat, squeeze your glutes and lift your "
            "hips until your body is straight from knees to shoulders, then lower."
        ),
        dose=N_("12 reps"),
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
