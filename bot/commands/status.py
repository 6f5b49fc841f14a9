"""`/stretch status`: the channel's schedule in words and its next few nudge times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot import rules
from bot.commands.base import Button, Call, CommandBase, Reply, Word
from bot.commands.settings import EDIT_SCHEDULE
from bot.grammar import Args, nothing_after
from bot.i18n import N_, _
from bot.replies import capitalize, sentence, when
from bot.schedules import next_slots
from bot.team_replies import (
    freezes_text,
    goal_text,
    insights_text,
    suggestion_texts,
    team_streak_text,
    today_text,
)

USAGE = "/stretch status"
STATUS_SLOTS = 5


@dataclass(frozen=True)
class StatusCommand(CommandBase):
    read_only = True

    async def run(self, call: Call) -> Reply:
        state, now = call.channel, call.now
        spec = state.spec
        if spec is None:
            return Reply(
                _(
                    "No schedule in this channel yet. Try `/stretch every 45m 09:00-17:00 "
                    "weekdays`, or `/stretch now` for a break right away."
                ),
                buttons=(Button(_("Set a schedule"), "settings", "primary"),),
            )
        if not state.enabled:
            return Reply(
                _(
                    "Scheduled nudges are off here (last schedule: {schedule}). "
                    "`/stretch resume` turns them back on."
                ).format(schedule=spec.describe()),
                buttons=(Button(_(EDIT_SCHEDULE), "settings"),),
            )
        lines = [_("Movement breaks here: {schedule}.").format(schedule=spec.describe())]
        pause_end = rules.pause_end(state, now)
        indefinite = rules.is_paused(state, now) and pause_end is None
        if indefinite:
            lines.append(_("Paused until someone types `/stretch resume`."))
        elif pause_end is not None:
            lines.append(_("Paused until {when}.").format(when=when(pause_end, spec.tz, now)))
        after = max(now, pause_end - timedelta(microseconds=1)) if pause_end else now
        skipped = [] if indefinite else rules.skipped_slots(state, now)
        if skipped:
            lines.append(
                _("Skipped: {times} (`/stretch resume` brings skipped nudges back).").format(
                    times=", ".join(when(s, spec.tz, now) for s in skipped)
                )
            )
            after = max(after, skipped[-1])
        upcoming = [] if indefinite else next_slots(spec, after, STATUS_SLOTS)
        if upcoming:
            lines.append(
                _("Next nudges: {times}.").format(
                    times=", ".join(when(s, spec.tz, now) for s in upcoming)
                )
            )
        extras = []
        if state.seated_only:
            extras.append(_("seated exercises only"))
        extras.append(
            _("weekly leaderboard Fridays 16:00")
            if state.weekly_board
            else _("no weekly leaderboard")
        )
        lines.append(sentence(capitalize("; ".join(extras))))
        lines.extend(await _team_lines(call))
        return Reply("\n".join(lines), buttons=(Button(_(EDIT_SCHEDULE), "settings"),))


async def _team_lines(call: Call) -> list[str]:
    """The team goal, its streak, streak freezes and slot insights."""
    summary = await call.services.team.summary(call.channel, call.now)
    lines = [goal_text(summary.goal_percent)]
    if summary.goal_percent is not None:
        if summary.today is not None:
            lines.append(today_text(summary.today))
        lines.append(team_streak_text(summary.team_streak))
    lines.append(sentence(capitalize(freezes_text(summary.freezes_per_week))))
    if summary.insights is not None:
        lines.append(insights_text(summary.insights))
    lines.extend(suggestion_texts(summary.suggestions))
    return lines


def parse(args: Args) -> StatusCommand:
    nothing_after(args, "status", USAGE)
    return StatusCommand()


WORDS = [
    Word(
        names=("status",),
        usage=USAGE,
        help=N_("`/stretch status`: this channel's schedule and the next nudges"),
        parse=parse,
    )
]
