"""The custom exercise use cases: listing a channel's catalog, adding an exercise, turning
built-ins off and on, choosing a channel's pack, importing and exporting a workspace's file,
and the catalogs the nudge picker reads."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.custom_exercises import (
    KEY_PREFIX,
    MAX_CUSTOM,
    NO_CHANGES,
    CustomExercise,
    Draft,
    DraftField,
    WorkspaceExercises,
    check_draft,
    shown,
    with_key,
)
from bot.exercise_files import ExerciseFile, read_file, write_file
from bot.exercises import CATALOG, Exercise, find_exercise
from bot.i18n import _
from bot.ports import ChannelKey, Storage

logger = logging.getLogger("stretchbot.services.exercises")

Team = tuple[str, str]


@dataclass(frozen=True)
class AddOutcome:
    """What adding an exercise did: the exercise stored, or the problem per field."""

    exercise: CustomExercise | None
    errors: dict[DraftField, str] = field(default_factory=dict)


class ExerciseService:
    """A workspace's exercises over `storage.exercises`."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def workspace(self, key: ChannelKey) -> WorkspaceExercises:
        return await self.storage.exercises.load(platform=key.platform, team_id=key.team_id)

    async def catalogs(
        self,
        channels: Sequence[ChannelKey],
        known: dict[Team, WorkspaceExercises] | None = None,
    ) -> dict[Team, WorkspaceExercises]:
        """The exercise changes of the channels' workspaces, for the picker; workspaces already
        in `known` (the scheduler pass's earlier batches) are not read again, and what is read
        is added to it. A failed read never stops a nudge: then those channels pick from the
        built-in catalog."""
        known = {} if known is None else known
        teams = sorted({(key.platform, key.team_id) for key in channels} - set(known))
        if not teams:
            return known
        try:
            found = await self.storage.exercises.load_many(teams)
        except Exception:
            logger.exception("exercises.read_failed workspaces=%d: built-ins only", len(teams))
            return known
        for team in teams:
            known[team] = found.get(team, NO_CHANGES)
        return known

    @staticmethod
    def catalog_of(
        catalogs: dict[Team, WorkspaceExercises], key: ChannelKey
    ) -> list[Exercise] | None:
        """The channel's catalog from `catalogs`; None: the built-in one (nothing changed)."""
        workspace = catalogs.get((key.platform, key.team_id), NO_CHANGES)
        return workspace.catalog(key.channel_id) if workspace.changed else None

    async def find(self, key: ChannelKey, exercise_key: str) -> Exercise | None:
        """The exercise a nudge in the channel was posted with (built-in or the workspace's)."""
        if not exercise_key.startswith(KEY_PREFIX):
            return find_exercise(exercise_key)
        return (await self.workspace(key)).find(exercise_key)

    async def add(self, key: ChannelKey, draft: Draft, *, by: str) -> AddOutcome:
        """Check and store a new exercise in the channel's workspace; nothing is stored when
        anything is wrong."""
        exercise, errors = check_draft(draft)
        if exercise is None:
            return AddOutcome(None, errors)
        workspace = await self.workspace(key)
        if any(e.name.casefold() == exercise.name.casefold() for e in workspace.custom):
            return AddOutcome(None, {"name": _("This workspace has an exercise with that name.")})
        if len(workspace.custom) >= MAX_CUSTOM:
            return AddOutcome(
                None,
                {
                    "name": _(
                        "This workspace has {limit} exercises of its own, the most it can."
                    ).format(limit=MAX_CUSTOM)
                },
            )
        exercise = replace(with_key(exercise, {e.key for e in workspace.custom}), created_by=by)
        stored = await self.storage.exercises.add(
            platform=key.platform, team_id=key.team_id, exercise=exercise
        )
        if not stored:  # someone added the same name at the same moment
            return AddOutcome(None, {"name": _("This workspace has an exercise with that name.")})
        return AddOutcome(exercise)

    async def switch(self, key: ChannelKey, exercise: Exercise, *, on: bool, by: str) -> bool:
        """Turn a built-in exercise on or off in the workspace; True when that changed it."""
        return await self.storage.exercises.switch_builtin(
            platform=key.platform, team_id=key.team_id, key=exercise.key, on=on, by=by
        )

    async def use_pack(self, key: ChannelKey, pack: str | None) -> None:
        await self.storage.exercises.use_pack(
            platform=key.platform, team_id=key.team_id, channel_id=key.channel_id, pack=pack
        )

    async def import_file(self, *, platform: str, team_id: str, text: str) -> ExerciseFile:
        """Replace the workspace's own exercises and switched-off built-ins with the file's;
        a file with any error changes nothing (its `errors` say why, one per bad line)."""
        parsed = read_file(text)
        if parsed.errors:
            return parsed
        await self.storage.exercises.replace(
            platform=platform,
            team_id=team_id,
            exercises=[replace(e, created_by="import") for e in parsed.exercises],
            off=frozenset(parsed.off),
            by="import",
        )
        return parsed

    async def export_file(self, *, platform: str, team_id: str) -> str:
        return write_file(await self.storage.exercises.load(platform=platform, team_id=team_id))


def listing(workspace: WorkspaceExercises, channel_id: str) -> str:
    """The catalog a channel uses, in words: for `/stretch exercises`."""
    pack = workspace.channel_packs.get(channel_id)
    lines: list[str] = []
    if pack is not None:
        mine = [e for e in workspace.custom if e.pack == pack]
        lines.append(
            _("This channel uses the pack `{pack}` ({count} exercises):").format(
                pack=pack, count=len(mine)
            )
            if mine
            else _(
                "This channel uses the pack `{pack}`, which has no exercises yet, so nudges "
                "pick from the built-in ones."
            ).format(pack=pack)
        )
        lines += [_line(e.exercise(), custom=True) for e in mine]
    else:
        lines.append(_("Exercises nudges here pick from:"))
        for exercise in CATALOG:
            if exercise.key not in workspace.off:
                lines.append(_line(exercise, custom=False))
        own = [e for e in workspace.custom if e.pack is None]
        lines += [_line(e.exercise(), custom=True) for e in own]
        off = [e for e in CATALOG if e.key in workspace.off]
        if off:
            lines.append(
                _("Turned off: {names}.").format(names=", ".join(f"`{e.key}`" for e in off))
            )
    packs = workspace.packs()
    if packs:
        lines.append(
            _("Packs in this workspace: {packs}.").format(packs=", ".join(f"`{p}`" for p in packs))
        )
    lines.append(
        _(
            "`/stretch exercises add` adds one, `/stretch exercises off NAME` / `on NAME` turns "
            "a built-in off or on, `/stretch exercises pack NAME` (or `pack off`) picks a pack "
            "for this channel."
        )
    )
    return "\n".join(lines)


def _line(exercise: Exercise, *, custom: bool) -> str:
    where = {"seated": _("seated"), "standing": _("standing")}.get(
        exercise.position, _("on the floor")
    )
    mark = _(" (added here)") if custom else ""
    name = exercise.name if custom else shown(exercise.name)
    return f"• *{name}*{mark}: {exercise.dose}, {where} (`{exercise.key}`)"
