"""The team view of a channel: its goal and goal streak, forgiving personal streaks, slot
insights, the fair week board (most improved, regulars) and the weekly chart's data.

One read of the channel's break times (every person, the streak look-back plus two weeks)
serves all of it, so the week board costs about what the plain board does.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import insights, leaderboard, schedules, teamgoal
from bot.charts import ChartDay, WeekChart
from bot.insights import ChannelInsights
from bot.ports import Board, ChannelState, Storage
from bot.teamgoal import GoalDay, SlotSuggestion, TeamExtras
from bot.workspaces import Tenancy

Clock = Callable[[], datetime]

STREAK_LOOKBACK = timedelta(days=400)  # as bot.boards: how far back streaks look
HISTORY = STREAK_LOOKBACK + timedelta(days=teamgoal.ACTIVE_WINDOW_DAYS)


@dataclass(frozen=True)
class TeamSummary:
    """What `/stretch status` and the Home tab show of the team side of a channel.

    Attributes:
        goal_percent: the team goal (None: off).
        team_streak: consecutive scheduled days the goal was met, back from today.
        today: today against the goal (None: goal off or today not scheduled).
        freezes_per_week: streak freezes each person gets per calendar week.
        insights: each slot's answered share over four weeks (None: no schedule).
        suggestions: slots that stayed far below the channel's average for two weeks.
    """

    goal_percent: int | None
    team_streak: int
    today: GoalDay | None
    freezes_per_week: int
    insights: ChannelInsights | None
    suggestions: tuple[SlotSuggestion, ...] = ()


@dataclass(frozen=True)
class _History:
    """A channel's breaks as local days: who moved when, and breaks per day."""

    today: date
    movers_by_day: dict[date, set[str]]
    days_by_person: dict[str, set[date]]
    breaks_by_day: Counter[date]
    this_week: Counter[str]  # breaks per person since this week's Monday
    last_week: Counter[str]  # breaks per person in the week before


def scheduled_days(state: ChannelState) -> Callable[[date], bool]:
    """Whether a local date counts for streaks and goals: the schedule's days (holidays
    excluded), weekdays without one."""
    spec = state.spec
    if spec is not None:
        return lambda day: schedules.is_scheduled_day(spec, day)
    return lambda day: day.weekday() < 5


