"""✅ reactions through the real bot over HTTP, written by the break writer in batches: a burst
with retries and extra marks makes each break exactly once, a database hiccup loses nothing,
and shutting down writes what was acked. On SQLite and (with TEST_POSTGRES_URL) Postgres."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.app import start
from bot.ports import MarkChange, MarkOutcome
from storage.engine import create_engine
from storage.models import BreakRow
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import BotDriver, FakeClock, bot_settings, key

NUDGES = 5
PEOPLE = 30


@pytest.fixture
async def any_bot(
    slack: FakeSlack, clock: FakeClock, database_url: str
) -> AsyncIterator[BotDriver]:
    runtime = await start(bot_settings(slack, database_url), clock=clock, scheduler_on=False)
    try:
        async with aiohttp.ClientSession() as http:
            yield BotDriver(runtime, slack, clock, http)
    finally:
        await runtime.stop()


async def posted_nudges(bot: BotDriver, count: int) -> list[str]:
    """`count` nudges posted in C0001 with known message ts."""
    storage = bot.services.storage
    stamps = []
    for n in range(count):
        nudge = await storage.nudges.create_adhoc(channel=key(), exercise_key="heel-lifts")
        ts = f"1700000{n:03d}.000100"
        await storage.nudges.mark_posted(nudge.id, message_id=ts, posted_at=bot.clock())
        stamps.append(ts)
    return stamps


async def send_all(
    bot: BotDriver, reactions: Sequence[dict[str, Any]], in_flight: int = 32
) -> None:
    room = asyncio.Semaphore(in_flight)

    async def one(reaction: dict[str, Any]) -> None:
        async with room:
            await bot.react(**reaction)

    await asyncio.gather(*(one(reaction) for reaction in reactions))


def breaks_logged(bot: BotDriver) -> float:
    return float(bot.services.metrics.breaks_logged.labels("slack")._value.get())


async def test_a_burst_makes_each_break_exactly_once(
    any_bot: BotDriver, caplog: pytest.LogCaptureFixture
) -> None:
    bot = any_bot
    stamps = await posted_nudges(bot, NUDGES)
    reactions: list[dict[str, Any]] = []
    for n, ts in enumerate(stamps):
        for p in range(PEOPLE):
            user = f"U{p:04d}"
            reactions.append({"user": user, "ts": ts})
            if p % 3 == 0:  # Slack redelivers the event
                reactions.append({"user": user, "ts": ts, "retry_num": 1})
            if (p + n) % 4 == 0:  # a second ✅-style reaction, then taken off again
                reactions.append({"user": user, "ts": ts, "reaction": "heavy_check_mark"})
                reactions.append(
                    {"user": user, "ts": ts, "reaction": "heavy_check_mark", "removed": True}
                )
    reactions.append({"user": "U9999", "ts": "1600000000.000100"})  # not a nudge
    with caplog.at_level(logging.INFO, logger="stretchbot.services"):
        await send_all(bot, reactions)
        assert await bot.services.breaks.flush(grace_seconds=10)

    assert await bot.breaks() == {f"U{p:04d}": NUDGES for p in range(PEOPLE)}
    assert breaks_logged(bot) == NUDGES * PEOPLE  # each break counted once ...
    logged = [r for r in caplog.records if r.getMessage().startswith("break.logged")]
    assert len(logged) == NUDGES * PEOPLE  # ... and logged once
    assert bot.services.breaks.marks.batches < len(reactions) / 4  # batched, not one per event


async def test_a_database_hiccup_is_retried_and_no_break_is_lost(
    any_bot: BotDriver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bot = any_bot
    stamps = await posted_nudges(bot, 2)
    breaks = bot.services.storage.breaks
    real = breaks.apply_marks
    failures = [2]  # the next two writes fail, whatever their size

    async def flaky(changes: Sequence[MarkChange], **options: Any) -> list[MarkOutcome]:
        if failures[0]:
            failures[0] -= 1
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return await real(changes, **options)

    monkeypatch.setattr(breaks, "apply_marks", flaky)
    writer = bot.services.breaks.marks
    monkeypatch.setattr(writer, "batch_retry_pauses", (0.0,))
    monkeypatch.setattr(writer, "retry_pauses", (0.0, 0.0))
    await send_all(bot, [{"user": f"U{p}", "ts": ts} for ts in stamps for p in range(10)])
    assert await bot.services.breaks.flush(grace_seconds=10)

    assert failures == [0]
    assert await bot.breaks() == {f"U{p}": 2 for p in range(10)}
    assert breaks_logged(bot) == 20
    assert "retrying" in caplog.text


async def test_stopping_writes_every_acked_mark_first(
    any_bot: BotDriver, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    bot = any_bot
    stamps = await posted_nudges(bot, 4)
    breaks = bot.services.storage.breaks
    real = breaks.apply_marks
    stopping = bot.runtime.stopped

    async def held(changes: Sequence[MarkChange], **options: Any) -> list[MarkOutcome]:
        await stopping.wait()  # nothing is written before shutdown starts
        return await real(changes, **options)

    monkeypatch.setattr(breaks, "apply_marks", held)
    await send_all(bot, [{"user": f"U{p}", "ts": ts} for ts in stamps for p in range(25)])
    await bot.runtime.stop()

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            count = (await conn.execute(select(func.count()).select_from(BreakRow))).scalar_one()
    finally:
        await engine.dispose()
    assert count == 100
