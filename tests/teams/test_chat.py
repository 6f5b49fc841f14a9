"""The Teams `Chat` port against the fake Bot Connector: limits, retries, failure mapping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ChannelId,
    ConversationAccount,
    ConversationReference,
)
from microsoft_agents.hosting.core import ClaimsIdentity
from microsoft_agents.hosting.core.app.proactive import Conversation

from bot.exercises import CATALOG
from bot.metrics import Metrics
from bot.ports import ChannelKey, PostError
from handlers.teams.app import TeamsBot, build_teams
from handlers.teams.chat import ConversationLimiter, RateWindow, TeamsChat, classify
from storage.conversations import SqlConversationRepository
from storage.engine import create_engine, run_migrations
from tests.teams import payloads
from tests.teams.conftest import TEAMS_SETTINGS, teams_key
from tests.teams.fake_connector import FakeConnector, card_of

GENERAL = payloads.GENERAL


@dataclass
class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Parts:
    bot: TeamsBot
    chat: TeamsChat
    time: FakeTime
    connector: FakeConnector
    metrics: Metrics


def reference_json(channel: str, service_url: str) -> str:
    reference = ConversationReference(
        channel_id=ChannelId("msteams"),
        service_url=service_url,
        agent=ChannelAccount(id=payloads.BOT_ID, name="stretchbot"),
        conversation=ConversationAccount(
            id=channel, conversation_type="channel", tenant_id=payloads.TENANT, is_group=True
        ),
    )
    return json.dumps(Conversation({}, reference).store_item_to_json())


async def store_reference(parts: Parts, channel: str = GENERAL, url: str | None = None) -> None:
    await parts.chat.directory.conversations.remember(
        channel=teams_key(channel),
        service_url=url or parts.connector.service_url,
        reference=reference_json(channel, url or parts.connector.service_url),
    )


@pytest.fixture
async def parts(sqlite_url: str, connector: FakeConnector) -> AsyncIterator[Parts]:
    engine = create_engine(sqlite_url)
    await run_migrations(engine)
    metrics = Metrics()
    bot = build_teams(
        TEAMS_SETTINGS,
        conversations=SqlConversationRepository(engine),
        metrics=metrics,
        anonymous=True,
    )
    time = FakeTime()
    chat = TeamsChat(
        bot.adapter,
        bot.chat.directory,
        metrics=metrics,
        limiter=ConversationLimiter(monotonic=time, sleep=time.sleep),
        sleep=time.sleep,
    )
    try:
        yield Parts(bot, chat, time, connector, metrics)
    finally:
        await engine.dispose()


async def test_a_nudge_is_a_new_post_in_the_channel(parts: Parts) -> None:
    await store_reference(parts)
    result = await parts.chat.post_nudge(teams_key(), CATALOG[0])
    assert result.ok
    [call] = parts.connector.calls
    assert call.kind == "send" and call.conversation_id == GENERAL
    assert result.message_id == call.response["id"]
    assert card_of(call.body) is not None
    assert "Authorization" not in call.headers  # anonymous mode: no token to the fake


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_throttling_and_passing_trouble_are_retried(parts: Parts, status: int) -> None:
    await store_reference(parts)
    parts.connector.fail(GENERAL, status=status, times=2)
    result = await parts.chat.post_text(teams_key(), "hello")
    assert result.ok
    assert [c.status for c in parts.connector.calls] == [status, status, 201]
    assert parts.time.sleeps == [0.5, 1.0]  # exponential backoff without Retry-After


async def test_retry_after_is_honoured(parts: Parts) -> None:
    await store_reference(parts)
    parts.connector.fail(GENERAL, status=429, retry_after=7)
    result = await parts.chat.post_text(teams_key(), "hello")
    assert result.ok and parts.time.sleeps == [7.0]
    sample = parts.metrics.registry.get_sample_value(
        "stretchbot_chat_api_rate_limited_total",
        {"platform": "teams", "method": "conversations.send"},
    )
    assert sample == 1.0


async def test_still_throttled_after_the_retries(parts: Parts) -> None:
    await store_reference(parts)
    parts.connector.fail(GENERAL, status=429, times=None)
    result = await parts.chat.post_text(teams_key(), "hello")
    assert result.error is PostError.RATE_LIMITED and result.detail == "TooManyRequests"
    assert len(parts.connector.calls) == 4  # the first try and three retries


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, "BotNotInConversationRoster"),
        (404, "ConversationNotFound"),
        (403, "BotDisabledByAdmin"),
    ],
)
async def test_a_conversation_the_bot_left_is_gone(parts: Parts, status: int, code: str) -> None:
    await store_reference(parts)
    parts.connector.fail(GENERAL, status=status, code=code)
    result = await parts.chat.post_nudge(teams_key(), CATALOG[0])
    assert result.error is PostError.CHANNEL_GONE and result.detail == code
    assert len(parts.connector.calls) == 1  # not retried
    stored = await parts.chat.directory.reference(teams_key())
    assert stored is not None and not stored.active
    again = await parts.chat.post_nudge(teams_key(), CATALOG[0])  # no request any more
    assert again.error is PostError.CHANNEL_GONE and again.detail == "bot_removed"
    assert len(parts.connector.calls) == 1


async def test_refused_credentials_are_an_auth_error(parts: Parts) -> None:
    await store_reference(parts)
    parts.connector.fail(GENERAL, status=401, code="Unauthorized")
    result = await parts.chat.post_text(teams_key(), "hello")
    assert result.error is PostError.AUTH


async def test_an_unreachable_connector_is_retried_then_reported(parts: Parts) -> None:
    await store_reference(parts, url="http://127.0.0.1:9/")  # discard port: refused
    result = await parts.chat.post_text(teams_key(), "hello")
    assert result.error is PostError.OTHER and result.detail.startswith("connection: ")
    assert len(parts.time.sleeps) == 3


async def test_a_token_failure_is_an_auth_error(parts: Parts) -> None:
    await store_reference(parts)

    class NoToken:
        async def continue_conversation_with_claims(self, *args: Any, **kw: Any) -> None:
            raise ValueError("Failed to acquire token. {'error': 'invalid_client'}")

    chat = TeamsChat(NoToken(), parts.chat.directory, sleep=parts.time.sleep)  # type: ignore[arg-type]
    result = await chat.post_text(teams_key(), "hello")
    assert result.error is PostError.AUTH and result.detail == "token_acquisition_failed"


async def test_without_a_reference_the_bot_is_not_in_the_channel(parts: Parts) -> None:
    result = await parts.chat.post_nudge(teams_key(), CATALOG[0])
    assert result.error is PostError.NOT_IN_CHANNEL
    assert (await parts.chat.ensure_member(teams_key())).error is PostError.NOT_IN_CHANNEL
    await store_reference(parts)
    assert (await parts.chat.ensure_member(teams_key())).ok
    await parts.chat.directory.forget(teams_key())
    assert (await parts.chat.ensure_member(teams_key())).error is PostError.CHANNEL_GONE
    assert parts.connector.calls == []


async def test_a_broken_reference_is_reported_not_raised(parts: Parts) -> None:
    await parts.chat.directory.conversations.remember(
        channel=teams_key(), service_url="x", reference="{not json"
    )
    result = await parts.chat.post_text(teams_key(), "hello")
    assert result.error is PostError.OTHER and result.detail == "bad_reference"


async def test_posts_are_spaced_to_the_per_conversation_limits(parts: Parts) -> None:
    await store_reference(parts)
    await store_reference(parts, payloads.DESIGN)
    for _ in range(9):
        assert (await parts.chat.post_text(teams_key(), "hi")).ok
    # 7 a second, 8 in two seconds: the 8th waits a second, the 9th until two have passed
    assert parts.time.sleeps == [1.0, 1.0]
    assert (await parts.chat.post_text(teams_key(payloads.DESIGN), "hi")).ok
    assert parts.time.sleeps == [1.0, 1.0]  # another conversation has its own budget


async def test_the_limiter_keeps_to_sixty_in_thirty_seconds() -> None:
    time = FakeTime()
    limiter = ConversationLimiter(
        (RateWindow(1, 7), RateWindow(30, 60)), monotonic=time, sleep=time.sleep
    )
    start = time.now
    stamps = []
    for _ in range(61):
        await limiter.acquire("c")
        stamps.append(time.now)
    assert all(sum(1 for t in stamps if s <= t < s + 1) <= 7 for s in stamps)
    assert stamps[59] - start < 30 and stamps[60] - start >= 30  # the 61st waits for the window


def test_classify() -> None:
    assert classify(403, "BotNotInConversationRoster") is PostError.CHANNEL_GONE
    assert classify(404, None) is PostError.CHANNEL_GONE
    assert classify(403, "Forbidden") is PostError.AUTH
    assert classify(429, None) is PostError.RATE_LIMITED
    assert classify(500, None) is PostError.OTHER


def test_teams_channel_keys_are_platform_teams() -> None:
    assert teams_key() == ChannelKey("teams", payloads.WORKSPACE, GENERAL)


async def test_outside_tests_only_microsoft_service_urls_are_accepted(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        bot = build_teams(
            TEAMS_SETTINGS, conversations=SqlConversationRepository(engine), metrics=Metrics()
        )
        assert not bot.auth_config.ANONYMOUS_ALLOWED

        def accepted(service_url: str) -> bool:
            activity = Activity(type="message", service_url=service_url)
            # the check the SDK runs on every request before the activity reaches the bot
            return bot.adapter._validate_service_url(ClaimsIdentity({"aud": "x"}), activity)

        assert accepted("https://smba.trafficmanager.net/emea/")
        assert not accepted("https://attacker.example/")
        assert not accepted("http://127.0.0.1:8080/")
    finally:
        await engine.dispose()
