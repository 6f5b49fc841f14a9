"""`/stretch stats`: your own breaks and streak in this channel, only to you; in a direct chat
with the bot, across all your channels."""

from __future__ import annotations

from dataclasses import dataclass

from bot.boards import PersonalFigures
from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, nothing_after
from bot.home import SpansWorkspaces
from bot.home_words import direct_stats_lines
from bot.i18n import N_, _, format_weekday, ngettext
from bot.replies import count_breaks, sentence

USAGE = "/stretch stats"


@dataclass(frozen=True)
class StatsCommand(CommandBase):
    read_only = True
    personal = True
    needs_channel = False

    async def run(self, call: Call) -> Reply:
        if call.ctx.direct:
            return await _across_channels(call)
        figures = await call.services.boards.personal_figures(call.channel, call.ctx.user_id)
        lines = [
            _(
                "Your breaks in this channel: {week} this week, {month} this month, {total} in all."
            ).format(
                week=count_breaks(figures.week),
                month=count_breaks(figures.month),
                total=count_breaks(figures.total),
            ),
            _streak_line(figures) if figures.streak else _no_streak(figures),
        ]
        return Reply("\n".join(lines))


def _streak_line(figures: PersonalFigures) -> str:
    """'Current streak: 12 scheduled days in a row (1 freeze used).'"""
    line = ngettext(
        "Current streak: {count} scheduled day in a row",
        "Current streak: {count} scheduled days in a row",
        figures.streak,
    ).format(count=figures.streak)
    if figures.freezes_used:
        line += " " + ngettext(
            "({count} freeze used)", "({count} freezes used)", figures.freezes_used
        ).format(count=figures.freezes_used)
    return sentence(line)


async def _across_channels(call: Call) -> Reply:
    chat = call.chat
    summary = await call.services.home.summary(
        platform=call.key.platform,
        team_id=call.key.team_id,
        person_id=call.ctx.user_id,
        member_of=None,  # a direct chat lists no channels: those where the person moved
        team_prefix=(
            chat.workspace_prefix(call.key.team_id) if isinstance(chat, SpansWorkspaces) else None
        ),
    )
    return Reply("\n".join(direct_stats_lines(summary)), home=summary)


def _no_streak(figures: PersonalFigures) -> str:
    if figures.today_counts:
        return _("No streak running yet: log a break today to start one.")
    if figures.next_day is None:
        return _("No streak running yet: streaks count the channel's scheduled days.")
    return _(
        "No streak running yet: streaks count the channel's scheduled days, and today isn't "
        "one. Your next chance is {day}."
    ).format(day=format_weekday(figures.next_day))


def parse(args: Args) -> StatsCommand:
    nothing_after(args, "stats", USAGE)
    return StatsCommand()


WORDS = [
    Word(
        names=("stats",),
        usage=USAGE,
        help=N_("`/stretch stats`: your own breaks and streak (only you see it)"),
        parse=parse,
    )
]
