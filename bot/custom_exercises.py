"""A workspace's own exercises: the records, the rules a new one must pass, the catalog a channel
uses (built-ins not turned off, the workspace's own, or a named pack) and the storage port.

Pure: no I/O. `bot.exercise_service` runs the use cases; `storage/exercises.py` implements
`ExerciseRepository`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal, Protocol
from urllib.parse import urlsplit

from bot.exercises import CATALOG, Exercise, find_exercise
from bot.i18n import _, ngettext

Unit = Literal["seconds", "reps"]
CustomPosition = Literal["seated", "standing"]

NAME_LIMIT = 80  # shown in a nudge's bold title and in Slack's plain_text fields
HOW_TO_LIMIT = 500
URL_LIMIT = 1000
PACK_LIMIT = 30
MAX_SECONDS = 600
MAX_REPS = 100
MAX_CUSTOM = 100  # a workspace's own exercises, all packs together
KEY_PREFIX = "x-"  # custom keys never clash with the built-in ones
_PACK = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")
_SLUG_DROP = re.compile(r"[^a-z0-9]+")
# Echoed text must never ping or link: Slack's `<...>` markup and @mentions become look-alikes,
# and a word joiner after `.` and `:` between characters keeps `example.com` and `https://x`
# from being turned into links (Slack and Teams link bare addresses).
_NEUTRALISE = str.maketrans({"<": "‹", ">": "›", "&": "＆", "@": "@\u2060", "[": "［", "]": "］"})
_LINKABLE = re.compile(r"(?<=\S)([.:])(?=\S)")


def shown(text: str) -> str:
    """User text made safe to post in a channel: it reads the same, but cannot ping or link."""
    return _LINKABLE.sub("\\1\u2060", text.translate(_NEUTRALISE))


@dataclass(frozen=True)
class CustomExercise:
    """An exercise a workspace added: in its main catalog, or in a named pack."""

    key: str  # "x-chin-tucks": stored with each nudge like a built-in key
    name: str
    how_to: str
    amount: int
    unit: Unit
    position: CustomPosition
    image_url: str | None = None
    pack: str | None = None  # None: the workspace's catalog; else only channels using the pack
    created_by: str = ""

    @property
    def dose(self) -> str:
        if self.unit == "seconds":
            return ngettext("{n} second", "{n} seconds", self.amount).format(n=self.amount)
        return ngettext("{n} rep", "{n} reps", self.amount).format(n=self.amount)

    def exercise(self) -> Exercise:
        """The exercise as nudges show it: its texts unable to ping or link."""
        return Exercise(
            key=self.key,
            name=shown(self.name),
            how_to=shown(self.how_to),
            dose=self.dose,
            position=self.position,
            image_url=self.image_url,
        )


@dataclass(frozen=True)
class WorkspaceExercises:
    """What a workspace changed about its exercises: its own ones, the built-ins it turned off,
    and the channels that use a pack."""

    custom: tuple[CustomExercise, ...] = ()
    off: frozenset[str] = frozenset()
    channel_packs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def changed(self) -> bool:
        return bool(self.custom or self.off or self.channel_packs)

    def packs(self) -> list[str]:
        return sorted({e.pack for e in self.custom if e.pack})

    def catalog(self, channel_id: str | None = None) -> list[Exercise]:
        """The exercises nudges in the channel pick from: its pack's, or the built-ins not
        turned off plus the workspace's own (outside packs). Never empty: a pack with no
        exercises, or a catalog with everything off, is the built-in catalog."""
        pack = self.channel_packs.get(channel_id) if channel_id else None
        return list(self._catalogs.get(pack) or CATALOG)

    @cached_property
    def _catalogs(self) -> dict[str | None, tuple[Exercise, ...]]:
        """Each catalog built once (a scheduler pass asks for one per due channel): by pack,
        None for the workspace's main one."""
        shown_custom = [(e.pack, e.exercise()) for e in self.custom]
        catalogs: dict[str | None, list[Exercise]] = {
            None: [e for e in CATALOG if e.key not in self.off]
        }
        for pack, exercise in shown_custom:
            catalogs.setdefault(pack, []).append(exercise)
        return {pack: tuple(exercises) for pack, exercises in catalogs.items()}

    def find(self, key: str) -> Exercise | None:
        """The exercise stored as `key` in a nudge (built-in or this workspace's), or None."""
        for custom in self.custom:
            if custom.key == key:
                return custom.exercise()
        return find_exercise(key)


NO_CHANGES = WorkspaceExercises()


class ExerciseRepository(Protocol):
    """Where a workspace's exercises are kept (per platform and team)."""

    async def load(self, *, platform: str, team_id: str) -> WorkspaceExercises: ...

    async def load_many(
        self, teams: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], WorkspaceExercises]:
        """`load` for many (platform, team_id) at once; a workspace with no changes may be
        left out."""
        ...

    async def add(self, *, platform: str, team_id: str, exercise: CustomExercise) -> bool:
        """Store a new exercise; False (nothing stored) when its key or name (in any case) is
        taken in the workspace or it has MAX_CUSTOM already."""
        ...

    async def switch_builtin(
        self, *, platform: str, team_id: str, key: str, on: bool, by: str
    ) -> bool:
        """Turn a built-in exercise on or off; True when that changed something."""
        ...

    async def use_pack(
        self, *, platform: str, team_id: str, channel_id: str, pack: str | None
    ) -> None:
        """The channel picks from `pack` from now on (None: the workspace's catalog)."""
        ...

    async def replace(
        self,
        *,
        platform: str,
        team_id: str,
        exercises: Sequence[CustomExercise],
        off: frozenset[str],
        by: str,
    ) -> None:
        """Make the workspace's own exercises and its built-ins turned off exactly these, in
        one transaction (an import); channel packs stay."""
        ...


