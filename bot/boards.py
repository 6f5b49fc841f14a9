"""Leaderboards and personal figures: boards built and posted on demand or weekly, streaks,
a person's own counts."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import leaderboard, rules, schedules
from bot.decisions import log_decision
from bot.i18n import use_locale
from bot.installs import InstallService
from bot.languages import channel_language
from bot.leaderboard import Period
from bot.metrics import Metrics
from bot.ports import Board, ChannelKey, ChannelState, Chat, PostError, PostResult, Storage
from bot.team import TeamService
from bot.team_ports import ChartChat
from bot.workspaces import Tenancy

logger = logging.getLogger("stretchbot.services.boards")

Clock = Callable[[], datetime]

BOARD_GRACE = timedelta(hours=3)  # a weekly board late by more than this is skipped
STREAK_LOOKBACK = timedelta(days=400)
DUE_BATCH = 500


@dataclass(frozen=True)
class BoardOutcome:
    """What happened to one channel's weekly board in a scheduler pass."""

    channel: ChannelKey
    decision: str  # "posted" | "failed" | "skipped_stale" | "skipped_paused" | "skipped_empty" | "lost_race"
    due: datetime
    detail: str = ""


@dataclass(frozen=True)
class PersonalFigures:
    """One person's breaks in one channel, and the days their streak counts."""

    week: int
    month: int
    total: int
    streak: int
    today_counts: bool  # today is one of the channel's scheduled days
    next_day: date | None  # the next scheduled day after today (within two weeks)
    freezes_used: int = 0  # missed scheduled days the streak bridged


