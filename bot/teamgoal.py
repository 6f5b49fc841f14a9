"""Team rules: the daily team goal and its streak, and the fair board's "most improved" and
"regulars" (everyone who moved on enough days).

Pure: no I/O. Days are local dates in the channel's timezone; `movers_by_day` maps each day to
the people who logged at least one break that day.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.leaderboard import MAX_STREAK_DAYS

# Half of the people who moved in the last two weeks. A new channel reaches it on its first
# day: with one mover the goal is that person moving (1 of 1); with 3 recent movers, 2 must
# move; the trial the feature follows counted goal days, not perfect days.
DEFAULT_GOAL_PERCENT = 50
MIN_GOAL_PERCENT = 10
MAX_GOAL_PERCENT = 100
GOAL_OFF = 0  # stored for `/stretch goal off`
ACTIVE_WINDOW_DAYS = 14  # "the people who moved in the last two weeks", ending that day
DEFAULT_FREEZES = 1  # freezes per person per calendar week
MAX_FREEZES = 2
REGULAR_DAYS = 3  # "moved on at least 3 days this week" (fewer for schedules with fewer days)

MoversByDay = Mapping[date, Collection[str]]


@dataclass(frozen=True)
class GoalDay:
    """One day measured against the team goal."""

    day: date
    movers: int  # people with a break that day
    active: int  # people with a break in the 14 days ending that day
    needed: int  # movers the goal asks for (0 when nobody was active)
    met: bool


@dataclass(frozen=True)
class SlotSuggestion:
    """A slot that stayed far below the channel's average (see bot.insights)."""

    wall: str  # 'HH:MM' in the channel's timezone
    slot_share: float  # its share of answered nudges over the two weeks
    channel_share: float  # the channel's share over the same two weeks


@dataclass(frozen=True)
class TeamExtras:
    """What a board shows besides the ranking: the team goal and who else to name.

    Attributes:
        goal_percent: the goal (None: the channel turned it off).
        team_streak: consecutive scheduled days the team met the goal, back from today.
        week: this week's scheduled days so far, each against the goal (empty when off).
        most_improved: the people with the biggest gain over their last week (ties all named).
        improved_by: that gain (breaks).
        regulars: people who moved on at least `regular_days` days this week.
        regular_days: the N of "at least N days" (0: no scheduled day this week).
        suggestions: slots the weekly post suggests moving or dropping.
    """

    goal_percent: int | None
    team_streak: int = 0
    week: tuple[GoalDay, ...] = ()
    most_improved: tuple[str, ...] = ()
    improved_by: int = 0
    regulars: tuple[str, ...] = ()
    regular_days: int = 0
    suggestions: tuple[SlotSuggestion, ...] = field(default=())

    @property
    def goal_days_this_week(self) -> int:
        return sum(1 for day in self.week if day.met)


def goal_percent_of(stored: int) -> int | None:
    """The channel's goal from its stored value (0: off)."""
    return None if stored == GOAL_OFF else stored


def needed_movers(active: int, percent: int) -> int:
    """How many people must move for `percent` of `active` people (rounded up; at least one
    when anyone was active)."""
    if active <= 0:
        return 0
    return max(1, -(-active * percent // 100))


def active_people(movers_by_day: MoversByDay, day: date) -> set[str]:
    """People with a break in the `ACTIVE_WINDOW_DAYS` days ending with `day` (inclusive)."""
    people: set[str] = set()
    for back in range(ACTIVE_WINDOW_DAYS):
        people.update(movers_by_day.get(day - timedelta(days=back), ()))
    return people


def goal_day(movers_by_day: MoversByDay, day: date, percent: int) -> GoalDay:
    """`day` measured against the goal: met when at least `percent` of the people active in
    the two weeks ending that day moved that day (and somebody did)."""
    movers = len(movers_by_day.get(day, ()))
    active = len(active_people(movers_by_day, day))
    needed = needed_movers(active, percent)
    return GoalDay(day, movers, active, needed, met=movers > 0 and movers >= needed)


def team_streak(
    movers_by_day: MoversByDay,
    *,
    today: date,
    is_scheduled_day: Callable[[date], bool],
    percent: int,
) -> int:
    """Consecutive scheduled days on which the team met the goal, counted back from `today`.

    Like a personal streak: non-scheduled days are skipped, and today not met (yet) does not
    break it. The walk stops at the channel's first break day.
    """
    days_with_breaks = [day for day, people in movers_by_day.items() if people and day <= today]
    if not days_with_breaks:
        return 0
    earliest = min(days_with_breaks)
    streak = 0
    if is_scheduled_day(today) and goal_day(movers_by_day, today, percent).met:
        streak = 1
    day = today
    for _step in range(MAX_STREAK_DAYS):
        day -= timedelta(days=1)
        if day < earliest:
            break
        if not is_scheduled_day(day):
            continue
        if not goal_day(movers_by_day, day, percent).met:
            break
        streak += 1
    return streak


def week_goal_days(
    movers_by_day: MoversByDay,
    *,
    week_of: date,
    today: date,
    is_scheduled_day: Callable[[date], bool],
    percent: int,
) -> tuple[GoalDay, ...]:
    """The scheduled days of `week_of`'s calendar week up to `today`, against the goal."""
    monday = week_of - timedelta(days=week_of.weekday())
    days = (monday + timedelta(days=n) for n in range(7))
    return tuple(
        goal_day(movers_by_day, day, percent)
        for day in days
        if day <= today and is_scheduled_day(day)
    )


def most_improved(
    this_week: Mapping[str, int], last_week: Mapping[str, int]
) -> tuple[tuple[str, ...], int]:
    """The people with the most breaks this week over their previous week's count, and that
    gain. Everyone tied is named; nobody when no one improved."""
    gains = {person: count - last_week.get(person, 0) for person, count in this_week.items()}
    best = max(gains.values(), default=0)
    if best < 1:
        return (), 0
    return tuple(sorted(person for person, gain in gains.items() if gain == best)), best


def regular_days_needed(scheduled_days_in_week: int) -> int:
    """The N of "moved on at least N days": `REGULAR_DAYS`, or every scheduled day of a week
    with fewer."""
    return min(REGULAR_DAYS, scheduled_days_in_week)


def regulars(days_moved: Mapping[str, int], needed: int) -> tuple[str, ...]:
    """People who moved on at least `needed` days (most days first, then by id)."""
    if needed <= 0:
        return ()
    chosen = [(person, days) for person, days in days_moved.items() if days >= needed]
    chosen.sort(key=lambda item: (-item[1], item[0]))
    return tuple(person for person, _days in chosen)
