# Owns what each exercise picture shows: the start and end pose of every built-in exercise.
"""One scene per built-in exercise: two poses, the room around them and the motion cues.

The figure, props and cues come from tools/figure_drawing.py; tools/draw_exercises.py turns a
scene into a PNG. World coordinates: 2x pixels, floor at y = 0, y growing downwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from tools.figure_drawing import (
    ANKLE_H,
    FOOT,
    TOWARDS_VIEWER,
    Arrow,
    Desk,
    Drawable,
    FrontChair,
    FrontDesk,
    Limb,
    Part,
    Point,
    Pose,
    SideChair,
    Strokes,
    ankle_for_toes,
    arc,
)

SEATED = 1.4  # seated scenes are shorter, so they are drawn larger


@dataclass(frozen=True)
class Frame:
    """One pose with its room (`props`, drawn behind) and motion cues (drawn on top)."""

    pose: Pose
    props: tuple[Drawable, ...] = ()
    cues: tuple[Drawable, ...] = ()
    centre_x: float = 0.0  # the world x drawn at the middle of the panel
    # Props that hide part of the body (a desk seen from the front), drawn after the figure.
    in_front: tuple[Drawable, ...] = ()


@dataclass(frozen=True)
class Scene:
    """A picture's two poses, drawn at one scale so that they compare like for like."""

    start: Frame
    end: Frame
    scale: float = 1.1
    floor_y: float = 536.0  # the floor's height in the panel; below 560 it is out of sight


# Stock poses. Side views face right; front views face the viewer.

HANG = (-1.0, 0.1)  # elbows point back
OUT_LEFT, OUT_RIGHT = (-1.0, 0.0), (1.0, 0.0)


def lit(*parts: Part) -> frozenset[Part]:
    return frozenset(parts)


def standing() -> Pose:
    hip: Point = (0.0, -ANKLE_H - 210)
    return Pose(
        hip=hip,
        legs=(Limb((2, -ANKLE_H)), Limb((-6, -ANKLE_H), behind=True)),
        arms=(Limb((8, -196), bend=HANG), Limb((-10, -198), bend=HANG, behind=True)),
    )


def seated() -> Pose:
    return Pose(
        hip=(0.0, -114.0),
        legs=(Limb((104, -ANKLE_H), bend=(1, -1)), Limb((96, -ANKLE_H), bend=(1, -1), behind=True)),
        arms=(Limb((66, -146), bend=HANG), Limb((58, -148), bend=HANG, behind=True)),
    )


def chair() -> SideChair:
    return SideChair(back_x=-54, depth=112)


def in_chair(pose: Pose, *cues: Drawable, room: tuple[Drawable, ...] = ()) -> Frame:
    """A seated side view, centred on the figure and its chair."""
    return Frame(pose, room or (chair(),), cues, centre_x=40)


def on_toes(ankle_x: float, angle: float, *, behind: bool = False) -> Limb:
    """A leg whose ankle stays above `ankle_x` while the heel lifts to the foot angle `angle`."""
    toes = (ankle_x + FOOT * math.sin(math.radians(angle)), -ANKLE_H)
    return Limb(ankle_for_toes(toes, angle), bend=(1, -1), foot=angle, behind=behind)


def front_seated() -> Pose:
    def leg(x: float, bend: Point) -> Limb:
        return Limb((x, -ANKLE_H), bend=bend, foot=None, upper_scale=0.14)

    return Pose(
        hip=(0.0, -124.0),
        view="front",
        legs=(leg(-44, OUT_LEFT), leg(44, OUT_RIGHT)),
        arms=(
            Limb((-42, -126), bend=OUT_LEFT, lower_scale=0.62),
            Limb((42, -126), bend=OUT_RIGHT, lower_scale=0.62),
        ),
    )


def at_front_desk() -> Pose:
    """Seated behind a desk, seen from the front, forearms on the desk."""
    return replace(
        front_seated(),
        arms=(
            Limb((-58, -170), bend=OUT_LEFT, lower_scale=0.3),
            Limb((58, -170), bend=OUT_RIGHT, lower_scale=0.3),
        ),
    )


