# Owns the exercise picture files in bot/assets/exercises: rendering scenes and writing PNGs.
"""Draw a start-and-end picture for every built-in exercise into bot/assets/exercises/.

Run from the repository root after changing a scene or the figure:

    .venv/bin/python -m tools.draw_exercises            # rewrites bot/assets/exercises/*.png
    .venv/bin/python -m tools.draw_exercises heel-lifts # just one
    .venv/bin/python -m tools.draw_exercises --out DIR  # somewhere else (the tests do this)

What each picture shows lives in tools/exercise_scenes.py, the figure's look in
tools/figure_drawing.py. Each picture is drawn at twice its size and averaged down
(anti-aliasing), then stored as a palette PNG. The output depends only on this code and Pillow
(byte-identical on Pillow 11.3, 12.3 and 13.0), so a test redraws it and compares with the
committed files.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from bot.exercises import CATALOG
from tools.exercise_scenes import SCENES, Frame, Scene
from tools.figure_drawing import BACKGROUND, FLOOR, PANEL, Arrow, Canvas, draw_figure

WIDTH, HEIGHT = 600, 300  # the stored picture
SCALE = 2  # drawn this many times larger, then averaged down
PANEL_SIZE = (516, 560)  # one pose, on the 2x canvas
PANEL_LEFTS, PANEL_TOP = (20, 664), 20  # start and end
PALETTE_COLOURS = 48
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "bot" / "assets" / "exercises"


def render_panel(scene: Scene, frame: Frame) -> Image.Image:
    """One pose in its room, on a panel of its own so nothing spills past the rounded corners."""
    width = PANEL_SIZE[0]
    panel = Image.new("RGB", PANEL_SIZE, PANEL)
    draw = ImageDraw.Draw(panel)
    floor_y = scene.floor_y
    canvas = Canvas(draw, (width / 2 - scene.scale * frame.centre_x, floor_y), scene.scale, PANEL)
    for prop in frame.props:
        prop.draw(canvas)
    draw_figure(canvas, frame.pose)
    # After the figure, so the floor also covers the outline under the feet.
    Canvas(draw, (0.0, 0.0), 1.0, PANEL).capsule(
        (34, floor_y + 6), (width - 34, floor_y + 6), 12, FLOOR
    )
    for prop in frame.in_front:
        prop.draw(canvas)
    for cue in frame.cues:
        cue.draw(canvas)
    return panel


def render(scene: Scene) -> Image.Image:
    """The finished picture: two panels and an arrow between them, as a palette image."""
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    mask = Image.new("L", PANEL_SIZE, 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, PANEL_SIZE[0] - 1, PANEL_SIZE[1] - 1), 44, fill=255
    )
    for left, frame in zip(PANEL_LEFTS, (scene.start, scene.end), strict=True):
        image.paste(render_panel(scene, frame), (left, PANEL_TOP), mask)
    between = Canvas(draw, (0.0, 0.0), 1.0, BACKGROUND)
    Arrow(((560, 300), (642, 300)), width=18, head=44, colour=FLOOR).draw(between)
    small = image.reduce(SCALE)
    return small.quantize(
        PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )


def write_pictures(out: Path, keys: Sequence[str]) -> list[Path]:
    """Render the named exercises into `out` as `<key>.png`; the written paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key in keys:
        path = out / f"{key}.png"
        render(SCENES[key]()).save(path, format="PNG", optimize=True)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs")
    parser.add_argument("keys", nargs="*", help="only these exercises (default: all)")
    args = parser.parse_args(argv)
    catalog_keys = [exercise.key for exercise in CATALOG]
    missing = sorted(set(catalog_keys) - set(SCENES))
    if missing:
        print(f"no scene for: {', '.join(missing)}", file=sys.stderr)
        return 1
    unknown = sorted(set(args.keys) - set(SCENES))
    if unknown:
        print(f"unknown exercise: {', '.join(unknown)}", file=sys.stderr)
        return 2
    for path in write_pictures(args.out, args.keys or catalog_keys):
        print(f"{path} {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
