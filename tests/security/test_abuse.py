"""Abuse limits: `/stretch now` once per channel per cooldown (in the database, so every replica
agrees), and a per-person command rate limit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands.runner import CommandRateLimit
from storage.engine import create_engine
from storage.sql import SqlTenancy
from tests.scenario.conftest import BotDriver, eventually
from tests.security.conftest import StartBot

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def now_posts(bot: BotDriver, channel: str = "C0001") -> dict | None:
    """`/stretch now`; None when it posted a nudge, else the reply it got."""
    before = len(bot.posts(channel))
    await bot.command("now", channel=channel, wait_reply=False)
    name = f"r{bot._responses}"

    async def outcome() -> object:
        if len(bot.posts(channel)) > before:
            return "posted"
        return next((r.body for r in bot.slack.responses if r.name == name), None)

    result = await eventually(outcome, what="a nudge or a reply")
    return None if result == "posted" else result  # type: ignore[return-value]


async def test_now_at_most_once_per_channel_per_five_minutes(bot: BotDriver) -> None:
    assert await now_posts(bot) is None
    refused = await now_posts(bot)
    assert refused is not None and refused["response_type"] == "ephemeral"
    assert "works again here in 5 minutes" in refused["text"]
    assert await now_posts(bot, "C0002") is None  # another channel has its own cooldown
    bot.clock.advance(minutes=4)
    refused = await now_posts(bot)
    assert refused is not None and "in 1 minute." in refused["text"]
    bot.clock.advance(minutes=1)
    assert await now_posts(bot) is None
    assert len(bot.posts("C0001")) == 2


async def test_a_now_that_could_not_post_does_not_hold_the_cooldown(bot: BotDriver) -> None:
    bot.slack.add_channel("G0001", name="secret", private=True)
    refused = await now_posts(bot, "G0001")
    assert refused is not None and "/invite @stretchbot" in refused["text"]
    bot.slack.channels["G0001"].is_member = True  # they invite the bot and try again
    assert await now_posts(bot, "G0001") is None


async def test_cooldown_is_configurable(start_bot: StartBot) -> None:
    bot = await start_bot(NOW_COOLDOWN_MINUTES=0)
    for _ in range(3):
        assert await now_posts(bot) is None


async def test_the_cooldown_holds_across_replicas(
    database_url: str, db_engine: AsyncEngine
) -> None:
    """Two processes' repositories on one database racing for the same cooldown: one wins."""
    other = create_engine(database_url)
    try:
        replicas = [SqlTenancy(db_engine), SqlTenancy(other)]

        async def take(index: int) -> datetime | None:
            return await replicas[index % 2].cooldowns.take(
                platform="slack",
                team_id="T1",
                action="now",
                subject="C1",
                now=T0,
                period_seconds=300,
            )

        results = await asyncio.gather(*(take(i) for i in range(12)))
        assert results.count(None) == 1
        assert set(results) - {None} == {T0 + timedelta(minutes=5)}
        # Other channels, other workspaces: their own cooldowns.
        for team, channel in (("T1", "C2"), ("T2", "C1")):
            assert (
                await replicas[1].cooldowns.take(
                    platform="slack",
                    team_id=team,
                    action="now",
                    subject=channel,
                    now=T0,
                    period_seconds=300,
                )
                is None
            )
        later = T0 + timedelta(minutes=5)
        assert (
            await replicas[1].cooldowns.take(
                platform="slack",
                team_id="T1",
                action="now",
                subject="C1",
                now=later,
                period_seconds=300,
            )
            is None
        )
    finally:
        await other.dispose()


async def test_per_person_command_rate_limit(bot: BotDriver) -> None:
    for _ in range(10):
        reply = await bot.command("status")
        assert reply is not None and "Easy there" not in reply["text"]
    limited = await bot.command("status")
    assert limited is not None and "Easy there" in limited["text"]
    assert "Try again in 60 seconds" in limited["text"]
    other = await bot.command("status", user="U0002")
    assert other is not None and "Easy there" not in other["text"]
    bot.clock.advance(seconds=60)
    again = await bot.command("status")
    assert again is not None and "Easy there" not in again["text"]


def test_rate_limit_window_slides() -> None:
    limit = CommandRateLimit(3)
    who = ("slack", "T1", "U1")
    for second in (0, 10, 20):
        assert limit.hit(who, T0 + timedelta(seconds=second)) is None
    assert limit.hit(who, T0 + timedelta(seconds=30)) == timedelta(seconds=30)
    assert limit.hit(who, T0 + timedelta(seconds=60)) is None  # the first one slid out
    assert limit.hit(("slack", "T2", "U1"), T0 + timedelta(seconds=60)) is None
