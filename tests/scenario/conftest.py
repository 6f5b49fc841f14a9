"""Scenario fixtures: the real bot (Bolt app, aiohttp server, SQLite) against the fake Slack.

Requests are signed the way Slack signs them and sent over real HTTP; the bot talks to the fake
Slack Web API over real HTTP too. Time is injected (`clock`); the scheduler is driven by calling
the due-slot functions directly, never by sleeping.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.app import Runtime, start
from bot.config import Settings
from bot.ports import ChannelKey
from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import FakeSlack

SECRET = "scenario-signing-secret"
TEAM = "T0001"


class FakeClock:
    """An injectable clock: `clock()` is now; tests move it with `advance` or `set`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Reply:
    status: int
    text: str
    elapsed: float


@dataclass
class BotDriver:
    """Drives a started bot the way Slack would."""

    runtime: Runtime
    slack: FakeSlack
    clock: FakeClock
    http: aiohttp.ClientSession
    _responses: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.runtime.port}/slack/events"

    @property
    def services(self) -> Any:
        return self.runtime.services

    async def post(
        self,
        body: str,
        *,
        content_type: str | None = None,
        secret: str = SECRET,
        timestamp: int | None = None,
        retry_num: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        signed = payloads.signed_headers(
            secret, body, timestamp=timestamp, content_type=content_type, retry_num=retry_num
        )
        if headers is not None:
            signed = headers
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with self.http.post(self.url, data=body.encode(), headers=signed) as resp:
            text = await resp.text()
            return Reply(resp.status, text, loop.time() - started)

    async def command(
        self, text: str, *, user: str = "U0001", channel: str = "C0001", wait_reply: bool = True
    ) -> dict[str, Any] | None:
        """Send `/stretch <text>`; return the answer, wherever it arrives: the ack body (quick
        private answers), else the body posted to the response_url (None with `wait_reply`
        off, or when the ack carried none)."""
        self._responses += 1
        name = f"r{self._responses}"
        body = payloads.slash_command_body(
            text=text,
            user_id=user,
            channel_id=channel,
            team_id=TEAM,
            response_url=self.slack.response_url(name),
        )
        reply = await self.post(body)
        assert reply.status == 200, reply.text
        answered = payloads.ack_answer(reply.text)
        if answered is not None or not wait_reply:
            return answered
        return await self.response(name)

    async def response(self, name: str, timeout: float = 5.0) -> dict[str, Any]:
        async def posted() -> dict[str, Any] | None:
            for item in self.slack.responses:
                if item.name == name:
                    return item.body
            return None

        return await eventually(posted, timeout=timeout, what=f"a response_url post {name}")

    async def event(
        self, event: dict[str, Any], *, retry_num: int | None = None, event_id: str | None = None
    ) -> Reply:
        body = payloads.event_callback_body(event, team_id=TEAM, event_id=event_id)
        reply = await self.post(body, retry_num=retry_num)
        assert reply.status == 200, reply.text
        return reply

    async def react(
        self,
        *,
        user: str,
        ts: str,
        channel: str = "C0001",
        reaction: str = "white_check_mark",
        removed: bool = False,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> None:
        build = payloads.reaction_removed_event if removed else payloads.reaction_added_event
        await self.event(
            build(user=user, reaction=reaction, channel=channel, ts=ts),
            event_id=event_id,
            retry_num=retry_num,
        )

    async def press_done(self, *, user: str, ts: str, channel: str = "C0001") -> dict[str, Any]:
        self._responses += 1
        name = f"r{self._responses}"
        body = payloads.block_actions_body(
            action_id="stretch_done",
            value="x",
            user_id=user,
            channel_id=channel,
            message_ts=ts,
            team_id=TEAM,
            response_url=self.slack.response_url(name),
        )
        reply = await self.post(body)
        assert reply.status == 200, reply.text
        return await self.response(name)

    async def breaks(self, channel: str = "C0001") -> dict[str, int]:
        return dict(
            await self.runtime.services.storage.breaks.counts(channel=key(channel), since=None)
        )

    def posts(self, channel: str = "C0001") -> list[dict[str, Any]]:
        """Messages the bot posted to the channel (successful chat.postMessage calls)."""
        return self.slack.messages_in(channel)


def key(channel: str = "C0001") -> ChannelKey:
    return ChannelKey("slack", TEAM, channel)


async def eventually(
    probe: Callable[[], Awaitable[Any]], *, timeout: float = 5.0, what: str = "the condition"
) -> Any:
    """Poll `probe` until it returns something truthy (work the bot does after its ack)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def assert_no_repeat_of_the_last_three(bot: BotDriver, count: int) -> None:
    """The channel's nudges (the exercise key on each Done button) are `count`, and none repeats
    any of the three before it."""
    keys = [
        b["elements"][0]["value"]
        for m in bot.posts()
        for b in m["blocks"]
        if b["type"] == "actions"
    ]
    assert len(keys) == count, keys
    for i in range(3, len(keys)):
        assert keys[i] not in keys[i - 3 : i], keys


def blocks_text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + (message.get("text") or "")


@pytest.fixture
def clock() -> FakeClock:
    # Monday 2026-11-23 08:00 UTC (03:00 in New York, 09:00 in Berlin)
    return FakeClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(team_id=TEAM) as fake:
        fake.add_channel("C0001", name="general")
        fake.add_channel("C0002", name="random")
        fake.set_user("U0001", tz="Europe/Berlin")
        yield fake


def bot_settings(slack: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": "xoxb-scenario",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": 0,
        "LOG_LEVEL": "DEBUG",
        # The `/stretch now` cooldown has its own tests (tests/security); these post nudges
        # back to back on a frozen clock.
        "NOW_COOLDOWN_MINUTES": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def bot(slack: FakeSlack, clock: FakeClock, sqlite_url: str) -> AsyncIterator[BotDriver]:
    runtime = await start(bot_settings(slack, sqlite_url), clock=clock, scheduler_on=False)
    try:
        async with aiohttp.ClientSession() as http:
            yield BotDriver(runtime, slack, clock, http)
    finally:
        await runtime.stop()