def behind_desk(pose: Pose, *cues: Drawable) -> Frame:
    return Frame(pose, (FrontChair(0),), cues, in_front=(FrontDesk(),))


def front_standing() -> Pose:
    return Pose(
        hip=(0.0, -ANKLE_H - 210),
        view="front",
        legs=(
            Limb((-32, -ANKLE_H), bend=TOWARDS_VIEWER, foot=None),
            Limb((32, -ANKLE_H), bend=TOWARDS_VIEWER, foot=None),
        ),
        arms=(Limb((-58, -190), bend=OUT_LEFT), Limb((58, -190), bend=OUT_RIGHT)),
    )


def up_arrow(x: float, bottom: float, top: float) -> Arrow:
    return Arrow(((x, bottom), (x, top)))


# One scene per built-in exercise.


def glute_squeezes() -> Scene:
    room = (SideChair(back_x=-96, depth=174),)
    relaxed = replace(seated(), highlight=lit("glutes"))
    squeezed = replace(relaxed, hip=(0.0, -120.0))
    marks = Strokes(
        (((-52, -140), (-72, -150)), ((-56, -112), (-80, -112)), ((-52, -84), (-72, -74)))
    )
    return Scene(in_chair(relaxed, room=room), in_chair(squeezed, marks, room=room), scale=SEATED)


def seated_marching() -> Scene:
    start = replace(seated(), highlight=lit("thigh0", "shin0", "foot0"))
    knee_up = replace(
        start,
        legs=(Limb((124, -84), bend=(1, -1)), start.legs[1]),
        arms=(Limb((48, -178), bend=(-1, 0.5)), Limb((96, -204), bend=(-1, 0.4), behind=True)),
    )
    return Scene(in_chair(start), in_chair(knee_up, up_arrow(176, -30, -150)), scale=SEATED)


def heel_lifts() -> Scene:
    start = replace(seated(), highlight=lit("foot0", "foot1"))
    heels_up = replace(start, legs=(on_toes(104, 50), on_toes(96, 50, behind=True)))
    return Scene(in_chair(start), in_chair(heels_up, up_arrow(70, -4, -84)), scale=SEATED)


def toe_lifts() -> Scene:
    start = replace(seated(), highlight=lit("foot0", "foot1"))
    toes_up = replace(
        start,
        legs=(
            Limb((104, -ANKLE_H - 4), bend=(1, -1), foot=130),
            Limb((96, -ANKLE_H - 4), bend=(1, -1), foot=130, behind=True),
        ),
    )
    lift = Arrow(arc((104, -ANKLE_H), 84, 84, -5, -55, 12))
    return Scene(in_chair(start), in_chair(toes_up, lift), scale=SEATED)


def seated_figure_four() -> Scene:
    crossed = replace(
        seated(),
        legs=(
            Limb((112, -146), bend=(0, -1), foot=100, upper_scale=0.6, lower_scale=0.75),
            seated().legs[1],
        ),
        arms=(Limb((86, -176), bend=HANG), Limb((80, -180), bend=HANG, behind=True)),
        highlight=lit("glutes", "thigh0"),
    )
    leaning = replace(
        crossed,
        torso=148.0,
        arms=(Limb((120, -168), bend=HANG), Limb((112, -172), bend=HANG, behind=True)),
    )
    lean = Arrow(arc((0, -114), 250, 250, -96, -64, 12))
    return Scene(in_chair(crossed), in_chair(leaning, lean), scale=SEATED)


def seated_spinal_twist() -> Scene:
    start = replace(front_seated(), highlight=lit("torso"))
    twisted = replace(
        start,
        shoulder_width=0.55,
        arms=(Limb((42, -118), bend=(0, 1)), Limb((100, -168), bend=OUT_RIGHT, behind=True)),
    )
    turn = Arrow(arc((0, -214), 96, 26, 160, 20, 16))
    room = (FrontChair(0),)
    return Scene(Frame(start, room), Frame(twisted, room, (turn,)), scale=SEATED)


