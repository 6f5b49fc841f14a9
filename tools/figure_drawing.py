# Owns the look of the exercise pictures: the rounded figure, its props and the motion cues.
"""A friendly figure drawn from code with Pillow: body proportions, poses, props and motion cues.

World coordinates are the 2x canvas's pixels with the floor at y = 0 and y growing downwards, so
everything above the floor has a negative y. Limbs are posed by where the hand or ankle goes; a
two-bone solver places the elbow or knee, so every pose keeps the same proportions.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, cast, get_args

from PIL import ImageDraw

Point = tuple[float, float]
TOWARDS_VIEWER: Point = (0.0, 0.0)  # a `bend` for knees and elbows that point at the viewer
RGB = tuple[int, int, int]

# Palette: one calm blue body, one warm colour for what moves, greys for the room.
BACKGROUND: RGB = (255, 255, 255)
PANEL: RGB = (237, 242, 248)
BODY: RGB = (52, 101, 158)
BODY_BEHIND: RGB = (151, 180, 214)
MOVE: RGB = (240, 100, 48)
MOVE_BEHIND: RGB = (246, 172, 140)
CUE: RGB = (222, 78, 30)
PROP: RGB = (172, 181, 194)
PROP_DARK: RGB = (135, 146, 161)
DESK: RGB = (221, 227, 235)
FLOOR: RGB = (120, 131, 148)

# Body proportions in world units (2x pixels at scale 1).
HEAD_R = 34.0
NECK = 12.0
TORSO = 138.0
UPPER_ARM = 80.0
FOREARM = 76.0
THIGH = 108.0
SHIN = 104.0
FOOT = 42.0
ARM_W = 26.0
LEG_W = 32.0
FOOT_W = 24.0
TORSO_W = 62.0
SHOULDER_HALF = 44.0
HIP_HALF = 24.0
SHOULDER_DROP = 18.0  # shoulders sit this far below the neck
ANKLE_H = FOOT_W / 2  # ankle height above the floor with the foot flat
GAP = 7.0  # the panel-coloured outline that keeps overlapping parts apart

Part = Literal[
    "head",
    "neck",
    "torso",
    "glutes",
    "hips",
    "shoulders",
    "upper_arm0",
    "forearm0",
    "upper_arm1",
    "forearm1",
    "thigh0",
    "shin0",
    "foot0",
    "thigh1",
    "shin1",
    "foot1",
]


def direction(degrees: float) -> Point:
    """Unit vector for an angle: 0 points down, 90 forward (right), 180 up."""
    radians = math.radians(degrees)
    return (math.sin(radians), math.cos(radians))


def add(a: Point, b: Point, k: float = 1.0) -> Point:
    return (a[0] + k * b[0], a[1] + k * b[1])


def sub(a: Point, b: Point) -> Point:
    return (a[0] - b[0], a[1] - b[1])


def unit(v: Point) -> Point:
    length = math.hypot(v[0], v[1]) or 1.0
    return (v[0] / length, v[1] / length)


def perpendicular(v: Point) -> Point:
    """`v` turned a quarter towards the back of a figure facing right (up turns into left)."""
    return (v[1], -v[0])


class Canvas:
    """An ImageDraw seen through a world-to-pixel transform (offset and uniform scale)."""

    def __init__(self, draw: ImageDraw.ImageDraw, origin: Point, scale: float, halo: RGB) -> None:
        self.draw = draw
        self.origin = origin
        self.scale = scale
        self.halo = halo

    def px(self, p: Point) -> tuple[float, float]:
        return (self.origin[0] + self.scale * p[0], self.origin[1] + self.scale * p[1])

    def disc(self, centre: Point, radius: float, colour: RGB) -> None:
        self.oval(centre, radius, radius, colour)

    def oval(self, centre: Point, rx: float, ry: float, colour: RGB) -> None:
        x, y = self.px(centre)
        rx, ry = rx * self.scale, ry * self.scale
        self.draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=colour)

    def polygon(self, points: Sequence[Point], colour: RGB) -> None:
        self.draw.polygon([self.px(p) for p in points], fill=colour)

    def capsule(self, a: Point, b: Point, width: float, colour: RGB) -> None:
        """A segment with round ends: every limb, rail and arrow shaft is one of these."""
        half = width / 2
        normal = perpendicular(unit(sub(b, a)))
        self.polygon(
            [
                add(a, normal, half),
                add(b, normal, half),
                add(b, normal, -half),
                add(a, normal, -half),
            ],
            colour,
        )
        self.disc(a, half, colour)
        self.disc(b, half, colour)


class Shape(Protocol):
    def paint(self, canvas: Canvas, colour: RGB, grow: float) -> None: ...


@dataclass(frozen=True)
class Capsule:
    a: Point
    b: Point
    width: float

    def paint(self, canvas: Canvas, colour: RGB, grow: float) -> None:
        canvas.capsule(self.a, self.b, self.width + 2 * grow, colour)


@dataclass(frozen=True)
class Disc:
    centre: Point
    radius: float

    def paint(self, canvas: Canvas, colour: RGB, grow: float) -> None:
        canvas.disc(self.centre, self.radius + grow, colour)


@dataclass(frozen=True)
class RoundedPolygon:
    """A convex polygon widened by `radius` all round (its corners come out round)."""

    points: tuple[Point, ...]
    radius: float

    def paint(self, canvas: Canvas, colour: RGB, grow: float) -> None:
        canvas.polygon(self.points, colour)
        width = 2 * (self.radius + grow)
        if width > 0:
            for a, b in zip(self.points, self.points[1:] + self.points[:1], strict=True):
                canvas.capsule(a, b, width, colour)


def paint_group(canvas: Canvas, pieces: Iterable[tuple[Shape, RGB]], *, halo: bool = True) -> None:
    """Paint shapes that belong together: one outline round the whole group, none inside it."""
    pieces = list(pieces)
    if halo:
        for shape, _ in pieces:
            shape.paint(canvas, canvas.halo, GAP)
    for shape, colour in pieces:
        shape.paint(canvas, colour, 0.0)


@dataclass(frozen=True)
class Limb:
    """An arm or a leg, posed by where its hand or ankle goes.

    `bend` is the way the elbow or knee points. `foot` is the heel-to-toe angle (90 is flat,
    pointing forward; None draws a foot seen from the front). `upper_scale` and `lower_scale`
    shorten the segments that point at the viewer. A limb `behind` the body is drawn pale, before it.
    """

    end: Point
    bend: Point = (1.0, 0.0)
    foot: float | None = 90.0
    behind: bool = False
    upper_scale: float = 1.0
    lower_scale: float = 1.0


@dataclass(frozen=True)
class Pose:
    """The whole body: where the hips are, which way the torso and head point, the four limbs.

    Side view: index 0 is the near limb, 1 the far one. Front view: 0 is on the viewer's left.
    """

    hip: Point
    legs: tuple[Limb, Limb]
    arms: tuple[Limb, Limb]
    torso: float = 180.0
    head: float | None = None
    view: Literal["side", "front"] = "side"
    shrug: float = 0.0
    shoulder_width: float = 1.0  # < 1 turns the shoulders away (a twist seen from the front)
    highlight: frozenset[Part] = frozenset()


def two_bone(
    root: Point, target: Point, upper: float, lower: float, bend: Point
) -> tuple[Point, Point]:
    """The middle joint and the end point of a two-segment limb reaching from `root` to `target`.

    Out of reach, the limb points straight at the target; of the two bent solutions, the one whose
    joint lies further along `bend` wins. A zero `bend` means the joint bends towards the viewer:
    the limb is drawn straight (foreshortened) to the target.
    """
    span = sub(target, root)
    distance = math.hypot(*span)
    if bend == (0.0, 0.0) and distance <= upper + lower:
        return add(root, span, upper / (upper + lower)), target
    distance = min(max(distance, abs(upper - lower) + 1e-6), upper + lower - 1e-6)
    base = math.atan2(span[1], span[0])
    cosine = (upper * upper + distance * distance - lower * lower) / (2 * upper * distance)
    opening = math.acos(min(1.0, max(-1.0, cosine)))
    chord_middle = add(root, unit(span), distance / 2)
    best: Point | None = None
    best_score = -math.inf
    for sign in (1.0, -1.0):
        angle = base + sign * opening
        joint = (root[0] + upper * math.cos(angle), root[1] + upper * math.sin(angle))
        offset = sub(joint, chord_middle)
        score = offset[0] * bend[0] + offset[1] * bend[1]
        if score > best_score:
            best, best_score = joint, score
    assert best is not None
    end = add(best, unit(sub(target, best)), lower)
    return best, end


def ankle_for_toes(toe: Point, foot: float) -> Point:
    """Where the ankle goes so that the toes rest on `toe` with the foot at angle `foot`."""
    return add(toe, direction(foot), -FOOT)


def draw_figure(canvas: Canvas, pose: Pose) -> None:
    """Draw the body: pale limbs behind, torso and head, then the limbs in front."""
    lit = pose.highlight

    def colour(part: Part, behind: bool = False) -> RGB:
        if part in lit:
            return MOVE_BEHIND if behind else MOVE
        return BODY_BEHIND if behind else BODY

    up = direction(pose.torso)
    side = (-up[1], up[0])  # towards the viewer's right when the torso is upright
    neck = add(pose.hip, up, TORSO)
    head_way = direction(pose.head if pose.head is not None else pose.torso)
    head_centre = add(neck, head_way, NECK + HEAD_R)
    shoulder_middle = add(neck, up, pose.shrug - SHOULDER_DROP)
    if pose.view == "front":
        half = SHOULDER_HALF * pose.shoulder_width
        shoulders = (add(shoulder_middle, side, -half), add(shoulder_middle, side, half))
        hips = (add(pose.hip, side, -HIP_HALF), add(pose.hip, side, HIP_HALF))
    else:
        shoulders = (shoulder_middle, shoulder_middle)
        hips = (pose.hip, pose.hip)

    def leg(index: int) -> list[tuple[Shape, RGB]]:
        limb = pose.legs[index]
        knee, ankle = two_bone(
            hips[index], limb.end, THIGH * limb.upper_scale, SHIN * limb.lower_scale, limb.bend
        )
        pieces: list[tuple[Shape, RGB]] = [
            (Capsule(hips[index], knee, LEG_W), colour(_part("thigh", index), limb.behind)),
            (Capsule(knee, ankle, LEG_W), colour(_part("shin", index), limb.behind)),
        ]
        foot_colour = colour(_part("foot", index), limb.behind)
        if limb.foot is None:
            outward = -1.0 if index == 0 else 1.0
            pieces.append((Disc(add(ankle, (outward * 4, 4)), FOOT_W * 0.8), foot_colour))
        else:
            toes = direction(limb.foot)
            pieces.append(
                (Capsule(add(ankle, toes, -10), add(ankle, toes, FOOT), FOOT_W), foot_colour)
            )
        return pieces

    def arm(index: int) -> list[tuple[Shape, RGB]]:
        limb = pose.arms[index]
        elbow, hand = two_bone(
            shoulders[index],
            limb.end,
            UPPER_ARM * limb.upper_scale,
            FOREARM * limb.lower_scale,
            limb.bend,
        )
        return [
            (
                Capsule(shoulders[index], elbow, ARM_W),
                colour(_part("upper_arm", index), limb.behind),
            ),
            (Capsule(elbow, hand, ARM_W), colour(_part("forearm", index), limb.behind)),
            (Disc(hand, ARM_W * 0.62), colour(_part("forearm", index), limb.behind)),
        ]

    for index in (0, 1):
        if pose.legs[index].behind:
            paint_group(canvas, leg(index))
    for index in (0, 1):
        if pose.arms[index].behind:
            paint_group(canvas, arm(index))

    body: list[tuple[Shape, RGB]] = [
        (Capsule(neck, add(head_centre, head_way, -HEAD_R), 22), colour("neck")),
        (Disc(head_centre, HEAD_R), colour("head")),
    ]
    if pose.view == "front":
        corners = (
            add(shoulders[0], side, 8),
            add(shoulders[1], side, -8),
            add(hips[1], side, 2),
            add(hips[0], side, -2),
        )
        body.append((RoundedPolygon(corners, 20), colour("torso")))
        if "hips" in lit:
            band = (add(hips[1], up, 34), add(hips[0], up, 34), hips[0], hips[1])
            body.append((RoundedPolygon(band, 14), MOVE))
    else:
        back = perpendicular(up)
        body.append((Disc(add(pose.hip, back, 12), 27), colour("glutes")))
        body.append((Capsule(pose.hip, add(neck, up, -8), TORSO_W), colour("torso")))
        if "hips" in lit:
            body.append((Capsule(pose.hip, add(pose.hip, up, 30), TORSO_W), MOVE))
        if "glutes" in lit:
            body.append((Disc(add(pose.hip, back, 12), 27), MOVE))
    paint_group(canvas, body)

    for index in (0, 1):
        if not pose.legs[index].behind:
            paint_group(canvas, leg(index))
    for index in (0, 1):
        if not pose.arms[index].behind:
            paint_group(canvas, arm(index))
    if "shoulders" in lit:
        for index in (0, 1):
            if pose.view == "front" or index == 0:
                paint_group(canvas, [(Disc(shoulders[index], ARM_W * 0.72), MOVE)], halo=False)


def _part(segment: str, index: int) -> Part:
    part = f"{segment}{index}"
    assert part in get_args(Part), part
    return cast(Part, part)


# Props and cues: each draws itself in world coordinates.


class Drawable(Protocol):
    def draw(self, canvas: Canvas) -> None: ...


@dataclass(frozen=True)
class SideChair:
    """A chair seen from the side, backrest at `back_x`, seat facing right."""

    back_x: float
    seat_y: float = -96.0
    depth: float = 118.0
    back_top: float = -300.0

    def draw(self, canvas: Canvas) -> None:
        front_x = self.back_x + self.depth
        canvas.capsule((self.back_x + 14, 0), (self.back_x + 14, self.seat_y), 14, PROP_DARK)
        canvas.capsule((front_x - 12, 0), (front_x - 12, self.seat_y), 14, PROP_DARK)
        canvas.capsule((self.back_x, self.back_top), (self.back_x + 4, self.seat_y), 18, PROP)
        canvas.capsule((self.back_x, self.seat_y + 4), (front_x, self.seat_y + 4), 20, PROP)


@dataclass(frozen=True)
class FrontChair:
    """A chair seen from the front, centred on `x`."""

    x: float
    seat_y: float = -96.0
    half_width: float = 70.0
    back_top: float = -300.0

    def draw(self, canvas: Canvas) -> None:
        left, right = self.x - self.half_width, self.x + self.half_width
        canvas.capsule((left + 8, self.back_top + 10), (right - 8, self.back_top + 10), 26, PROP)
        canvas.capsule((left + 8, self.back_top), (left + 8, self.seat_y), 14, PROP)
        canvas.capsule((right - 8, self.back_top), (right - 8, self.seat_y), 14, PROP)
        canvas.capsule((left + 8, 0), (left + 8, self.seat_y), 14, PROP_DARK)
        canvas.capsule((right - 8, 0), (right - 8, self.seat_y), 14, PROP_DARK)
        canvas.capsule((left - 6, self.seat_y + 6), (right + 6, self.seat_y + 6), 22, PROP)


@dataclass(frozen=True)
class FrontDesk:
    """A desk seen from the front. Drawn in front of the figure, it hides the legs."""

    half_width: float = 210.0
    top_y: float = -160.0

    def draw(self, canvas: Canvas) -> None:
        left, right = -self.half_width, self.half_width
        canvas.polygon(((left, self.top_y), (right, self.top_y), (right, 0), (left, 0)), DESK)
        canvas.capsule((left - 8, self.top_y), (right + 8, self.top_y), 22, PROP)


@dataclass(frozen=True)
class Desk:
    """A desk seen from the side, its top from `x0` to `x1`."""

    x0: float
    x1: float
    top_y: float = -180.0

    def draw(self, canvas: Canvas) -> None:
        canvas.capsule((self.x1 - 16, 0), (self.x1 - 16, self.top_y), 14, PROP_DARK)
        canvas.capsule((self.x0, self.top_y), (self.x1, self.top_y), 18, PROP)


@dataclass(frozen=True)
class Arrow:
    """A thick motion arrow along `points`, its head at the last point."""

    points: tuple[Point, ...]
    width: float = 13.0
    head: float = 30.0
    colour: RGB = CUE

    def draw(self, canvas: Canvas) -> None:
        tip = self.points[-1]
        heading = unit(sub(tip, self.points[-2]))
        base = add(tip, heading, -self.head)
        normal = perpendicular(heading)
        shaft = [*self.points[:-1], add(base, heading, 4)]
        triangle = (add(base, normal, self.head * 0.62), tip, add(base, normal, -self.head * 0.62))
        pieces: list[tuple[Shape, RGB]] = [
            (Capsule(a, b, self.width), self.colour) for a, b in itertools.pairwise(shaft)
        ]
        pieces.append((RoundedPolygon(triangle, 3), self.colour))
        paint_group(canvas, pieces)


def arc(
    centre: Point, rx: float, ry: float, start: float, end: float, steps: int = 24
) -> tuple[Point, ...]:
    """Points on an elliptical arc; angles in degrees, 0 = right, 90 = down (screen)."""
    return tuple(
        (
            centre[0] + rx * math.cos(math.radians(start + (end - start) * i / steps)),
            centre[1] + ry * math.sin(math.radians(start + (end - start) * i / steps)),
        )
        for i in range(steps + 1)
    )


@dataclass(frozen=True)
class Strokes:
    """Short straight marks (effort, squeeze or speed lines)."""

    segments: tuple[tuple[Point, Point], ...]
    width: float = 10.0

    def draw(self, canvas: Canvas) -> None:
        for a, b in self.segments:
            paint_group(canvas, [(Capsule(a, b, self.width), CUE)])
