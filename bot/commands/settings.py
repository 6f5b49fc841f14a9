"""`/stretch settings`: the channel's schedule as a form (a Slack modal, a Teams card) whose
submission runs the same commands as typing them (`every ...`, `seated on|off`, `leaderboard
weekly on|off`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Button, Call, CommandBase, Reply, Word
from bot.grammar import Args, nothing_after
from bot.i18n import N_, _

USAGE = "/stretch settings"
EDIT_SCHEDULE = N_("Edit schedule")


@dataclass(frozen=True)
class SettingsCommand(CommandBase):
    # Opening the form already needs the right to change the schedule (`admins-only`): a
    # form that can only be refused on submit would waste the person's time.
    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        form = await call.services.settings.form(call)
        return Reply(
            _(
                "Press the button to edit this channel's schedule, or type it: "
                "`/stretch every 45m 09:00-17:00 weekdays`."
            ),
            buttons=(Button(_(EDIT_SCHEDULE), "settings", "primary"),),
            form=form,
        )


def parse(args: Args) -> SettingsCommand:
    nothing_after(args, "settings", USAGE)
    return SettingsCommand()


WORDS = [
    Word(
        names=("settings", "setup", "edit"),
        usage=USAGE,
        help=N_("`/stretch settings`: edit this channel's schedule in a form"),
        parse=parse,
    )
]
