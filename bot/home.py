"""A person's own page across their channels (Slack's Home tab, `stats` in a direct chat,
the Teams personal "home" card): their breaks this week, their best streak, and the channels
they share with the bot that have a schedule, soonest nudge first, a page at a time.

Everything comes from two reads (`HomeRepository`), however many channels the person is in:
the platform says which channels those are (Slack: `users.conversations`), the database which
of them have a schedule; the person's breaks are read while the platform answers.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from bot import leaderboard, rules, schedules
from bot.ports import ChannelKey, ChannelState

Clock = Callable[[], datetime]

PAGE_SIZE = 20  # channels per page: two blocks each keeps a Home view far from 100 blocks
STREAK_LOOKBACK = timedelta(days=400)  # as far back as streaks are counted (as on boards)
MAX_CHANNEL_IDS = 5000  # channel ids taken from a platform's listing, at most


@dataclass(frozen=True)
class ChannelBreaks:
    """A person's breaks in one channel since the lookback, with what streaks need."""

    key: ChannelKey
    spec: schedules.ScheduleSpec | None  # the channel's schedule (its days and zone)
    times: tuple[datetime, ...]
    freezes_per_week: int = 1  # the channel's streak freezes (bot.teamgoal), as stats count them
    personal: bool = False  # the person's own reminders (their DM with the bot), not a channel


@dataclass(frozen=True)
class PersonRows:
    """What `HomeRepository.person_channels` reads."""

    workspace_known: bool = False
    admins_only: bool = False
    opted_out: bool = False
    channels: tuple[ChannelState, ...] = ()  # the page of scheduled channels, in order
    total_channels: int = 0  # scheduled channels in all
    offset: int = 0  # where the page starts (0 when the one asked for was past the end)
    reminders: ChannelState | None = None  # the person's own reminders in this workspace


class HomeRepository(Protocol):
    async def person_channels(
        self,
        *,
        platform: str,
        team_id: str,
        person_id: str,
        channel_ids: Sequence[str] | None,
        since: datetime,
        limit: int,
        offset: int,
        team_prefix: str | None = None,
    ) -> PersonRows:
        """In one statement: the workspace's settings, the person's opt-out, and the page
        (`limit`, `offset`; past the end: the first) of the scheduled channels among
        `channel_ids` (None: those where the person has a break since `since`), running ones
        first, soonest next slot first, with how many there are in all (`breaks` empty).

        The channels are the workspace's (`team_id`), or with `team_prefix` every workspace
        whose id starts with it (a Teams tenant: `<tenant>:`)."""
        ...

    async def person_breaks(
        self,
        *,
        platform: str,
        team_id: str,
        person_id: str,
        since: datetime,
        team_prefix: str | None = None,
    ) -> tuple[ChannelBreaks, ...]:
        """In one statement: the person's breaks since `since`, by channel, with each
        channel's schedule (scoped like `person_channels`)."""
        ...


@runtime_checkable
class SpansWorkspaces(Protocol):
    """A platform whose one-to-one chat with a person sits outside the teams they work in
    (Teams: a personal chat is a workspace of its own, within the person's tenant)."""

    def workspace_prefix(self, team_id: str) -> str | None:
        """Ids of the workspaces a person's direct chat in `team_id` covers start with this."""
        ...


@dataclass(frozen=True)
class HomeChannel:
    """One scheduled channel on a person's page."""

    state: ChannelState
    next_nudge: datetime | None  # None: off, or paused until someone resumes it
    week_breaks: int = 0  # the person's, this week (channel time)
    streak: int = 0

    @property
    def key(self) -> ChannelKey:
        return self.state.key

    @property
    def paused_until(self) -> datetime | None:
        return self.state.paused_until if self.state.paused else None


@dataclass(frozen=True)
class HomeSummary:
    """A person's page: figures across their channels and one page of scheduled channels."""

    platform: str
    team_id: str
    person_id: str
    now: datetime
    week_breaks: int = 0  # across channels, each channel's week in its own zone
    moved_in: tuple[tuple[ChannelKey, int], ...] = ()  # channels with breaks this week
    best_streak: int = 0
    best_streak_channel: ChannelKey | None = None
    opted_out: bool = False
    admins_only: bool = False
    channels: tuple[HomeChannel, ...] = ()  # this page
    total_channels: int = 0
    page: int = 0
    page_size: int = PAGE_SIZE
    # True: `channels` are the person's channels as the platform listed them; False: the
    # listing was not available, so they are the channels where the person moved.
    listed: bool = True
    # Their personal reminders (bot/commands/me.py): the schedule on their DM with the bot, if
    # any, and the DMs among the channels above with breaks (named "your reminders").
    reminders: ChannelState | None = None
    personal_keys: frozenset[ChannelKey] = frozenset()

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total_channels / self.page_size))

    @property
    def has_more(self) -> bool:
        return (self.page + 1) * self.page_size < self.total_channels

    @property
    def first_shown(self) -> int:
        """1-based number of the first channel on this page (0 when there are none)."""
        return self.page * self.page_size + 1 if self.channels else 0


