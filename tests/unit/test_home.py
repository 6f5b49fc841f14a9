"""A person's page (bot/home.py, bot/home_words.py): figures across channels, each in its own
zone and days; when each channel's next nudge comes; the words for them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.home import ChannelBreaks, HomeService, PersonRows, next_nudge
from bot.home_words import direct_stats_lines, schedule_line, streak_line, week_line
from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec, next_slot_after

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday
BERLIN = ScheduleSpec(interval=timedelta(minutes=45), tz="Europe/Berlin")
DAILY_TOKYO = ScheduleSpec(
    interval=timedelta(hours=1), tz="Asia/Tokyo", weekdays=frozenset(range(7))
)


def key(channel: str) -> ChannelKey:
    return ChannelKey("slack", "T1", channel)


def running(channel: str, spec: ScheduleSpec = BERLIN, **changes: object) -> ChannelState:
    state = ChannelState(
        key=key(channel), spec=spec, enabled=True, next_slot_at=next_slot_after(spec, NOW)
    )
    return replace(state, **changes)  # type: ignore[arg-type]


class FakeRepository:
    def __init__(self, rows: PersonRows, breaks: tuple[ChannelBreaks, ...]) -> None:
        self.rows = rows
        self.breaks = breaks
        self.asked: list[dict[str, object]] = []

    async def person_channels(self, **kw: object) -> PersonRows:
        self.asked.append(kw)
        return self.rows

    async def person_breaks(self, **kw: object) -> tuple[ChannelBreaks, ...]:
        return self.breaks


async def summary_of(  # type: ignore[no-untyped-def]
    rows: PersonRows,
    member_of: Sequence[str] | None = ("C1",),
    page: int = 0,
    breaks: tuple[ChannelBreaks, ...] = (),
):
    repository = FakeRepository(rows, breaks)
    service = HomeService(repository, clock=lambda: NOW, default_tz="UTC")
    summary = await service.summary(
        platform="slack", team_id="T1", person_id="U1", member_of=member_of, page=page
    )
    return summary, repository.asked[0]


def days_ago(*days: int, hour: int = 10) -> tuple[datetime, ...]:
    return tuple((NOW - timedelta(days=day)).replace(hour=hour, minute=0) for day in days)


async def test_figures_across_channels_each_in_its_own_week_and_days() -> None:
    rows = PersonRows(
        workspace_known=True,
        channels=(running("C1"), running("C2", DAILY_TOKYO)),
        total_channels=2,
    )
    breaks = (
        # Mon, Tue, Wed this week + last Friday: a 4-day weekday streak in Berlin.
        ChannelBreaks(key("C1"), BERLIN, days_ago(0, 1, 2, 5)),
        # Daily in Tokyo: yesterday and the day before; today nothing yet.
        ChannelBreaks(key("C2"), DAILY_TOKYO, days_ago(1, 2)),
        # No schedule any more: weekdays count, in the default zone.
        ChannelBreaks(key("C3"), None, days_ago(9)),
    )
    summary, asked = await summary_of(rows, member_of=["C1", "C2", "C1"], breaks=breaks)
    assert asked["channel_ids"] == ["C1", "C2"]  # each id once
    assert asked["since"] == NOW - timedelta(days=400) and asked["limit"] == 20
    assert summary.week_breaks == 3 + 2
    assert summary.moved_in == ((key("C1"), 3), (key("C2"), 2))
    assert (summary.best_streak, summary.best_streak_channel) == (4, key("C1"))
    [first, second] = summary.channels
    assert (first.week_breaks, first.streak) == (3, 4)
    assert (second.week_breaks, second.streak) == (2, 2)
    assert week_line(summary) == "This week: 5 breaks in 2 channels."
    assert streak_line(summary) == "Best streak: 4 scheduled days in a row, in <#C1>."


async def test_no_listing_means_the_channels_where_the_person_moved() -> None:
    summary, asked = await summary_of(PersonRows(), member_of=None)
    assert asked["channel_ids"] is None and not summary.listed
    assert summary.week_breaks == 0 and summary.best_streak == 0
    assert "No breaks logged this week yet" in week_line(summary)
    assert "No streak running" in streak_line(summary)


async def test_the_page_comes_from_where_the_rows_start() -> None:
    rows = PersonRows(channels=(running("C1"),), total_channels=41, offset=40)
    summary, asked = await summary_of(rows, page=2)
    assert asked["offset"] == 40
    assert summary.page == 2 and summary.pages == 3 and not summary.has_more
    assert summary.first_shown == 41
    summary, _asked = await summary_of(replace(rows, offset=0), page=7)  # past the end
    assert summary.page == 0 and summary.has_more


def test_next_nudge_uses_the_cursor_and_knows_pauses() -> None:
    state = running("C1")
    assert next_nudge(state, NOW) == state.next_slot_at
    stale = replace(state, next_slot_at=NOW - timedelta(hours=1))
    assert next_nudge(stale, NOW) == next_slot_after(BERLIN, NOW)
    until = NOW + timedelta(days=2)
    paused = replace(state, paused=True, paused_until=until)
    assert next_nudge(paused, NOW) == next_slot_after(BERLIN, until - timedelta(microseconds=1))
    assert next_nudge(replace(state, paused=True), NOW) is None
    assert next_nudge(replace(state, enabled=False), NOW) is None
    assert next_nudge(ChannelState(key=key("C1")), NOW) is None


async def test_a_channel_line_says_the_schedule_the_next_nudge_and_yours() -> None:
    rows = PersonRows(channels=(running("C1", seated_only=True),), total_channels=1)
    breaks = (ChannelBreaks(key("C1"), BERLIN, days_ago(0, 1)),)
    summary, _asked = await summary_of(rows, breaks=breaks)
    line = schedule_line(summary.channels[0], summary)
    assert line.startswith("Every 45 minutes, 09:00–17:00 on weekdays (Europe/Berlin). ")
    assert "Next nudge: <!date^" in line
    assert "Seated exercises only." in line
    assert line.endswith("You: 2 breaks this week, 2-day streak.")
    paused_rows = replace(rows, channels=(running("C1", paused=True),))
    paused, _asked = await summary_of(paused_rows, breaks=breaks)
    assert "Paused until someone resumes it." in schedule_line(paused.channels[0], paused)
    off, _asked = await summary_of(
        replace(rows, channels=(running("C1", enabled=False),)), breaks=breaks
    )
    assert "Off for now." in schedule_line(off.channels[0], off)


async def test_stats_in_a_direct_chat_lists_the_channels_and_opt_out() -> None:
    rows = PersonRows(opted_out=True, channels=(running("C1"),), total_channels=25)
    breaks = (ChannelBreaks(key("C1"), BERLIN, days_ago(0)),)
    summary, _asked = await summary_of(rows, member_of=None, breaks=breaks)
    text = "\n".join(direct_stats_lines(summary))
    assert "This week: 1 break in 1 channel." in text
    assert "• <#C1>: Every 45 minutes" in text
    assert "…and 24 more channels." in text
    assert "You're opted out" in text


async def test_a_listing_in_flight_is_awaited_while_the_breaks_are_read() -> None:
    order: list[str] = []

    async def listing() -> list[str]:
        order.append("listing started")
        await asyncio.sleep(0)  # the platform answering
        order.append("listing done")
        return ["C1"]

    class Recording(FakeRepository):
        async def person_breaks(self, **kw: object) -> tuple[ChannelBreaks, ...]:
            order.append("breaks read")
            return ()

    service = HomeService(Recording(PersonRows(), ()), clock=lambda: NOW, default_tz="UTC")
    summary = await service.summary(
        platform="slack", team_id="T1", person_id="U1", member_of=listing()
    )
    assert summary.listed
    assert order.index("breaks read") < order.index("listing done")
