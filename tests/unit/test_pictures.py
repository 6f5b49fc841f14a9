"""The exercise pictures: one per built-in exercise, legible, small, described, and reproducible."""

from __future__ import annotations

import fnmatch
import io
import tomllib
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from bot.exercises import CATALOG, Exercise
from bot.pictures import (
    ALT_TEXT_LIMIT,
    ALT_TEXTS,
    PICTURES,
    Picture,
    alt_text,
    picture_for,
)

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "bot" / "assets" / "exercises"
KEYS = [exercise.key for exercise in CATALOG]
MAX_BYTES = 60_000
BACKGROUNDS = {(255, 255, 255), (237, 242, 248)}  # the page and the panels
HIGHLIGHT = (240, 100, 48)
# The two panels at 1x: the start pose on the left, the end pose on the right.
START_BOX, END_BOX = (10, 10, 268, 290), (332, 10, 590, 290)


def _picture(key: str) -> Picture:
    picture = picture_for(key)
    assert picture is not None, f"no picture for {key}"
    return picture


def _open(picture: Picture) -> Image.Image:
    return Image.open(io.BytesIO(picture.png_bytes()))


def _ink(image: Image.Image) -> int:
    """Pixels that are neither page nor panel: the figure, the room and the arrows."""
    colours = image.convert("RGB").getcolors(1 << 16) or []
    return sum(count for count, colour in colours if colour not in BACKGROUNDS)


def test_every_built_in_exercise_has_a_picture_and_alt_text() -> None:
    assert set(PICTURES) == set(KEYS) == set(ALT_TEXTS)
    for exercise in CATALOG:
        picture = _picture(exercise.key)
        assert picture.key == exercise.key
        assert picture.file_name == f"{exercise.key}.png"
        assert picture.media_type == "image/png"
        assert alt_text(exercise) == picture.alt_text
        assert 40 < len(picture.alt_text) <= ALT_TEXT_LIMIT
        assert picture.alt_text.startswith("Illustration")


def test_the_committed_files_are_exactly_the_catalog() -> None:
    assert sorted(path.stem for path in ASSETS.glob("*.png")) == sorted(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_each_png_opens_at_its_stated_size_and_is_small(key: str) -> None:
    picture = _picture(key)
    image = _open(picture)
    image.load()
    assert image.format == "PNG"
    assert image.size == (picture.width, picture.height) == (600, 300)
    assert image.mode == "P", "store a palette PNG (small, and enough for flat colours)"
    assert len(picture.png_bytes()) < MAX_BYTES
    assert picture.png_bytes() == (ASSETS / picture.file_name).read_bytes()


@pytest.mark.parametrize("key", KEYS)
def test_each_picture_shows_two_different_poses_with_a_highlight(key: str) -> None:
    image = _open(_picture(key)).convert("RGB")
    colours = image.getcolors(1 << 16) or []
    assert len(colours) >= 12, "a near-blank picture"
    start, end = image.crop(START_BOX), image.crop(END_BOX)
    panel_area = start.width * start.height
    for half in (start, end):
        assert _ink(half) > 0.05 * panel_area, "a panel with (almost) nothing drawn in it"
    changed = ImageChops.difference(start, end).convert("L").point(lambda v: 255 if v > 24 else 0)
    assert changed.histogram()[255] > 0.02 * panel_area, "the start and end poses look the same"
    highlighted = sum(
        count
        for count, (r, g, b) in colours
        if abs(r - HIGHLIGHT[0]) + abs(g - HIGHLIGHT[1]) + abs(b - HIGHLIGHT[2]) < 40
    )
    assert highlighted > 300, "the moving body part should be highlighted"


def test_unknown_keys_have_no_picture() -> None:
    assert picture_for("not-an-exercise") is None
    assert picture_for("") is None


def test_alt_text_of_a_custom_exercise_names_it_within_slacks_limit() -> None:
    custom = Exercise(
        key="my-physio-move", name="Wall  angels", how_to=".", dose="1", position="standing"
    )
    assert alt_text(custom) == "Illustration: Wall angels"
    huge = Exercise(key="huge", name="x" * 3000, how_to=".", dose="1", position="seated")
    text = alt_text(huge)
    assert len(text) == ALT_TEXT_LIMIT
    assert text.startswith("Illustration: xxx") and text.endswith("…")


def test_version_is_a_content_hash() -> None:
    versions = {_picture(key).version() for key in KEYS}
    assert len(versions) == len(KEYS)
    assert all(len(v) == 12 and int(v, 16) >= 0 for v in versions)


def test_the_generator_reproduces_the_committed_pictures(tmp_path: Path) -> None:
    """Changing tools/draw_exercises.py without regenerating the PNGs fails here."""
    from tools.draw_exercises import main

    assert main(["--out", str(tmp_path)]) == 0
    drawn = sorted(path.name for path in tmp_path.iterdir())
    assert drawn == sorted(f"{key}.png" for key in KEYS)
    stale = [
        name for name in drawn if (tmp_path / name).read_bytes() != (ASSETS / name).read_bytes()
    ]
    assert not stale, (
        f"{stale} differ from what tools/draw_exercises.py draws: "
        "run `.venv/bin/python -m tools.draw_exercises` and commit the PNGs"
    )


def test_the_generator_refuses_an_unknown_exercise(tmp_path: Path) -> None:
    from tools.draw_exercises import main

    assert main(["--out", str(tmp_path), "no-such-move"]) != 0
    assert list(tmp_path.iterdir()) == []


def test_a_non_editable_install_ships_the_pictures() -> None:
    """The package-data globs in pyproject.toml cover every picture and its SOURCES.md."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["bot"]
    shipped = [*(f"assets/exercises/{key}.png" for key in KEYS), "assets/exercises/SOURCES.md"]
    for path in shipped:
        assert any(fnmatch.fnmatch(path, pattern) for pattern in patterns), path
    assert "pillow" not in " ".join(config["project"]["dependencies"]).lower()
