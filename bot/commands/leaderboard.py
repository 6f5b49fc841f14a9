"""`/stretch leaderboard [week|month|all]` posts the channel's board; `/stretch leaderboard
weekly on|off` switches the Friday board."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot import rules
from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, Invalid, quote
from bot.i18n import N_, _
from bot.leaderboard import Period
from bot.replies import board_lines, post_problem

USAGE = "/stretch leaderboard [week|month|all]  or  /stretch leaderboard weekly on|off"
_PERIODS: dict[str, Period] = {
    "week": "week",
    "month": "month",
    "all": "all",
    "all-time": "all",
    "alltime": "all",
}


@dataclass(frozen=True)
class LeaderboardCommand(CommandBase):
    period: Period = "week"

    async def run(self, call: Call) -> Reply | None:
        boards = call.services.boards
        board = await boards.build_board(call.key, self.period, state=call.channel)
        if board.entries and await call.take_cooldown("leaderboard") is not None:
            # Posted here a moment ago: this one goes to the person only, so a channel never
            # gets a stream of boards that each mention everyone.
            return Reply(
                "\n".join(
                    [
                        _("I posted a board here a moment ago, so here it is just for you:"),
                        *board_lines(board),
                    ]
                )
            )
        if not board.entries:
            return Reply(
                {
                    "week": _(
                        "No breaks logged here this week yet. React ✅ to a nudge to get on the board."
                    ),
                    "month": _(
                        "No breaks logged here this month yet. React ✅ to a nudge to get on the board."
                    ),
                    "all": _(
                        "No breaks logged here so far yet. React ✅ to a nudge to get on the board."
                    ),
                }[self.period]
            )
        result = await boards.post_board(call.key, board)
        if result.ok:
            return None
        await call.release_cooldown("leaderboard")
        return Reply(post_problem(result))


@dataclass(frozen=True)
class WeeklyBoardCommand(CommandBase):
    """`/stretch leaderboard weekly on|off`."""

    enabled: bool

    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        state = call.channel
        next_board = (
            rules.next_weekly_board_after(call.tz, call.now)
            if self.enabled and state.enabled
            else None
        )
        await call.services.storage.channels.save(
            replace(
                state,
                weekly_board=self.enabled,
                next_board_at=next_board,
                updated_by=call.ctx.user_id,
            )
        )
        if not self.enabled:
            text = _(
                "The weekly leaderboard is off here. `/stretch leaderboard` still posts one on "
                "demand."
            )
        elif state.enabled:
            text = _(
                "The weekly leaderboard is on: I'll post it here on Fridays at 16:00 (channel time)."
            )
        else:
            text = _(
                "The weekly leaderboard is on: I'll post it here on Fridays at 16:00 once this "
                "channel has a schedule."
            )
        return Reply(await call.addressed(text), public=True)


def parse(args: Args) -> LeaderboardCommand | WeeklyBoardCommand:
    tokens = args.lowered
    if not tokens:
        return LeaderboardCommand()
    if len(tokens) == 1 and tokens[0] in _PERIODS:
        return LeaderboardCommand(period=_PERIODS[tokens[0]])
    if tokens in (("weekly", "on"), ("weekly", "off")):
        return WeeklyBoardCommand(enabled=tokens[1] == "on")
    raise Invalid(
        _(
            "I didn't understand {text}: pick `week`, `month` or `all`, or turn the Friday board "
            "on or off with `leaderboard weekly on|off`."
        ).format(text=quote("leaderboard " + " ".join(tokens))),
        USAGE,
    )


WORDS = [
    Word(
        names=("leaderboard", "board", "lb"),
        usage=USAGE,
        help=N_(
            "`/stretch leaderboard [week | month | all]`: post the board here\n"
            "`/stretch leaderboard weekly on|off`: the Friday 16:00 board"
        ),
        parse=parse,
    )
]