# ---- checking what people type ----------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """What someone typed for a new exercise, not checked yet (texts as given)."""

    name: str
    how_to: str
    amount: str  # "30"
    unit: str  # "seconds" | "reps"
    position: str  # "seated" | "standing"
    image_url: str = ""
    pack: str = ""


DraftField = Literal["name", "how_to", "amount", "unit", "position", "image_url", "pack"]


def _clean(text: str) -> str:
    """Spaces trimmed and collapsed; control and format characters (zero-width, bidi) gone."""
    kept = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in text
        if unicodedata.category(ch)[0] != "C" or ch in "\t\r\n"
    )
    return " ".join(kept.split())


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return _SLUG_DROP.sub("-", ascii_name).strip("-")[:40].strip("-") or "exercise"


def check_draft(draft: Draft) -> tuple[CustomExercise | None, dict[DraftField, str]]:
    """The exercise a draft makes (its key still to be chosen), or what is wrong with each
    field, in words for the person who typed it."""
    errors: dict[DraftField, str] = {}
    name = _clean(draft.name)
    if not name:
        errors["name"] = _("Give the exercise a name.")
    elif len(name) > NAME_LIMIT:
        errors["name"] = _(
            "A name can have at most {limit} characters (this one has {count})."
        ).format(limit=NAME_LIMIT, count=len(name))
    how_to = _clean(draft.how_to)
    if not how_to:
        errors["how_to"] = _("Say in a sentence or two how to do it.")
    elif len(how_to) > HOW_TO_LIMIT:
        errors["how_to"] = _(
            "The how-to can have at most {limit} characters (this one has {count})."
        ).format(limit=HOW_TO_LIMIT, count=len(how_to))
    unit = draft.unit.strip().lower()
    if unit in ("second", "secs", "sec", "s"):
        unit = "seconds"
    if unit in ("rep", "repetitions", "times"):
        unit = "reps"
    amount_text = draft.amount.strip()
    amount = int(amount_text) if amount_text.isascii() and amount_text.isdigit() else 0
    if unit not in ("seconds", "reps"):
        errors["unit"] = _("Choose seconds or reps.")
    else:
        top = MAX_SECONDS if unit == "seconds" else MAX_REPS
        if not 1 <= amount <= top:
            errors["amount"] = _("Use a whole number from 1 to {top}.").format(top=top)
    position = draft.position.strip().lower()
    if position not in ("seated", "standing"):
        errors["position"] = _("Choose seated or standing.")
    image_url = draft.image_url.strip()
    if image_url:
        problem = url_problem(image_url)
        if problem:
            errors["image_url"] = problem
    pack = draft.pack.strip().lower()
    if pack and not _PACK.match(pack):
        errors["pack"] = _(
            "A pack name is 1 to {limit} lowercase letters, digits or dashes, like `physio`."
        ).format(limit=PACK_LIMIT)
    if errors:
        return None, errors
    return (
        CustomExercise(
            key="",
            name=name,
            how_to=how_to,
            amount=amount,
            unit="seconds" if unit == "seconds" else "reps",
            position="seated" if position == "seated" else "standing",
            image_url=image_url or None,
            pack=pack or None,
        ),
        {},
    )


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an exercise's picture, or None: Slack and Teams fetch pictures
    themselves, only over https, from a public host."""
    if len(url) > URL_LIMIT:
        return _("An image address can have at most {limit} characters.").format(limit=URL_LIMIT)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return _("The image address must start with https:// (Slack and Teams show no others).")
    if not host or parts.scheme.lower() != "https":
        return _("The image address must start with https:// (Slack and Teams show no others).")
    if any(ch.isspace() for ch in url) or parts.username or parts.password:
        return _("That is not an image address I can use: no spaces and no user name in it.")
    return None


def pack_name(text: str) -> str | None:
    """`text` as a pack name, or None when it cannot be one."""
    text = text.strip().lower()
    return text if _PACK.match(text) else None


def with_key(exercise: CustomExercise, taken: set[str]) -> CustomExercise:
    """The exercise with a key made from its name that is not in `taken`."""
    base = KEY_PREFIX + slug(exercise.name)
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return CustomExercise(
        key=key,
        name=exercise.name,
        how_to=exercise.how_to,
        amount=exercise.amount,
        unit=exercise.unit,
        position=exercise.position,
        image_url=exercise.image_url,
        pack=exercise.pack,
        created_by=exercise.created_by,
    )


def builtin_by_name(text: str) -> Exercise | None:
    """The built-in exercise `text` names: its key (`heel-lifts`), its name, or the start of
    its name (`lunges`, `Heel lifts`), in any case."""
    wanted = " ".join(text.lower().replace("_", "-").split())
    for exercise in CATALOG:
        if wanted in (exercise.key, exercise.name.lower(), exercise.key.replace("-", " ")):
            return exercise
    starts = [e for e in CATALOG if e.name.lower().startswith(wanted)] if wanted else []
    return starts[0] if len(starts) == 1 else None
