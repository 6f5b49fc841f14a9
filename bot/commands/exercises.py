"""`/stretch exercises [add | off NAME | on NAME | pack [NAME|off]]`: the catalog nudges here
pick from, a workspace's own exercises (added through a form), built-ins turned off or on,
and a named pack for one channel."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Button, Call, CommandBase, Reply, Word
from bot.custom_exercises import builtin_by_name, pack_name
from bot.exercise_service import listing
from bot.exercises import Exercise
from bot.grammar import Args, Invalid, quote
from bot.i18n import N_, _

USAGE = "/stretch exercises [add | off NAME | on NAME | pack NAME|off]"


@dataclass(frozen=True)
class ListExercisesCommand(CommandBase):
    """`/stretch exercises`: the catalog in use here, only to the person."""

    read_only = True

    async def run(self, call: Call) -> Reply:
        workspace = await call.services.exercises.workspace(call.key)
        return Reply(
            listing(workspace, call.key.channel_id),
            buttons=(Button(_("Add an exercise"), "exercises add", style="primary"),),
        )


@dataclass(frozen=True)
class AddExerciseCommand(CommandBase):
    """`/stretch exercises add`: the add form (a Slack modal); elsewhere, how to add one."""

    changes_schedule = True  # `admins-only` applies

    async def run(self, call: Call) -> Reply:
        return Reply(
            _(
                "Adding an exercise takes a form: it opens in Slack with `/stretch exercises "
                "add` (if it did not open just now, try again). An admin can also keep the list "
                "in a file: `stretchbot exercises import FILE.yaml --team {team}`."
            ).format(team=call.key.team_id),
            exercise_form=True,
        )


@dataclass(frozen=True)
class SwitchExerciseCommand(CommandBase):
    """`/stretch exercises off NAME` / `on NAME`: a built-in, for the whole workspace."""

    exercise: Exercise
    on: bool

    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        changed = await call.services.exercises.switch(
            call.key, self.exercise, on=self.on, by=call.ctx.user_id
        )
        call.services.log(
            "exercises.switch",
            call.key,
            exercise=self.exercise.key,
            on=self.on,
            by=call.ctx.user_id,
        )
        if not changed:
            text = (
                _("*{name}* is on already.") if self.on else _("*{name}* is off already.")
            ).format(name=self.exercise.name)
            return Reply(text)
        text = (
            _("nudges in this workspace can suggest *{name}* again.")
            if self.on
            else _("nudges in this workspace will no longer suggest *{name}*.")
        ).format(name=self.exercise.name)
        return Reply(await call.addressed(text), public=True)


@dataclass(frozen=True)
class PackCommand(CommandBase):
    """`/stretch exercises pack [NAME|off]`: the pack this channel picks from."""

    pack: str | None  # None: back to the workspace's catalog
    show: bool = False

    @property
    def read_only(self) -> bool:  # type: ignore[override]
        return self.show

    @property
    def changes_schedule(self) -> bool:  # type: ignore[override]
        return not self.show  # `admins-only` applies to choosing, not to asking

    async def run(self, call: Call) -> Reply:
        workspace = await call.services.exercises.workspace(call.key)
        current = workspace.channel_packs.get(call.key.channel_id)
        if self.show:
            packs = ", ".join(f"`{p}`" for p in workspace.packs()) or _("none yet")
            text = (
                _("This channel uses the pack `{pack}`.").format(pack=current)
                if current
                else _("This channel uses the workspace's exercises, no pack.")
            )
            return Reply(text + " " + _("Packs: {packs}.").format(packs=packs))
        if self.pack is not None and self.pack not in workspace.packs():
            return Reply(
                _(
                    "No exercise is in a pack called `{pack}` yet. Add one with the pack field "
                    "set to `{pack}` (`/stretch exercises add`), then choose it here."
                ).format(pack=self.pack)
            )
        await call.services.exercises.use_pack(call.key, self.pack)
        call.services.log("exercises.pack", call.key, pack=self.pack or "", by=call.ctx.user_id)
        text = (
            _("nudges here now pick from the pack `{pack}`.").format(pack=self.pack)
            if self.pack
            else _("nudges here pick from the workspace's exercises again.")
        )
        return Reply(await call.addressed(text), public=True)


def parse(
    args: Args,
) -> ListExercisesCommand | AddExerciseCommand | SwitchExerciseCommand | PackCommand:
    tokens = args.lowered
    if not tokens:
        return ListExercisesCommand()
    first, rest = tokens[0], args.tokens[1:]
    if first == "add":
        if rest:
            raise Invalid(
                _("`exercises add` opens a form: type nothing after it (I got {text}).").format(
                    text=quote(" ".join(rest))
                ),
                USAGE,
            )
        return AddExerciseCommand()
    if first in ("on", "off"):
        name = " ".join(rest)
        if not name:
            raise Invalid(
                _("Say which exercise, like `exercises {word} lunges`.").format(word=first), USAGE
            )
        exercise = builtin_by_name(name)
        if exercise is None:
            raise Invalid(
                _(
                    "{name} is not one of the built-in exercises (`/stretch exercises` lists "
                    "them with their keys, like `heel-lifts`)."
                ).format(name=quote(name)),
                USAGE,
            )
        return SwitchExerciseCommand(exercise, on=first == "on")
    if first == "pack":
        if not rest:
            return PackCommand(None, show=True)
        if len(rest) == 1 and rest[0].lower() == "off":
            return PackCommand(None)
        pack = pack_name(" ".join(rest)) if len(rest) == 1 else None
        if pack is None:
            raise Invalid(
                _(
                    "A pack name is one word of lowercase letters, digits or dashes (I got {text})."
                ).format(text=quote(" ".join(rest))),
                USAGE,
            )
        return PackCommand(pack)
    raise Invalid(
        _("I didn't understand {text}.").format(text=quote("exercises " + " ".join(args.tokens))),
        USAGE,
    )


WORDS = [
    Word(
        names=("exercises", "exercise"),
        usage=USAGE,
        help=N_(
            "`/stretch exercises [add | off NAME | on NAME | pack NAME]`: the exercises "
            "nudges pick from; add your own, turn built-ins off, use a pack here"
        ),
        parse=parse,
        summary="exercises",
    )
]
