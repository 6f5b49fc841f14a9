"""Security fixtures: the real bot in token mode (one workspace) with the abuse limits on.

Reuses the scenario harness (tests/scenario/conftest.py): real HTTP both ways, the fake Slack,
signed requests, an injected clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bot.app import Runtime, start
from tests.fakes.slack_api import FakeSlack
from tests.scenario import conftest as scenario
from tests.scenario.conftest import BotDriver, FakeClock, bot_settings

# The scenario suite's fixtures, shared: a started fake Slack with C0001/C0002 and U0001 in
# Berlin, and a frozen clock at Monday 2026-11-23 08:00 UTC.
slack = scenario.slack
clock = scenario.clock

StartBot = Callable[..., Awaitable[BotDriver]]


@pytest.fixture
async def start_bot(slack: FakeSlack, clock: FakeClock, sqlite_url: str) -> AsyncIterator[StartBot]:
    """`await start_bot(**settings)`: a token-mode bot (scheduler off) on this test's SQLite
    file, with the production abuse limits unless overridden; stopped after the test."""
    started: list[Runtime] = []
    async with aiohttp.ClientSession() as http:

        async def factory(**overrides: Any) -> BotDriver:
            settings = bot_settings(slack, sqlite_url, **{"NOW_COOLDOWN_MINUTES": 5, **overrides})
            runtime = await start(settings, clock=clock, scheduler_on=False)
            started.append(runtime)
            return BotDriver(runtime, slack, clock, http)

        try:
            yield factory
        finally:
            for runtime in started:
                await runtime.stop()


@pytest.fixture
async def bot(start_bot: StartBot) -> BotDriver:
    return await start_bot()
