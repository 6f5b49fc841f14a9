"""The /stretch command parser, schedule descriptions and pause ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import REGISTRY
from bot.commands.help import HelpCommand
from bot.commands.leaderboard import LeaderboardCommand, WeeklyBoardCommand
from bot.commands.now import NowCommand
from bot.commands.pausing import OffCommand, PauseCommand, ResumeCommand, resolve_pause_end
from bot.commands.runner import parse_error_reply
from bot.commands.schedule import ScheduleCommand
from bot.commands.seated import SeatedCommand
from bot.commands.stats import StatsCommand
from bot.commands.status import StatusCommand
from bot.grammar import ParseError
from bot.schedules import (
    ALL_DAYS,
    WEEKDAYS,
    ScheduleSpec,
    canonical_timezone,
    format_duration,
    local_time_to_utc,
)

parse_command = REGISTRY.parse
USAGE = {name: word.usage for word in REGISTRY.words for name in word.names}

M = timedelta(minutes=1)
H = timedelta(hours=1)


def every(minutes: int, **kwargs: object) -> ScheduleCommand:
    return ScheduleCommand(interval=minutes * M, **kwargs)  # type: ignore[arg-type]


# ---- valid commands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", NowCommand()),
        ("   ", NowCommand()),
        ("now", NowCommand()),
        ("  NOW  ", NowCommand()),
        ("status", StatusCommand()),
        ("Status", StatusCommand()),
        ("resume", ResumeCommand()),
        ("off", OffCommand()),
        ("stop", OffCommand()),
        ("stats", StatsCommand()),
        ("help", HelpCommand()),
        ("help every", HelpCommand()),
        ("leaderboard", LeaderboardCommand("week")),
        ("leaderboard week", LeaderboardCommand("week")),
        ("leaderboard month", LeaderboardCommand("month")),
        ("leaderboard all", LeaderboardCommand("all")),
        ("board month", LeaderboardCommand("month")),
        ("lb", LeaderboardCommand("week")),
        ("LB ALL", LeaderboardCommand("all")),
        ("leaderboard weekly on", WeeklyBoardCommand(enabled=True)),
        ("leaderboard weekly off", WeeklyBoardCommand(enabled=False)),
        ("lb Weekly Off", WeeklyBoardCommand(enabled=False)),
        ("seated on", SeatedCommand(enabled=True)),
        ("seated OFF", SeatedCommand(enabled=False)),
        ("pause", PauseCommand()),
        ("pause 2h", PauseCommand(duration=2 * H)),
        ("pause 30m", PauseCommand(duration=30 * M)),
        ("pause 1d", PauseCommand(duration=timedelta(days=1))),
        ("pause 3 days", PauseCommand(duration=timedelta(days=3))),
        ("pause for 2 hours", PauseCommand(duration=2 * H)),
        ("pause 1h30m", PauseCommand(duration=90 * M)),
        ("pause until monday", PauseCommand(until="monday")),
        ("pause until Mon", PauseCommand(until="monday")),
        ("pause until tues", PauseCommand(until="tuesday")),
        ("pause until thurs", PauseCommand(until="thursday")),
        ("pause until next friday", PauseCommand(until="friday")),
        ("pause till sun", PauseCommand(until="sunday")),
        ("pause until tomorrow", PauseCommand(until="tomorrow")),
        ("pause until 14:00", PauseCommand(until="14:00")),
        ("pause until 9:05", PauseCommand(until="09:05")),
        ("pause until 2pm", PauseCommand(until="14:00")),
        ("pause until 12am", PauseCommand(until="00:00")),
        ("pause until 2026-12-01", PauseCommand(until="2026-12-01")),
    ],
)
def test_parses_simple_commands(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every 45m", every(45)),
        ("EVERY 45M", every(45)),
        ("  every   45m  ", every(45)),
        ("every 15m", every(15)),
        ("every 90m", every(90)),
        ("every 1h", every(60)),
        ("every 1h30m", every(90)),
        ("every 1h 30m", every(90)),
        ("every 2h", every(120)),
        ("every 8h 00:00-23:00", every(480, window_start=time(0), window_end=time(23))),
        ("every 1.5h", every(90)),
        ("every 45 min", every(45)),
        ("every 45min", every(45)),
        ("every 45 mins", every(45)),
        ("every 45 minutes", every(45)),
        ("every 1 hour", every(60)),
        ("every 2 hours", every(120)),
        ("every 1 hour 30 minutes", every(90)),
        ("every 45m 09:00-17:00", every(45)),
        ("every 45m 8:30-16:30", every(45, window_start=time(8, 30), window_end=time(16, 30))),
        ("every 45m 9-17", every(45)),
        ("every 45m 9:30-17", every(45, window_start=time(9, 30))),
        ("every 45m 9am-5pm", every(45)),
        ("every 45m 9:30am-12:15pm", every(45, window_start=time(9, 30), window_end=time(12, 15))),
        ("every 45m 9 - 17", every(45)),
        ("every 45m 09:00–17:00", every(45)),  # en dash, as Slack clients like to type
        ("every 45m weekdays", every(45)),
        ("every 45m daily", every(45, weekdays=ALL_DAYS)),
        ("every 45m everyday", every(45, weekdays=ALL_DAYS)),
        ("every 45m every day", every(45, weekdays=ALL_DAYS)),
        ("every 45m weekends", every(45, weekdays=frozenset({5, 6}))),
        ("every 45m mon-thu", every(45, weekdays=frozenset({0, 1, 2, 3}))),
        ("every 45m mon - thu", every(45, weekdays=frozenset({0, 1, 2, 3}))),
        ("every 45m monday-friday", every(45, weekdays=WEEKDAYS)),
        ("every 45m mon,wed,fri", every(45, weekdays=frozenset({0, 2, 4}))),
        ("every 45m mon, wed, fri", every(45, weekdays=frozenset({0, 2, 4}))),
        ("every 45m tue,thurs", every(45, weekdays=frozenset({1, 3}))),
        ("every 45m tues,thu", every(45, weekdays=frozenset({1, 3}))),
        ("every 45m fri-mon", every(45, weekdays=frozenset({4, 5, 6, 0}))),
        ("every 45m mon-wed,fri", every(45, weekdays=frozenset({0, 1, 2, 4}))),
        ("every 45m tz Europe/Berlin", every(45, tz="Europe/Berlin")),
        ("every 45m tz europe/berlin", every(45, tz="Europe/Berlin")),
        ("every 45m tz AMERICA/NEW_YORK", every(45, tz="America/New_York")),
        ("every 45m tz UTC", every(45, tz="UTC")),
        ("every 45m tz=Asia/Kolkata", every(45, tz="Asia/Kolkata")),
        ("every 45m holidays US", every(45, holidays="US")),
        ("every 45m holidays de", every(45, holidays="DE")),
        (
            "every 45m 09:00-17:00 weekdays tz Europe/Berlin holidays US",
            every(45, tz="Europe/Berlin", holidays="US"),
        ),
        (
            "every 1h holidays gb tz Europe/London mon-thu 8-16",
            every(
                60,
                window_start=time(8),
                window_end=time(16),
                weekdays=frozenset({0, 1, 2, 3}),
                tz="Europe/London",
                holidays="GB",
            ),
        ),
    ],
)
def test_parses_schedules(text: str, expected: ScheduleCommand) -> None:
    assert parse_command(text) == expected


# ---- invalid commands -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "in_message", "usage_key"),
    [
        ("every 5 minutes", "15m to 8h", "every"),
        ("every 10m", "15m to 8h", "every"),
        ("every 9h", "15m to 8h", "every"),
        ("every 0m", "15m to 8h", "every"),
        ("every 1d", "15m to 8h", "every"),
        ("every 45", "unit", "every"),
        ("every", "How often", "every"),
        ("every often", "how often", "every"),
        ("every 45m 17:00-09:00", "overnight", "every"),
        ("every 45m 9-9", "overnight", "every"),
        ("every 45m 22-6", "overnight", "every"),
        ("every 45m 25:00-26:00", "24-hour", "every"),
        ("every 45m 9:75-17", "24-hour", "every"),
        ("every 45m 13pm-5pm", "24-hour", "every"),
        ("every 2h 09:00-11:00", "No nudge would fit", "every"),
        ("every 1h 09:00-09:30", "No nudge would fit", "every"),
        ("every 45m tz Mars/Olympus", "timezone", "every"),
        ("every 45m tz ../../etc/passwd", "timezone", "every"),
        ("every 45m tz", "Which timezone", "every"),
        ("every 45m tz UTC tz UTC", "only once", "every"),
        ("every 45m holidays XX", "holidays", "every"),
        ("every 45m holidays", "Which country", "every"),
        ("every 45m 9-17 10-18", "one time window", "every"),
        ("every 45m mon-funday", "mon-funday", "every"),
        ("every 45m please", "please", "every"),
        ("every 45.5m", "how often", "every"),
        ("45m", "every 45m", "every"),
        ("schedule 45m", "every", "every"),
        ("paus", "pause", "pause"),
        ("pause forever", "pause forever", "pause"),
        ("pause 0m", "up to a year", "pause"),
        ("pause 400 days", "up to a year", "pause"),
        ("pause until", "until when", "pause"),
        ("pause until someday", "until someday", "pause"),
        ("pause until 2026-02-30", "date", "pause"),
        ("pause until 25:00", "until 25:00", "pause"),
        ("pause until 14", "until 14", "pause"),
        ("staus", "Did you mean", "status"),
        ("reusme", "resume", "resume"),
        ("leaderbord", "leaderboard", "leaderboard"),
        ("leaderboard weekly", "weekly on|off", "leaderboard"),
        ("leaderboard this week", "week", "leaderboard"),
        ("leaderboard year", "week", "leaderboard"),
        ("seated", "seated on", "seated"),
        ("seated maybe", "seated on", "seated"),
        ("now please", "nothing after", "now"),
        ("status verbose", "nothing after", "status"),
        ("off now", "nothing after", "off"),
    ],
)
def test_rejects_with_friendly_message_and_nearest_usage(
    text: str, in_message: str, usage_key: str
) -> None:
    result = parse_command(text)
    assert isinstance(result, ParseError), result
    assert in_message.lower() in result.message.lower()
    assert result.usage == USAGE[usage_key]


def test_interval_error_message_reads_well() -> None:
    assert parse_command("every 5 minutes") == ParseError(
        "`every 5 minutes` is more often than I nudge: intervals go from 15m to 8h. "
        "Try `every 15m`.",
        USAGE["every"],
    )


@pytest.mark.parametrize("text", ["xyzzy", "🤸", "qwertyuiop asdf"])
def test_unknown_word_without_a_close_match_points_to_help_once(text: str) -> None:
    result = parse_command(text)
    assert isinstance(result, ParseError)
    assert result.usage
    assert parse_error_reply(result).text.count("/stretch help") == 1


def test_huge_input_is_rejected_cheaply() -> None:
    result = parse_command("every 45m " * 10_000)
    assert isinstance(result, ParseError)
    assert "too long" in result.message


def test_backticks_in_input_cannot_break_out_of_the_quote() -> None:
    result = parse_command("every 45m `@channel`")
    assert isinstance(result, ParseError)
    assert result.message.count("`") % 2 == 0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_parse_never_raises(text: str) -> None:
    result = parse_command(text)
    assert result is not None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "every",
                "45m",
                "1h",
                "9-17",
                "17-9",
                "tz",
                "UTC",
                "europe/paris",
                "holidays",
                "us",
                "mon-fri",
                "daily",
                "pause",
                "until",
                "monday",
                "2h",
                "leaderboard",
                "weekly",
                "on",
                "off",
                "99999999d",
                "1.25h",
                "12pm-1am",
                ",",
                "-",
                "every day",
            ]
        ),
        max_size=8,
    )
)
def test_parse_never_raises_on_near_miss_words(words: list[str]) -> None:
    assert parse_command(" ".join(words)) is not None


# ---- canonical text and descriptions --------------------------------------------------------


SPECS = [
    ScheduleSpec(interval=45 * M, tz="Europe/Berlin"),
    ScheduleSpec(interval=45 * M, tz="Europe/Berlin", holidays="US"),
    ScheduleSpec(interval=90 * M, tz="America/New_York", weekdays=ALL_DAYS),
    ScheduleSpec(
        interval=15 * M,
        tz="Asia/Kolkata",
        window_start=time(8, 30),
        window_end=time(12, 15),
        weekdays=frozenset({0, 2, 4}),
    ),
    ScheduleSpec(interval=8 * H, tz="UTC", window_start=time(0), window_end=time(23, 59)),
    ScheduleSpec(interval=150 * M, tz="Australia/Sydney", weekdays=frozenset({5, 6})),
    ScheduleSpec(interval=60 * M, tz="America/Argentina/Buenos_Aires", holidays="AR"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.to_text())
def test_to_text_round_trips(spec: ScheduleSpec) -> None:
    parsed = parse_command(spec.to_text())
    assert isinstance(parsed, ScheduleCommand), parsed
    assert parsed.to_spec("Pacific/Auckland") == spec


def test_to_text_is_canonical() -> None:
    spec = ScheduleSpec(interval=45 * M, tz="Europe/Berlin", holidays="US")
    assert spec.to_text() == "every 45m 09:00-17:00 weekdays tz Europe/Berlin holidays US"
    assert (
        ScheduleSpec(interval=90 * M, tz="UTC").to_text()
        == "every 1h30m 09:00-17:00 weekdays tz UTC"
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            ScheduleSpec(interval=45 * M, tz="Europe/Berlin", holidays="US"),
            "every 45 minutes, 09:00–17:00 on weekdays (Europe/Berlin), "
            "no nudges on US public holidays",
        ),
        (
            ScheduleSpec(interval=H, tz="UTC", weekdays=ALL_DAYS),
            "every hour, 09:00–17:00 every day (UTC)",
        ),
        (
            ScheduleSpec(interval=90 * M, tz="UTC", weekdays=frozenset({0, 2, 4})),
            "every 90 minutes, 09:00–17:00 on Mon, Wed, Fri (UTC)",
        ),
        (
            ScheduleSpec(interval=2 * H, tz="UTC", weekdays=frozenset({0, 1, 2, 3})),
            "every 2 hours, 09:00–17:00 on Mon–Thu (UTC)",
        ),
        (
            ScheduleSpec(interval=150 * M, tz="UTC", weekdays=frozenset({5, 6})),
            "every 2 hours 30 minutes, 09:00–17:00 on weekends (UTC)",
        ),
    ],
)
def test_describe(spec: ScheduleSpec, expected: str) -> None:
    assert spec.describe() == expected


@settings(max_examples=150, deadline=None)
@given(
    minutes=st.integers(15, 480),
    start=st.integers(0, 23 * 60),
    length=st.integers(1, 24 * 60),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    country=st.sampled_from([None, "US", "DE", "JP"]),
)
def test_round_trip_property(
    minutes: int, start: int, length: int, days: frozenset[int], tz: str, country: str | None
) -> None:
    end = min(start + length, 23 * 60 + 59)
    spec = ScheduleSpec(
        interval=minutes * M,
        tz=tz,
        window_start=time(start // 60, start % 60),
        window_end=time(end // 60, end % 60),
        weekdays=days,
        holidays=country,
    )
    parsed = parse_command(spec.to_text())
    if start + minutes >= end:
        assert isinstance(parsed, ParseError)
        assert "No nudge would fit" in parsed.message
    else:
        assert isinstance(parsed, ScheduleCommand), parsed
        assert parsed.to_spec("UTC") == spec


@pytest.mark.parametrize(
    ("duration", "text"),
    [(45 * M, "45m"), (H, "1h"), (90 * M, "1h30m"), (8 * H, "8h"), (timedelta(days=3), "3d")],
)
def test_format_duration(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


def test_canonical_timezone() -> None:
    assert canonical_timezone("europe/berlin") == "Europe/Berlin"
    assert canonical_timezone("Europe/Berlin") == "Europe/Berlin"
    assert canonical_timezone("nowhere/special") is None
    assert canonical_timezone("") is None
    assert canonical_timezone("localtime") is None


# ---- pause ends -----------------------------------------------------------------------------

BERLIN = "Europe/Berlin"
WEDNESDAY_4PM_BERLIN = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # 16:00 CET


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (PauseCommand(), None),
        (PauseCommand(duration=2 * H), utc(2026, 3, 4, 17)),
        (PauseCommand(duration=timedelta(days=3)), utc(2026, 3, 7, 15)),
        (PauseCommand(until="tomorrow"), utc(2026, 3, 4, 23)),
        (PauseCommand(until="monday"), utc(2026, 3, 8, 23)),
        (PauseCommand(until="thursday"), utc(2026, 3, 4, 23)),
        (PauseCommand(until="wednesday"), utc(2026, 3, 10, 23)),  # strictly after today
        (PauseCommand(until="17:00"), utc(2026, 3, 4, 16)),  # later today
        (PauseCommand(until="14:00"), utc(2026, 3, 5, 13)),  # already past: tomorrow
        (PauseCommand(until="16:00"), utc(2026, 3, 5, 15)),  # exactly now: tomorrow
        (PauseCommand(until="2026-12-01"), utc(2026, 11, 30, 23)),
        (PauseCommand(until="2026-01-01"), utc(2025, 12, 31, 23)),  # past: returned anyway
    ],
)
def test_resolve_pause_end(command: PauseCommand, expected: datetime | None) -> None:
    assert resolve_pause_end(command, now=WEDNESDAY_4PM_BERLIN, tz=BERLIN) == expected


def test_pause_end_is_utc() -> None:
    end = resolve_pause_end(PauseCommand(until="tomorrow"), now=WEDNESDAY_4PM_BERLIN, tz=BERLIN)
    assert end is not None
    assert end.utcoffset() == timedelta(0)


def test_pause_ends_across_spring_forward_use_the_new_offset() -> None:
    saturday = utc(2026, 3, 28, 12)  # Berlin moves to CEST on Sunday 2026-03-29
    monday = resolve_pause_end(PauseCommand(until="monday"), now=saturday, tz=BERLIN)
    assert monday == utc(2026, 3, 29, 22)  # 00:00 CEST
    tomorrow = resolve_pause_end(PauseCommand(until="tomorrow"), now=saturday, tz=BERLIN)
    assert tomorrow == utc(2026, 3, 28, 23)  # 00:00 CET, before the change


def test_pause_until_a_wall_time_in_the_gap_shifts_forward() -> None:
    now = utc(2026, 3, 8, 5)  # 00:00 EST on the New York spring-forward day
    end = resolve_pause_end(PauseCommand(until="02:30"), now=now, tz="America/New_York")
    assert end == utc(2026, 3, 8, 7)  # 03:00 EDT, the first instant after the gap


def test_pause_until_an_ambiguous_wall_time_takes_the_first() -> None:
    now = utc(2026, 11, 1, 4)  # 00:00 EDT on the New York fall-back day
    end = resolve_pause_end(PauseCommand(until="01:30"), now=now, tz="America/New_York")
    assert end == utc(2026, 11, 1, 5, 30)  # 01:30 EDT


def test_nonexistent_local_midnight_shifts_forward() -> None:
    # Chile springs forward at midnight: 2026-09-06 starts at 01:00 -03.
    assert local_time_to_utc(date(2026, 9, 6), time(0), "America/Santiago") == utc(2026, 9, 6, 4)
    saturday = utc(2026, 9, 5, 16)
    end = resolve_pause_end(PauseCommand(until="tomorrow"), now=saturday, tz="America/Santiago")
    assert end == utc(2026, 9, 6, 4)
    assert end.astimezone(ZoneInfo("America/Santiago")).time() == time(1)


def test_resolve_pause_end_rejects_unknown_targets() -> None:
    with pytest.raises(ValueError):
        resolve_pause_end(PauseCommand(until="someday"), now=WEDNESDAY_4PM_BERLIN, tz=BERLIN)
