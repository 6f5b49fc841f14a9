"""The exercise catalog and the picking rules."""

from __future__ import annotations

import random
import re

import pytest

from bot.exercises import CATALOG, RECENT_WINDOW, Exercise, find_exercise, pick_exercise

SEATED = [e for e in CATALOG if e.position == "seated"]


def test_catalog_is_big_enough() -> None:
    assert len(CATALOG) >= 14


def test_keys_are_unique_kebab_case() -> None:
    keys = [e.key for e in CATALOG]
    assert len(keys) == len(set(keys))
    for key in keys:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", key), key


def test_seated_exercises_come_first() -> None:
    positions = [e.position for e in CATALOG]
    first_other = positions.index(next(p for p in positions if p != "seated"))
    assert all(p == "seated" for p in positions[:first_other])
    assert all(p != "seated" for p in positions[first_other:])
    assert len(SEATED) >= 5


def test_every_entry_is_filled_in() -> None:
    for exercise in CATALOG:
        assert exercise.name and exercise.how_to and exercise.dose
        assert exercise.position in ("seated", "standing", "floor")
        assert exercise.how_to.endswith(".")
        assert len(exercise.how_to) < 240


@pytest.mark.parametrize(
    ("word", "position"),
    [
        ("butt clenches", "seated"),
        ("marching", "seated"),
        ("heel lifts", "seated"),
        ("toe lifts", "seated"),
        ("figure-four", "seated"),
        ("squats", "standing"),
        ("lunges", "standing"),
        ("hip flexor", "floor"),
        ("glute bridges", "floor"),
        ("walk", "standing"),
        ("calf raises", "standing"),
    ],
)
def test_the_advice_we_promise_is_in_the_catalog(word: str, position: str) -> None:
    matches = [e for e in CATALOG if word in e.name.lower()]
    assert matches, word
    assert matches[0].position == position


def test_find_exercise() -> None:
    assert find_exercise("heel-lifts") == next(e for e in CATALOG if e.key == "heel-lifts")
    assert find_exercise("no-such-thing") is None
    assert find_exercise("") is None


def test_pick_never_repeats_the_last_three() -> None:
    rng = random.Random(1234)
    history: list[str] = []
    for _ in range(2000):
        pick = pick_exercise(history, rng=rng)
        assert pick.key not in history[:RECENT_WINDOW]
        history.insert(0, pick.key)
    assert len(set(history)) == len(CATALOG)  # and everything comes up eventually


def test_pick_seated_only() -> None:
    rng = random.Random(7)
    history: list[str] = []
    for _ in range(500):
        pick = pick_exercise(history, seated_only=True, rng=rng)
        assert pick.position == "seated"
        assert pick.key not in history[:RECENT_WINDOW]
        history.insert(0, pick.key)


def test_pick_is_reproducible_with_a_seeded_rng() -> None:
    first = [pick_exercise([], rng=random.Random(42)).key for _ in range(5)]
    second = [pick_exercise([], rng=random.Random(42)).key for _ in range(5)]
    assert first == second


def test_pick_without_rng_uses_the_module_default() -> None:
    assert isinstance(pick_exercise([]), Exercise)


def test_unknown_and_older_keys_do_not_matter() -> None:
    rng = random.Random(3)
    picks = {pick_exercise(["gone", "also-gone"], rng=rng).key for _ in range(200)}
    assert len(picks) > 5


def test_falls_back_when_everything_is_recent() -> None:
    # A recent list covering the whole seated pool: still avoid the most recent one.
    everything_seated = [e.key for e in SEATED]
    rng = random.Random(0)
    for _ in range(50):
        pick = pick_exercise(everything_seated, seated_only=True, rng=rng)
        assert pick.position == "seated"


def test_fallback_avoids_the_most_recent(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.exercises as exercises

    small = tuple(SEATED[:3])
    monkeypatch.setattr(exercises, "CATALOG", small)
    rng = random.Random(5)
    recent = [small[0].key, small[1].key, small[2].key]
    for _ in range(50):
        assert pick_exercise(recent, rng=rng).key != small[0].key
    single = (SEATED[0],)
    monkeypatch.setattr(exercises, "CATALOG", single)
    assert pick_exercise([SEATED[0].key], rng=rng) == SEATED[0]
