"""Wording of the team mechanics that more than one surface shows: the team goal and its streak,
freezes, most improved, the regulars, slot insights and suggestions. Texts use core markup
(`<@U123>` mentions); each platform renders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from bot.i18n import _, ngettext
from bot.insights import ChannelInsights
from bot.replies import sentence
from bot.teamgoal import GoalDay, SlotSuggestion, TeamExtras

MAX_NAMED = 100  # people named in one line of a board; the rest are counted


def percent(share: float) -> str:
    """0.4567 -> '46%'."""
    return f"{round(share * 100)}%"


def streak_text(days: int, freezes_used: int) -> str:
    """'12-day streak' or '12-day streak (1 freeze used)'."""
    text = ngettext("{days}-day streak", "{days}-day streak", days).format(days=days)
    if freezes_used:
        text += " " + ngettext(
            "({count} freeze used)", "({count} freezes used)", freezes_used
        ).format(count=freezes_used)
    return text


def freezes_text(count: int) -> str:
    if count == 0:
        return _("no streak freezes: every missed scheduled day ends a streak")
    return ngettext(
        "{count} streak freeze per person per week: a missed scheduled day is bridged "
        "automatically",
        "{count} streak freezes per person per week: missed scheduled days are bridged "
        "automatically",
        count,
    ).format(count=count)


def goal_text(goal_percent: int | None) -> str:
    if goal_percent is None:
        return _("No team goal here (`/stretch goal 50%` sets one).")
    return _(
        "Team goal: {share} of the people who moved in the last two weeks move on a scheduled day."
    ).format(share=f"{goal_percent}%")


def team_streak_text(days: int) -> str:
    if days == 0:
        return _("No team streak running yet.")
    return ngettext(
        "Team streak: {count} scheduled day in a row at the goal.",
        "Team streak: {count} scheduled days in a row at the goal.",
        days,
    ).format(count=days)


def today_text(today: GoalDay) -> str:
    """'Today: 2 of 3 moved (the goal needs 2) ✅'."""
    if today.active == 0:
        return _("Today: nobody has moved in the last two weeks yet; one break starts it.")
    text = ngettext(
        "Today: {movers} of {active} recent mover has moved (the goal needs {needed})",
        "Today: {movers} of {active} recent movers have moved (the goal needs {needed})",
        today.active,
    ).format(movers=today.movers, active=today.active, needed=today.needed)
    return text + " ✅" if today.met else sentence(text)


def week_goal_text(extras: TeamExtras) -> str:
    """The board's team line: goal days this week and the team streak."""
    if extras.goal_percent is None:
        return ""
    days = len(extras.week)
    text = ngettext(
        "🤝 Team goal ({percent}%) met on {met} of {days} scheduled day this week",
        "🤝 Team goal ({percent}%) met on {met} of {days} scheduled days this week",
        days,
    ).format(percent=extras.goal_percent, met=extras.goal_days_this_week, days=days)
    return text + ". " + team_streak_text(extras.team_streak)


def _names(people: Sequence[str]) -> str:
    shown = ", ".join(f"<@{person}>" for person in people[:MAX_NAMED])
    rest = len(people) - MAX_NAMED
    if rest > 0:
        shown += " " + ngettext("and {count} more", "and {count} more", rest).format(count=rest)
    return shown


def improved_text(extras: TeamExtras) -> str:
    if not extras.most_improved:
        return ""
    return ngettext(
        "📈 Most improved: {names} (+{gain} break on last week)",
        "📈 Most improved: {names} (+{gain} breaks on last week)",
        extras.improved_by,
    ).format(names=_names(extras.most_improved), gain=extras.improved_by)


def regulars_text(extras: TeamExtras) -> str:
    if not extras.regulars:
        return ""
    return ngettext(
        "🌱 Moved on {days}+ day this week: {names}",
        "🌱 Moved on {days}+ days this week: {names}",
        extras.regular_days,
    ).format(days=extras.regular_days, names=_names(extras.regulars))


def suggestion_texts(suggestions: Sequence[SlotSuggestion]) -> list[str]:
    """One suggestion per slot that stayed far below the channel's average."""
    return [
        _(
            "💡 The {wall} nudge got a break {slot} of the time in the last two weeks, against "
            "{channel} for the channel: consider moving or dropping it "
            "(`/stretch every ...` changes the schedule)."
        ).format(
            wall=suggestion.wall,
            slot=percent(suggestion.slot_share),
            channel=percent(suggestion.channel_share),
        )
        for suggestion in suggestions
    ]


def extras_lines(extras: TeamExtras) -> list[str]:
    """The team lines under a board's ranking, the empty ones left out."""
    lines = [
        week_goal_text(extras),
        improved_text(extras),
        regulars_text(extras),
        *suggestion_texts(extras.suggestions),
    ]
    return [line for line in lines if line]


def wall_text(wall: time) -> str:
    return f"{wall.hour:02d}:{wall.minute:02d}"


def insights_text(found: ChannelInsights) -> str:
    """'Breaks per nudge, last 4 weeks: 09:45 80%, 10:30 45%, ... (average 62%).'"""
    parts = [
        _("{wall} {share}").format(
            wall=wall_text(slot.wall),
            share=percent(slot.share) if slot.share is not None else "–",
        )
        for slot in found.slots
    ]
    if found.average is None:
        return _("Nudges with a break, last 4 weeks: none posted yet.")
    return _("Nudges with a break, last 4 weeks: {slots} (average {average}).").format(
        slots=", ".join(parts), average=percent(found.average)
    )
