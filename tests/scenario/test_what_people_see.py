"""What people read: the wording slips found by trying the bot as a user would (leaderboard
floods, dates without a year, misleading hints), each checked over real HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.app import start
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import BotDriver, FakeClock, bot_settings, eventually
from tests.scenario.test_slack_bot import breaks_become, nudge_ts


@pytest.fixture
async def cooled(slack: FakeSlack, clock: FakeClock, sqlite_url: str) -> AsyncIterator[BotDriver]:
    """A bot with the default 5-minute cooldowns on."""
    settings = bot_settings(slack, sqlite_url, NOW_COOLDOWN_MINUTES=5)
    runtime = await start(settings, clock=clock, scheduler_on=False)
    try:
        async with aiohttp.ClientSession() as http:
            yield BotDriver(runtime, slack, clock, http)
    finally:
        await runtime.stop()


def boards_posted(bot: BotDriver) -> list[dict[str, object]]:
    return [m for m in bot.posts() if "leaderboard" in str(m.get("text", "")).lower()]


async def test_a_second_leaderboard_inside_the_cooldown_goes_only_to_the_asker(
    cooled: BotDriver,
) -> None:
    bot = cooled
    ts = await nudge_ts(bot)
    await bot.react(user="U0002", ts=ts)
    await breaks_become(bot, {"U0002": 1})
    assert await bot.command("leaderboard", wait_reply=False) is None
    await eventually(lambda: _boards(bot, 1), what="the board")
    again = await bot.command("leaderboard", user="U0003")
    assert again is not None and again["response_type"] == "ephemeral"
    assert "1. <@U0002> 1 break" in again["text"]
    assert len(boards_posted(bot)) == 1
    bot.clock.advance(minutes=6)
    assert await bot.command("leaderboard", wait_reply=False) is None
    await eventually(lambda: _boards(bot, 2), what="the second board")


async def _boards(bot: BotDriver, count: int) -> bool:
    return len(boards_posted(bot)) == count


async def test_long_pauses_show_the_year_and_one_limit_holds_for_both_forms(
    bot: BotDriver,
) -> None:
    await bot.command("every 45m")
    reply = await bot.command("pause 364 days")
    assert reply is not None
    # Monday 2026-11-23 + 364 days: the fallback names the year and the zone; Slack shows each
    # reader the date in their own zone.
    assert re.search(
        r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|Mon 22 Nov 2027 09:00 CET>", reply["text"]
    ), reply
    refused = await bot.command("pause until 2030-01-01")
    assert refused is not None and "up to a year" in refused["text"]
    status = await bot.command("status")
    assert status is not None and "Nov 2027" in status["text"]  # still the first pause


async def test_stats_on_a_weekend_do_not_ask_for_a_break_already_taken(bot: BotDriver) -> None:
    await bot.command("every 45m 09:00-17:00 weekdays")
    bot.clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))  # Saturday
    ts = await nudge_ts(bot)
    await bot.react(user="U0001", ts=ts)
    await breaks_become(bot, {"U0001": 1})
    stats = await bot.command("stats")
    assert stats is not None
    assert "1 break this week" in stats["text"]
    assert "log a break today" not in stats["text"]
    assert "Monday" in stats["text"]


@pytest.mark.parametrize(
    ("text", "says", "not_says"),
    [
        ("leaderboard weekly", "Friday", "Monday"),
        ("every -5m", "can't be negative", "Did you mean"),
        ("every 5m", "15m", "I didn't understand"),
        ("pause until next weak", "until next weak", "until weak"),
    ],
)
async def test_hints_say_what_is_wrong(bot: BotDriver, text: str, says: str, not_says: str) -> None:
    reply = await bot.command(text)
    assert reply is not None
    assert says in reply["text"] and not_says not in reply["text"], reply["text"]
    assert reply["text"].count("/stretch help") == 1


async def test_pause_until_next_week_pauses_until_monday(bot: BotDriver) -> None:
    await bot.command("every 45m")
    reply = await bot.command("pause until next week")
    assert reply is not None and reply["response_type"] == "in_channel"
    assert "Mon 30 Nov" in reply["text"]


async def test_every_8h_gets_a_window_that_works(bot: BotDriver) -> None:
    refused = await bot.command("every 8h")
    assert refused is not None
    suggestion = re.search(r"`(every 8h [0-9:]+-17:00)`", refused["text"])
    assert suggestion is not None, refused["text"]
    accepted = await bot.command(suggestion.group(1))
    assert accepted is not None and accepted["response_type"] == "in_channel"
    assert "First nudge" in accepted["text"]