class TeamService:
    """Team goals, forgiving streaks, slot insights and the fair week board."""

    def __init__(
        self, storage: Storage, tenancy: Tenancy, *, clock: Clock, default_tz: str
    ) -> None:
        self.storage = storage
        self.tenancy = tenancy
        self.clock = clock
        self.default_tz = default_tz

    async def summary(self, state: ChannelState, now: datetime | None = None) -> TeamSummary:
        """The channel's team goal, goal streak, today's progress, freezes and slot insights
        (for `/stretch status` and the Home tab)."""
        now = now or self.clock()
        percent = teamgoal.goal_percent_of(state.team_goal)
        is_scheduled = scheduled_days(state)
        streak, today = 0, None
        if percent is not None:  # the history only feeds the goal: no goal, no read
            history = await self._history(state, now)
            streak = teamgoal.team_streak(
                history.movers_by_day,
                today=history.today,
                is_scheduled_day=is_scheduled,
                percent=percent,
            )
            if is_scheduled(history.today):
                today = teamgoal.goal_day(history.movers_by_day, history.today, percent)
        slots, suggestions = await self._insights(state, now)
        return TeamSummary(percent, streak, today, state.streak_freezes, slots, suggestions)

    async def insights(
        self, state: ChannelState, now: datetime | None = None
    ) -> ChannelInsights | None:
        """Each scheduled slot's answered share over the last four weeks (None: no schedule)."""
        found, _suggestions = await self._insights(state, now or self.clock())
        return found

    async def week_board(self, state: ChannelState, now: datetime | None = None) -> Board:
        """This week's board with the team extras: ranking (breaks, then forgiving streaks),
        the goal and its streak, the most improved, the regulars and slot suggestions."""
        now = now or self.clock()
        return await self._week_board(state, now, await self._history(state, now))

    async def recap(
        self, state: ChannelState, now: datetime | None = None
    ) -> tuple[Board, WeekChart]:
        """The weekly post: the week board and its chart, from one read of the history."""
        now = now or self.clock()
        history = await self._history(state, now)
        return await self._week_board(state, now, history), chart_of(history, state)

    async def _week_board(self, state: ChannelState, now: datetime, history: _History) -> Board:
        counts = dict(history.this_week)
        if counts:
            hidden = await self.tenancy.people.opted_out(
                platform=state.key.platform, team_id=state.key.team_id, person_ids=list(counts)
            )
            counts = {person: n for person, n in counts.items() if person not in hidden}
        else:
            hidden = frozenset()
        is_scheduled = scheduled_days(state)
        streaks = {
            person: leaderboard.streak_with_freezes(
                history.days_by_person[person],
                today=history.today,
                is_scheduled_day=is_scheduled,
                freezes_per_week=state.streak_freezes,
            )
            for person in counts
        }
        entries = leaderboard.rank_entries(
            counts,
            {person: streak.days for person, streak in streaks.items()},
            {person: streak.freezes_used for person, streak in streaks.items()},
        )
        monday = history.today - timedelta(days=history.today.weekday())
        percent = teamgoal.goal_percent_of(state.team_goal)
        week: tuple[GoalDay, ...] = ()
        team_streak = 0
        if percent is not None:
            week = teamgoal.week_goal_days(
                history.movers_by_day,
                week_of=history.today,
                today=history.today,
                is_scheduled_day=is_scheduled,
                percent=percent,
            )
            team_streak = teamgoal.team_streak(
                history.movers_by_day,
                today=history.today,
                is_scheduled_day=is_scheduled,
                percent=percent,
            )
        improved, gain = teamgoal.most_improved(
            counts, {p: n for p, n in history.last_week.items() if p not in hidden}
        )
        week_days = [monday + timedelta(days=n) for n in range(7)]
        needed = teamgoal.regular_days_needed(sum(1 for day in week_days if is_scheduled(day)))
        days_moved = {
            person: sum(
                1 for day in history.days_by_person[person] if day >= monday and is_scheduled(day)
            )
            for person in counts
        }
        _slots, suggestions = await self._insights(state, now)
        extras = TeamExtras(
            goal_percent=percent,
            team_streak=team_streak,
            week=week,
            most_improved=improved,
            improved_by=gain,
            regulars=teamgoal.regulars(days_moved, needed),
            regular_days=needed,
            suggestions=suggestions,
        )
        return Board(
            title=leaderboard.period_title("week"),
            entries=entries,
            period_start=monday,
            team=extras,
        )

    async def week_chart(self, state: ChannelState, now: datetime | None = None) -> WeekChart:
        """This week's breaks per day (Monday to Sunday) with the team-goal days."""
        now = now or self.clock()
        history = await self._history(state, now)
        return chart_of(history, state)

    async def _history(self, state: ChannelState, now: datetime) -> _History:
        zone = ZoneInfo(state.tz(self.default_tz))
        today = now.astimezone(zone).date()
        monday = today - timedelta(days=today.weekday())
        rows = await self.storage.breaks.break_times(channel=state.key, since=now - HISTORY)
        movers_by_day: dict[date, set[str]] = defaultdict(set)
        days_by_person: dict[str, set[date]] = defaultdict(set)
        breaks_by_day: Counter[date] = Counter()
        this_week: Counter[str] = Counter()
        last_week: Counter[str] = Counter()
        for person, at in rows:
            day = at.astimezone(zone).date()
            if day > today:
                continue
            movers_by_day[day].add(person)
            days_by_person[person].add(day)
            breaks_by_day[day] += 1
            if day >= monday:
                this_week[person] += 1
            elif day >= monday - timedelta(days=7):
                last_week[person] += 1
        return _History(today, movers_by_day, days_by_person, breaks_by_day, this_week, last_week)

    async def _insights(
        self, state: ChannelState, now: datetime
    ) -> tuple[ChannelInsights | None, tuple[SlotSuggestion, ...]]:
        spec = state.spec
        if spec is None:
            return None, ()
        outcomes = await self.storage.slot_outcomes.slot_outcomes(
            channel=state.key, since=now - timedelta(weeks=insights.INSIGHT_WEEKS), until=now
        )
        return (
            insights.channel_insights(outcomes, spec, now=now),
            insights.far_below(outcomes, spec, now=now),
        )


def chart_of(history: _History, state: ChannelState) -> WeekChart:
    """The week chart of a channel's history (Monday to Sunday of `history.today`'s week)."""
    monday = history.today - timedelta(days=history.today.weekday())
    percent = teamgoal.goal_percent_of(state.team_goal)
    is_scheduled = scheduled_days(state)
    days = []
    for n in range(7):
        day = monday + timedelta(days=n)
        met = (
            percent is not None
            and day <= history.today
            and is_scheduled(day)
            and teamgoal.goal_day(history.movers_by_day, day, percent).met
        )
        days.append(
            ChartDay(
                day, history.breaks_by_day.get(day, 0), goal_met=met, scheduled=is_scheduled(day)
            )
        )
    streak = (
        teamgoal.team_streak(
            history.movers_by_day,
            today=history.today,
            is_scheduled_day=is_scheduled,
            percent=percent,
        )
        if percent is not None
        else 0
    )
    return WeekChart(week_of=monday, days=tuple(days), goal_percent=percent, team_streak=streak)