def next_nudge(state: ChannelState, now: datetime) -> datetime | None:
    """When the channel's next scheduled nudge comes; None when off or paused until resumed."""
    spec = state.spec
    if spec is None or not state.enabled:
        return None
    if rules.is_paused(state, now):
        end = rules.pause_end(state, now)
        if end is None:
            return None
        return schedules.next_slot_after(spec, end - timedelta(microseconds=1))
    if state.next_slot_at is not None and state.next_slot_at > now:
        return state.next_slot_at  # the scheduler's cursor: no slot math per channel
    return schedules.next_slot_after(spec, now)


def channel_figures(breaks: ChannelBreaks, now: datetime, default_tz: str) -> tuple[int, int]:
    """(breaks this week, current streak) in one channel, in the channel's zone and days."""
    spec = breaks.spec
    tz = spec.tz if spec is not None else default_tz
    zone = ZoneInfo(tz)
    week_start = leaderboard.period_start("week", now=now, tz=tz)
    week = sum(1 for at in breaks.times if week_start is None or at >= week_start)
    days: set[date] = {at.astimezone(zone).date() for at in breaks.times}
    if spec is not None:
        scheduled: Callable[[date], bool] = lambda day: schedules.is_scheduled_day(spec, day)  # noqa: E731
    else:
        scheduled = lambda day: day.weekday() < 5  # noqa: E731
    streak = leaderboard.streak_with_freezes(
        days,
        today=now.astimezone(zone).date(),
        is_scheduled_day=scheduled,
        freezes_per_week=breaks.freezes_per_week,
    )
    return week, streak.days


class HomeService:
    """Builds a person's page from one listing of their channels and two reads."""

    def __init__(
        self,
        repository: HomeRepository,
        *,
        clock: Clock,
        default_tz: str,
    ) -> None:
        self.repository = repository
        self.clock = clock
        self.default_tz = default_tz

    async def summary(
        self,
        *,
        platform: str,
        team_id: str,
        person_id: str,
        member_of: Collection[str] | Awaitable[Collection[str] | None] | None,
        page: int = 0,
        page_size: int = PAGE_SIZE,
        team_prefix: str | None = None,
    ) -> HomeSummary:
        """The person's page `page` (0-based; past the end: the first).

        Args:
            member_of: the ids of the channels the person is in, as the platform lists them,
                or an awaitable of them (a listing in flight: the person's breaks are read
                meanwhile); None when the platform cannot list them (then: the channels where
                the person moved lately).
            team_prefix: see `HomeRepository.person_channels`.
        """
        now = self.clock()
        since = now - STREAK_LOOKBACK
        breaks = asyncio.ensure_future(
            self.repository.person_breaks(
                platform=platform,
                team_id=team_id,
                person_id=person_id,
                since=since,
                team_prefix=team_prefix,
            )
        )
        try:
            listed = await member_of if inspect.isawaitable(member_of) else member_of
            ids = list(dict.fromkeys(listed))[:MAX_CHANNEL_IDS] if listed is not None else None
            rows = await self.repository.person_channels(
                platform=platform,
                team_id=team_id,
                person_id=person_id,
                channel_ids=ids,
                since=since,
                limit=page_size,
                offset=max(0, page) * page_size,
                team_prefix=team_prefix,
            )
            moved = await breaks
            mine = rows.reminders if team_prefix is None else None
        finally:
            breaks.cancel()  # done already, unless something above failed
        figures = {item.key: channel_figures(item, now, self.default_tz) for item in moved}
        week = sum(counts[0] for counts in figures.values())
        best_key, best = None, 0
        for key, (_week, streak) in sorted(figures.items(), key=lambda item: item[0].channel_id):
            if streak > best:
                best_key, best = key, streak
        channels = tuple(
            HomeChannel(
                state=state,
                next_nudge=next_nudge(state, now),
                week_breaks=figures.get(state.key, (0, 0))[0],
                streak=figures.get(state.key, (0, 0))[1],
            )
            for state in rows.channels
        )
        return HomeSummary(
            platform=platform,
            team_id=team_id,
            person_id=person_id,
            now=now,
            week_breaks=week,
            moved_in=tuple(
                sorted(
                    ((key, counts[0]) for key, counts in figures.items() if counts[0]),
                    key=lambda item: (-item[1], item[0].channel_id),
                )
            ),
            best_streak=best,
            best_streak_channel=best_key,
            opted_out=rows.opted_out,
            admins_only=rows.admins_only,
            channels=channels,
            total_channels=rows.total_channels,
            page=rows.offset // page_size,
            page_size=page_size,
            listed=listed is not None,
            reminders=mine,
            personal_keys=frozenset(item.key for item in moved if item.personal),
        )
