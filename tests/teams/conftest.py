"""Teams fixtures: the real bot (`bot.app.start`) with Teams on, against a fake Bot Connector.

Activities are POSTed over HTTP to the bot's real `/api/messages`; their `serviceUrl` is the
fake connector, so every reply, proactive post and card update the SDK makes arrives there.
There are no Entra tokens here, so the SDK's anonymous mode is on, for tests only
(`start(..., teams_anonymous=True)`). Time is injected; scheduled nudges are driven by calling
`services.nudging.run_due_nudges(now)`, never by sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import Runtime, start
from bot.config import Settings
from bot.ports import ChannelKey
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import FakeClock, bot_settings
from tests.teams import payloads
from tests.teams.fake_connector import ConnectorCall, FakeConnector

# Upstream noise, not ours: the Teams extension builds a Teams API client per turn whose bot
# client is deprecated, and the SDK's JWT check stores its result under a plain string key.
QUIET = (
    "ignore:The bot client is deprecated:DeprecationWarning",
    "ignore::aiohttp.web_exceptions.NotAppKeyWarning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            for spec in QUIET:
                item.add_marker(pytest.mark.filterwarnings(spec))


TEAMS_SETTINGS = {
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": payloads.APP_ID,
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "not-used-in-anonymous-mode",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": payloads.TENANT,
}


def teams_key(channel: str = payloads.GENERAL, workspace: str = payloads.WORKSPACE) -> ChannelKey:
    return ChannelKey("teams", workspace, channel)


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class TeamsDriver:
    """Drives a started bot the way Teams would."""

    runtime: Runtime
    connector: FakeConnector
    clock: FakeClock
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.runtime.port}/api/messages"

    @property
    def services(self) -> Any:
        return self.runtime.services

    @property
    def service_url(self) -> str:
        return self.connector.service_url

    async def send(
        self, activity: dict[str, Any], *, headers: dict[str, str] | None = None
    ) -> Answer:
        async with self.http.post(self.url, json=activity, headers=headers) as response:
            body = await response.json() if response.content_type == "application/json" else None
            return Answer(response.status, body)

    async def install(self, **kw: Any) -> Answer:
        answer = await self.send(payloads.installed(service_url=self.service_url, **kw))
        assert answer.status in (200, 202), answer
        return answer

    async def say(self, text: str, **kw: Any) -> list[ConnectorCall]:
        """Send `@stretchbot <text>`; return what the bot delivered while handling it."""
        before = len(self.connector.calls)
        answer = await self.send(payloads.message(text, service_url=self.service_url, **kw))
        assert answer.status in (200, 202), answer
        return self.connector.calls[before:]

    async def nudge(self, at: datetime, channel: str = payloads.GENERAL) -> ConnectorCall:
        """Run the scheduler at `at`; return the nudge card posted to `channel`."""
        self.clock.set(at)
        before = len(self.connector.cards(channel))
        outcomes = await self.services.nudging.run_due_nudges(at)
        assert [o.decision for o in outcomes] == ["posted"], outcomes
        cards = self.connector.cards(channel)
        assert len(cards) == before + 1
        return cards[-1]

    async def breaks(self, channel: str = payloads.GENERAL) -> dict[str, int]:
        counts = await self.services.storage.breaks.counts(channel=teams_key(channel), since=None)
        return dict(counts)


def teams_settings(slack: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    return bot_settings(slack, database_url, **{**TEAMS_SETTINGS, **overrides})


@pytest.fixture
def clock() -> FakeClock:
    # Monday 2026-11-23 08:00 UTC (09:00 in Berlin)
    return FakeClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(team_id="T0001") as fake:
        yield fake


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as fake:
        yield fake


@pytest.fixture
async def teams(
    slack: FakeSlack, connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> AsyncIterator[TeamsDriver]:
    runtime = await start(
        teams_settings(slack, sqlite_url), clock=clock, scheduler_on=False, teams_anonymous=True
    )
    try:
        async with aiohttp.ClientSession() as http:
            yield TeamsDriver(runtime, connector, clock, http)
    finally:
        await runtime.stop()
