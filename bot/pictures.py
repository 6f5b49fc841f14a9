"""Pictures of the built-in exercises, shipped as package data in `bot/assets/exercises/`.

Each built-in exercise has a 600x300 PNG: the start pose on the left, the end pose on the right,
an arrow between them and the moving body part in a warm highlight colour. They are drawn by
`tools/draw_exercises.py` (see `bot/assets/exercises/SOURCES.md`).

Pure: the only I/O is reading package data through importlib.resources, when bytes are asked for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Protocol

from bot.exercises import Exercise
from bot.i18n import N_, _

PICTURE_WIDTH = 600
PICTURE_HEIGHT = 300
MEDIA_TYPE = "image/png"
ALT_TEXT_LIMIT = 2000  # Slack's limit for an image block's alt_text

# Screen-reader text: what each picture shows, first pose then second. Written to match the
# drawings in tools/draw_exercises.py; change both together.
ALT_TEXTS: Mapping[str, str] = MappingProxyType(
    {
        "glute-squeezes": N_(
            "Illustration of butt clenches in two steps. First: a person sits upright "
            "on a chair, relaxed, with the buttocks highlighted. Then: the person sits a little taller "
            "and squeezes the buttocks together; short lines beside them show the squeeze."
        ),
        "seated-marching": N_(
            "Illustration of seated marching in two steps. First: a person sits on a "
            "chair with both feet on the floor, one leg highlighted. Then: that knee lifts towards the "
            "chest and the foot comes off the floor, as if marching; an arrow points up."
        ),
        "heel-lifts": N_(
            "Illustration of seated heel lifts in two steps. First: a person sits on a "
            "chair with the feet flat on the floor, feet highlighted. Then: the heels lift off the floor "
            "while the balls of the feet stay down; an arrow under the heels points up."
        ),
        "toe-lifts": N_(
            "Illustration of seated toe lifts in two steps. First: a person sits on a "
            "chair with the feet flat on the floor, feet highlighted. Then: the heels stay down and the "
            "toes and fronts of the feet lift towards the shins; a curved arrow shows the lift."
        ),
        "seated-figure-four": N_(
            "Illustration of the seated figure-four stretch in two steps. First: a "
            "person sits upright on a chair with one ankle resting on the opposite knee; the hip and "
            "thigh of the crossed leg are highlighted. Then: with a straight back, the person leans the "
            "upper body forward over the crossed leg; a curved arrow shows the lean."
        ),
        "seated-spinal-twist": N_(
            "Illustration of a seated spinal twist in two steps, seen from the "
            "front. First: a person sits upright on a chair with the hands on the knees, upper body "
            "highlighted. Then: the upper body turns to one side, one hand crossing to the opposite "
            "knee and the other arm reaching back towards the chair; a curved arrow around the chest "
            "shows the turn."
        ),
        "shoulder-rolls": N_(
            "Illustration of shoulder rolls in two steps, seen from the front. First: "
            "a person sits at a desk with the shoulders relaxed and down, shoulders highlighted. Then: "
            "both shoulders lift up towards the ears; a circular arrow beside each shoulder shows the "
            "roll back and down."
        ),
        "neck-side-stretch": N_(
            "Illustration of a neck side stretch in two steps, seen from the front. "
            "First: a person sits at a desk with the head upright, head and neck highlighted. Then: the "
            "head tilts sideways, ear towards the shoulder, while the shoulders stay down; a curved "
            "arrow shows the tilt."
        ),
        "chair-squats": N_(
            "Illustration of chair squats in two steps. First: a person stands in front "
            "of a chair, thighs and buttocks highlighted. Then: the person bends the knees and sits back "
            "until the buttocks just touch the seat, arms reaching forward for balance; an arrow points "
            "down."
        ),
        "lunges": N_(
            "Illustration of a lunge in two steps. First: a person stands tall with the feet "
            "together, thighs highlighted. Then: one foot has stepped forward and both knees bend, the "
            "back knee close to the floor and the back heel raised; an arrow points down."
        ),
        "standing-calf-raises": N_(
            "Illustration of standing calf raises in two steps. First: a person "
            "stands tall with the feet flat, calves and feet highlighted. Then: the person rises onto "
            "the balls of the feet with the heels lifted; an arrow beside the heels points up."
        ),
        "weight-shifts": N_(
            "Illustration of side-to-side weight shifts in two steps, seen from the "
            "front. First: a person stands with the feet hip-width apart and the hips shifted over one "
            "foot, hips highlighted. Then: the hips have moved across over the other foot; an arrow "
            "above the head points sideways."
        ),
        "standing-hip-circles": N_(
            "Illustration of standing hip circles in two steps, seen from the "
            "front. First: a person stands with the hands on the hips, hips highlighted. Then: the hips "
            "swing out to one side; an oval arrow around the hips shows the circle."
        ),
        "short-walk": N_(
            "Illustration of taking a short walk in two steps. First: a person sits on a "
            "chair at a desk, legs highlighted. Then: the person is up and walking with a long stride "
            "and swinging arms; speed lines behind show the movement."
        ),
        "kneeling-hip-flexor-stretch": N_(
            "Illustration of a kneeling hip flexor stretch in two steps. "
            "First: a person kneels on one knee with the other foot flat in front and the upper body "
            "upright; the hip and thigh of the kneeling leg are highlighted. Then: the hips shift "
            "forward, stretching the front of that hip; an arrow behind the hips points forward."
        ),
        "glute-bridges": N_(
            "Illustration of a glute bridge in two steps. First: a person lies on the "
            "back on the floor with the knees bent, feet flat and arms alongside the body; hips and "
            "buttocks highlighted. Then: the hips lift until the body is a straight line from the "
            "shoulders to the knees; an arrow above the hips points up."
        ),
    }
)


@dataclass(frozen=True)
class Picture:
    """One exercise's illustration: a PNG in the package plus what a screen reader should say."""

    key: str  # the exercise key, e.g. "heel-lifts"
    file_name: str  # "heel-lifts.png", inside bot/assets/exercises/
    width: int
    height: int
    alt_text: str
    media_type: str = MEDIA_TYPE

    def png_bytes(self) -> bytes:
        """The PNG file's bytes (read from the installed package once, then cached)."""
        return _read_asset(self.file_name)

    def version(self) -> str:
        """A short content hash: changes whenever the picture does (cache busting, re-uploads)."""
        return hashlib.sha256(self.png_bytes()).hexdigest()[:12]