CLOSE_UP = 1.9  # upper-body moves behind a desk: the legs are hidden, so the figure can be larger
CLOSE_UP_FLOOR = 690.0  # below the panel


def shoulder_rolls() -> Scene:
    start = replace(at_front_desk(), highlight=lit("shoulders"))
    shrugged = replace(start, shrug=26.0)
    shoulder_y = -124 - 138 + 18 - 26
    rolls = (
        Arrow(arc((-52, shoulder_y), 46, 46, 110, 250, 14)),
        Arrow(arc((52, shoulder_y), 46, 46, 70, -70, 14)),
    )
    return Scene(
        behind_desk(start), behind_desk(shrugged, *rolls), scale=CLOSE_UP, floor_y=CLOSE_UP_FLOOR
    )


def neck_side_stretch() -> Scene:
    start = replace(at_front_desk(), highlight=lit("neck", "head"))
    tilted = replace(start, head=142.0)
    neck_base = (0.0, -124 - 138)
    tilt = Arrow(arc(neck_base, 96, 96, -75, -25, 12))
    return Scene(
        behind_desk(start), behind_desk(tilted, tilt), scale=CLOSE_UP, floor_y=CLOSE_UP_FLOOR
    )


def chair_squats() -> Scene:
    room = (SideChair(back_x=-176),)
    start = replace(standing(), highlight=lit("glutes", "thigh0", "thigh1"))
    squat = replace(
        start,
        hip=(-58.0, -124.0),
        torso=146.0,
        legs=(Limb((2, -ANKLE_H)), Limb((-6, -ANKLE_H), behind=True)),
        arms=(Limb((164, -214), bend=(0, 1)), Limb((158, -218), bend=(0, 1), behind=True)),
    )
    down = up_arrow(-124, -360, -256)
    return Scene(Frame(start, room), Frame(squat, room, (down,)))


def lunges() -> Scene:
    start = replace(standing(), highlight=lit("thigh0", "thigh1"))
    lunge = replace(
        start,
        hip=(-14.0, -136.0),
        legs=(
            Limb((92, -ANKLE_H)),
            Limb(ankle_for_toes((-118, -ANKLE_H), 40), bend=(0.3, 1), foot=40, behind=True),
        ),
        arms=(Limb((-6, -112), bend=HANG), Limb((-22, -114), bend=HANG, behind=True)),
    )
    return Scene(
        Frame(start),
        Frame(lunge, cues=(up_arrow(-110, -330, -204),), centre_x=-10),
    )


def standing_calf_raises() -> Scene:
    lifted_parts = lit("foot0", "foot1", "shin0", "shin1")
    start = replace(standing(), highlight=lifted_parts)
    angle = 52.0
    near = ankle_for_toes((2 + FOOT, -ANKLE_H), angle)
    far = ankle_for_toes((-6 + FOOT, -ANKLE_H), angle)
    on_toes = replace(
        start,
        hip=(near[0] - 4, near[1] - 210),
        legs=(Limb(near, foot=angle), Limb(far, foot=angle, behind=True)),
        arms=(Limb((12, -224), bend=HANG), Limb((-6, -226), bend=HANG, behind=True)),
    )
    return Scene(Frame(start), Frame(on_toes, cues=(up_arrow(-46, -8, -96),)))


def weight_shifts() -> Scene:
    def shifted(dx: float) -> Pose:
        base = front_standing()
        return replace(
            base,
            hip=(dx, base.hip[1] + 4),
            torso=180.0 + dx / 4,
            highlight=lit("hips"),
            arms=(Limb((dx - 56, -190), bend=OUT_LEFT), Limb((dx + 56, -190), bend=OUT_RIGHT)),
        )

    shift = Arrow(((-50, -466), (70, -466)))
    return Scene(Frame(shifted(-32)), Frame(shifted(32), cues=(shift,)))


