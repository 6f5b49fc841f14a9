"""`/stretch goal [70%|off]`: the channel's team goal (a share of the people who moved in the
last two weeks who must move on a scheduled day), shown or set."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, Invalid, quote
from bot.i18n import N_, _
from bot.team_replies import goal_text, team_streak_text, today_text
from bot.teamgoal import GOAL_OFF, MAX_GOAL_PERCENT, MIN_GOAL_PERCENT

USAGE = "/stretch goal [70%|off]"
_PERCENT = re.compile(r"(\d{1,3})\s*%?", re.ASCII)


@dataclass(frozen=True)
class ShowGoalCommand(CommandBase):
    """`/stretch goal`: the goal, today's progress and the team streak."""

    read_only = True

    async def run(self, call: Call) -> Reply:
        summary = await call.services.team.summary(call.channel, call.now)
        lines = [goal_text(summary.goal_percent)]
        if summary.goal_percent is not None:
            if summary.today is not None:
                lines.append(today_text(summary.today))
            lines.append(team_streak_text(summary.team_streak))
        return Reply("\n".join(lines))


@dataclass(frozen=True)
class SetGoalCommand(CommandBase):
    """`/stretch goal 70%` or `/stretch goal off`."""

    percent: int  # GOAL_OFF: off

    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        await call.services.storage.channels.save(
            replace(call.channel, team_goal=self.percent, updated_by=call.ctx.user_id)
        )
        call.services.log("channel.goal", call.key, percent=self.percent, by=call.ctx.user_id)
        if self.percent == GOAL_OFF:
            text = _("the team goal is off here. `/stretch goal 50%` turns it back on.")
        else:
            text = _(
                "the team goal is now {share}: a scheduled day counts for the team when at "
                "least {share} of the people who moved in the last two weeks take a break "
                "that day."
            ).format(share=f"{self.percent}%")
        return Reply(await call.addressed(text), public=True)


def parse(args: Args) -> ShowGoalCommand | SetGoalCommand:
    tokens = args.lowered
    if not tokens:
        return ShowGoalCommand()
    if tokens == ("off",):
        return SetGoalCommand(GOAL_OFF)
    match = _PERCENT.fullmatch(" ".join(tokens))
    if match is not None:
        value = int(match.group(1))
        if MIN_GOAL_PERCENT <= value <= MAX_GOAL_PERCENT:
            return SetGoalCommand(value)
        raise Invalid(
            _("A team goal is between {low}% and {high}% (I got {value}%).").format(
                low=MIN_GOAL_PERCENT, high=MAX_GOAL_PERCENT, value=value
            ),
            USAGE,
        )
    raise Invalid(
        _("I didn't understand {text}: say a share like `goal 70%`, or `goal off`.").format(
            text=quote("goal " + " ".join(args.tokens))
        ),
        USAGE,
    )


WORDS = [
    Word(
        names=("goal",),
        usage=USAGE,
        help=N_(
            "`/stretch goal [70% | off]`: the team goal: a day counts when that share of "
            "this fortnight's movers take a break"
        ),
        parse=parse,
        summary="goal 70%",
    )
]