PICTURES: Mapping[str, Picture] = MappingProxyType(
    {
        key: Picture(
            key=key,
            file_name=f"{key}.png",
            width=PICTURE_WIDTH,
            height=PICTURE_HEIGHT,
            alt_text=text,
        )
        for key, text in ALT_TEXTS.items()
    }
)


def picture_for(key: str) -> Picture | None:
    """The picture of the built-in exercise `key`, or None (custom exercises have none)."""
    return PICTURES.get(key)


def alt_text(exercise: Exercise) -> str:
    """Words for a picture of `exercise`, at most ALT_TEXT_LIMIT characters.

    A built-in exercise gets the description of its drawing; any other exercise (a custom one
    with an image of its own) gets "Illustration: <name>".
    """
    picture = PICTURES.get(exercise.key)
    if picture is not None:
        text = _(picture.alt_text)
    else:
        text = _("Illustration: {name}").format(name=" ".join(exercise.shown_name.split()))
    if len(text) > ALT_TEXT_LIMIT:
        text = text[: ALT_TEXT_LIMIT - 1].rstrip() + "…"
    return text


# ---- where nudges find a picture ----------------------------------------------------------------

PICTURES_PATH = "/pictures/"  # the bot serves `/pictures/<key>-<version>.png` (bot.app)
_SERVED_NAME = re.compile(r"^([a-z0-9-]{1,64})-([0-9a-f]{12})\.png$")


def served_name(picture: Picture) -> str:
    """The picture's file name under PICTURES_PATH: a new name for every new drawing, so it
    can be cached for ever."""
    return f"{picture.key}-{picture.version()}.png"


def picture_by_served_name(name: str) -> Picture | None:
    """The picture `served_name` gave this name (the current drawing only), or None."""
    match = _SERVED_NAME.match(name)
    if match is None:
        return None
    picture = PICTURES.get(match.group(1))
    if picture is None or picture.version() != match.group(2):
        return None
    return picture


@dataclass(frozen=True)
class PictureLinks:
    """How nudges link pictures: `enabled` (EXERCISE_PICTURES), and the bot's public https
    address (PUBLIC_URL) that Slack and Teams fetch built-in pictures from ("" when none)."""

    enabled: bool = True
    public_url: str = ""

    def url_for(self, exercise: Exercise) -> str | None:
        """The https address of the exercise's picture, or None (pictures off, or a built-in
        picture without PUBLIC_URL)."""
        if not self.enabled:
            return None
        if exercise.image_url:
            return exercise.image_url
        picture = PICTURES.get(exercise.key)
        if picture is None or not self.public_url:
            return None
        return self.public_url.rstrip("/") + PICTURES_PATH + served_name(picture)


class PictureFiles(Protocol):
    """Which Slack file each built-in picture was uploaded as, per workspace (Socket Mode)."""

    async def picture_file(self, *, team_id: str, picture: str, version: str) -> str | None: ...

    async def remember_picture_file(
        self, *, team_id: str, picture: str, version: str, file_id: str
    ) -> str:
        """Keep the id; returns the id stored (another replica's when it was first)."""
        ...

    async def forget_picture_file(self, *, team_id: str, file_id: str) -> None: ...


@cache
def _read_asset(file_name: str) -> bytes:
    return (resources.files("bot") / "assets" / "exercises" / file_name).read_bytes()