def standing_hip_circles() -> Scene:
    def hands_on_hips(pose: Pose) -> Pose:
        x, y = pose.hip
        return replace(
            pose,
            arms=(Limb((x - 52, y - 40), bend=(-1, -0.1)), Limb((x + 52, y - 40), bend=(1, -0.1))),
            highlight=lit("hips"),
        )

    start = hands_on_hips(front_standing())
    swung = hands_on_hips(replace(front_standing(), hip=(28.0, -ANKLE_H - 204), torso=186.0))
    circle = Arrow(arc((14, -210), 112, 30, 200, 480, 28))
    return Scene(Frame(start), Frame(swung, cues=(circle,)))


def short_walk() -> Scene:
    at_desk = replace(
        seated(),
        arms=(Limb((96, -196), bend=HANG), Limb((90, -198), bend=HANG, behind=True)),
    )
    walking = replace(
        standing(),
        hip=(0.0, -ANKLE_H - 200),
        torso=176.0,
        legs=(
            Limb((74, -ANKLE_H - 6), foot=112),
            Limb(ankle_for_toes((-36, -ANKLE_H), 60), foot=60, behind=True),
        ),
        arms=(Limb((-52, -214), bend=HANG), Limb((60, -226), bend=(-1, 0.4), behind=True)),
        highlight=lit("thigh0", "shin0", "thigh1", "shin1"),
    )
    speed = Strokes(
        (((-150, -330), (-100, -330)), ((-170, -270), (-110, -270)), ((-150, -210), (-100, -210)))
    )
    return Scene(
        Frame(replace(at_desk, highlight=walking.highlight), (chair(), Desk(60, 250)), centre_x=60),
        Frame(walking, cues=(speed,), centre_x=-30),
    )


def kneeling_hip_flexor_stretch() -> Scene:
    def kneel(hip: Point, front_ankle_x: float) -> Pose:
        return Pose(
            hip=hip,
            legs=(
                Limb((-118, -ANKLE_H), bend=(0.2, 1), foot=270),
                Limb((front_ankle_x, -ANKLE_H), bend=(1, -1), behind=True),
            ),
            arms=(
                Limb((hip[0] + 74, -150), bend=HANG),
                Limb((hip[0] + 66, -152), bend=HANG, behind=True),
            ),
            highlight=lit("thigh0", "hips"),
        )

    start = kneel((-14.0, -124.0), 96)
    forward = replace(kneel((24.0, -118.0), 96), torso=184.0)
    push = Arrow(((-116, -190), (-52, -190)))
    return Scene(Frame(start, centre_x=-10), Frame(forward, cues=(push,), centre_x=-10), scale=1.1)


def glute_bridges() -> Scene:
    def lying(hip: Point, torso: float) -> Pose:
        return Pose(
            hip=hip,
            torso=torso,
            head=270.0,
            legs=(
                Limb((139, -ANKLE_H), bend=(0, -1)),
                Limb((131, -ANKLE_H), bend=(0, -1), behind=True),
            ),
            arms=(Limb((30, -16), bend=(0, -1)), Limb((22, -16), bend=(0, -1), behind=True)),
            highlight=lit("glutes", "hips"),
        )

    flat = lying((0.0, -34.0), 270.0)
    bridge = lying((0.0, -80.0), 286.3)
    return Scene(
        Frame(flat, centre_x=-16),
        Frame(bridge, cues=(up_arrow(0, -122, -182),), centre_x=-16),
        scale=1.2,
    )


SCENES: dict[str, Callable[[], Scene]] = {
    "glute-squeezes": glute_squeezes,
    "seated-marching": seated_marching,
    "heel-lifts": heel_lifts,
    "toe-lifts": toe_lifts,
    "seated-figure-four": seated_figure_four,
    "seated-spinal-twist": seated_spinal_twist,
    "shoulder-rolls": shoulder_rolls,
    "neck-side-stretch": neck_side_stretch,
    "chair-squats": chair_squats,
    "lunges": lunges,
    "standing-calf-raises": standing_calf_raises,
    "weight-shifts": weight_shifts,
    "standing-hip-circles": standing_hip_circles,
    "short-walk": short_walk,
    "kneeling-hip-flexor-stretch": kneeling_hip_flexor_stretch,
    "glute-bridges": glute_bridges,
}