class BoardService:
    """Builds and posts leaderboards; computes streaks and a person's own figures."""

    def __init__(
        self,
        storage: Storage,
        tenancy: Tenancy,
        chats: Mapping[str, Chat],
        installs: InstallService,
        *,
        clock: Clock,
        default_tz: str,
        metrics: Metrics,
        team: TeamService | None = None,
    ) -> None:
        self.team = team or TeamService(storage, tenancy, clock=clock, default_tz=default_tz)
        self.storage = storage
        self.tenancy = tenancy
        self.chats = chats
        self.installs = installs
        self.clock = clock
        self.default_tz = default_tz
        self.metrics = metrics

    async def build_board(
        self, channel: ChannelKey, period: Period, *, state: ChannelState | None = None
    ) -> Board:
        """Rank the channel's people by breaks in the period, then by streak (people who
        opted out are left off). `state`: the channel, when the caller has read it already."""
        if state is None:
            state = await self.storage.channels.get(channel) or ChannelState(key=channel)
        now = self.clock()
        tz = state.tz(self.default_tz)
        since = leaderboard.period_start(period, now=now, tz=tz)
        counts = await self.storage.breaks.counts(channel=channel, since=since)
        if counts:
            hidden = await self.tenancy.people.opted_out(
                platform=channel.platform, team_id=channel.team_id, person_ids=list(counts)
            )
            counts = {person: n for person, n in counts.items() if person not in hidden}
        found = await self.streak_records(state, list(counts), now) if counts else {}
        entries = leaderboard.rank_entries(
            counts,
            {person: streak.days for person, streak in found.items()},
            {person: streak.freezes_used for person, streak in found.items()},
        )
        start = since.astimezone(ZoneInfo(tz)).date() if since else None
        return Board(title=leaderboard.period_title(period), entries=entries, period_start=start)

    async def build_week_board(self, state: ChannelState) -> Board:
        """This week's board with the team goal, the most improved and the regulars."""
        return await self.team.week_board(state)

    async def post_board(self, channel: ChannelKey, board: Board) -> PostResult:
        """Post a board into the channel, joining it first if the bot was not in it."""
        chat = self.chats[channel.platform]
        result = await chat.post_board(channel, board)
        if result.error is PostError.NOT_IN_CHANNEL:
            joined = await chat.ensure_member(channel)
            result = await chat.post_board(channel, board) if joined.ok else joined
        if not result.ok:
            self.metrics.post_failed(channel.platform, result)
        else:
            self.metrics.boards_posted.labels("on_demand").inc()
        return result

    async def personal_figures(self, state: ChannelState, person_id: str) -> PersonalFigures:
        """The person's breaks in the channel this week, this month and in all, and streak."""
        now = self.clock()
        tz = state.tz(self.default_tz)
        week_start = leaderboard.period_start("week", now=now, tz=tz)
        month_start = leaderboard.period_start("month", now=now, tz=tz)
        assert week_start is not None and month_start is not None  # only "all" has none
        week, month, total = await self.storage.breaks.person_counts(
            channel=state.key, person_id=person_id, since=(week_start, month_start)
        )
        streak = (await self.streak_records(state, [person_id], now)).get(
            person_id, leaderboard.Streak(0)
        )
        scheduled = self._scheduled_days(state)
        today = now.astimezone(ZoneInfo(tz)).date()
        ahead = (today + timedelta(days=n) for n in range(1, 15))
        return PersonalFigures(
            week,
            month,
            total,
            streak.days,
            today_counts=scheduled(today),
            next_day=next((day for day in ahead if scheduled(day)), None),
            freezes_used=streak.freezes_used,
        )

    @staticmethod
    def _scheduled_days(state: ChannelState) -> Callable[[date], bool]:
        """Whether a local date counts for streaks: the schedule's days, weekdays without one."""
        spec = state.spec
        if spec is not None:
            return lambda day: schedules.is_scheduled_day(spec, day)
        return lambda day: day.weekday() < 5

    async def streaks(
        self, state: ChannelState, people: Collection[str], now: datetime
    ) -> dict[str, int]:
        """Each person's current streak: consecutive scheduled days with a break, missed days
        bridged by the channel's freezes."""
        found = await self.streak_records(state, people, now)
        return {person: streak.days for person, streak in found.items()}

    async def streak_records(
        self, state: ChannelState, people: Collection[str], now: datetime
    ) -> dict[str, leaderboard.Streak]:
        """Each person's current streak and the freezes it used (see
        `leaderboard.streak_with_freezes`)."""
        tz = ZoneInfo(state.tz(self.default_tz))
        rows = await self.storage.breaks.break_times(
            channel=state.key, since=now - STREAK_LOOKBACK, person_ids=list(people)
        )
        days: dict[str, set[date]] = defaultdict(set)
        for person, at in rows:
            days[person].add(at.astimezone(tz).date())
        is_scheduled = self._scheduled_days(state)
        today = now.astimezone(tz).date()
        return {
            person: leaderboard.streak_with_freezes(
                person_days,
                today=today,
                is_scheduled_day=is_scheduled,
                freezes_per_week=state.streak_freezes,
            )
            for person, person_days in days.items()
        }

    async def run_due_boards(self, now: datetime | None = None) -> list[BoardOutcome]:
        """Post the weekly leaderboard in channels whose board time has come (once per week)."""
        now = now or self.clock()
        outcomes: list[BoardOutcome] = []
        due = await self.storage.channels.due_for_board(
            now=now, limit=DUE_BATCH, platforms=sorted(self.chats)
        )
        for state in due:
            try:
                with use_locale(channel_language(state)):
                    outcomes.append(await self._run_due_board(state, now))
            except Exception:
                logger.exception("board.error channel=%s", state.key.channel_id)
        return outcomes

    async def _run_due_board(self, state: ChannelState, now: datetime) -> BoardOutcome:
        due = state.next_board_at
        assert due is not None
        tz = state.tz(self.default_tz)
        moved = await self.storage.channels.set_next_board(
            state.key, expected=due, next_board_at=rules.next_weekly_board_after(tz, now)
        )
        if not moved:
            return BoardOutcome(state.key, "lost_race", due)
        if now - due > BOARD_GRACE:
            log_decision("board.skipped_stale", state.key, due=due.isoformat())
            return BoardOutcome(state.key, "skipped_stale", due)
        if not state.enabled or rules.is_paused(state, now):
            log_decision("board.skipped_paused", state.key, due=due.isoformat())
            return BoardOutcome(state.key, "skipped_paused", due)
        iso = due.astimezone(ZoneInfo(tz)).isocalendar()
        if not await self.storage.boards.claim_board(
            channel=state.key, period_key=f"{iso.year}-W{iso.week:02d}"
        ):
            return BoardOutcome(state.key, "lost_race", due)
        board, chart = await self.team.recap(state, now)
        if not board.entries:
            log_decision("board.skipped_empty", state.key, due=due.isoformat())
            return BoardOutcome(state.key, "skipped_empty", due)
        chat = self.chats[state.key.platform]
        result = await chat.post_board(state.key, board)
        if not result.ok:
            self.metrics.post_failed(state.key.platform, result)
            log_decision("board.failed", state.key, reason=result.detail or str(result.error))
            if result.error is PostError.CHANNEL_GONE:
                await self.installs.channel_gone(state.key, reason=result.detail or "channel_gone")
            return BoardOutcome(state.key, "failed", due, result.detail)
        self.metrics.boards_posted.labels("weekly").inc()
        log_decision("board.posted", state.key, entries=len(board.entries))
        # The picture comes after the text board (which screen readers keep), under the same
        # claim: posted once, and a failed upload is not retried into a second board.
        detail = ""
        if isinstance(chat, ChartChat):
            drawn = await chat.post_week_chart(state.key, chart)
            if drawn.ok:
                log_decision("chart.posted", state.key, week=chart.week_of.isoformat())
            else:
                self.metrics.post_failed(state.key.platform, drawn)
                log_decision("chart.failed", state.key, reason=drawn.detail or str(drawn.error))
                detail = "chart_failed"
        return BoardOutcome(state.key, "posted", due, detail)
