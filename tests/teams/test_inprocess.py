"""Commands and reactions in process, with the SDK's own test harness (microsoft-agents-testing).

The real AgentApplication, Teams extension and listeners run against `TestAdapter`, which
captures what the bot sends instead of calling a connector; proactive posts (nudges, boards) go
through the same adapter, so the Teams `Chat` port is exercised too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
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
from microsoft_agents.testing import TestAdapter, TestFlow

from bot.metrics import Metrics
from bot.services import Services
from handlers.teams.app import TeamsBot, build_teams, register_listeners
from handlers.teams.chat import TeamsChat
from storage.conversations import SqlConversationRepository
from storage.engine import create_engine, run_migrations
from storage.sql import SqlStorage, SqlTenancy
from tests.scenario.conftest import FakeClock
from tests.teams import payloads
from tests.teams.conftest import TEAMS_SETTINGS, teams_key
from tests.teams.payloads import ADA, GENERAL, GRACE

SERVICE_URL = "https://smba.trafficmanager.net/emea/"


@dataclass
class InProcess:
    bot: TeamsBot
    adapter: TestAdapter
    services: Services

    async def send(self, raw: dict[str, Any]) -> list[Activity]:
        """Run one activity through the bot; return what it sent meanwhile."""
        before = len(self.adapter.activity_queue)
        await self.adapter.process_activity(
            ClaimsIdentity({}), Activity.model_validate(raw), self.bot.agent.on_turn
        )
        return self.adapter.activity_queue[before:]

    def flow(self) -> TestFlow:
        return TestFlow(self.adapter, self.bot.agent.on_turn)


@pytest.fixture
async def inproc(sqlite_url: str) -> AsyncIterator[InProcess]:
    engine = create_engine(sqlite_url)
    await run_migrations(engine)
    bot = build_teams(
        TEAMS_SETTINGS,
        conversations=SqlConversationRepository(engine),
        metrics=Metrics(),
        anonymous=True,
    )
    adapter = TestAdapter(
        conversation=ConversationReference(
            channel_id=ChannelId("msteams"),
            service_url=SERVICE_URL,
            user=ChannelAccount(id=ADA.teams_id, name=ADA.name, aad_object_id=ADA.aad),
            agent=ChannelAccount(id=payloads.BOT_ID, name=payloads.BOT_NAME),
            conversation=ConversationAccount(
                id=GENERAL, conversation_type="channel", tenant_id=payloads.TENANT, is_group=True
            ),
            locale="en-US",
        )
    )
    chat = TeamsChat(adapter, bot.chat.directory)  # proactive posts through the test adapter
    services = Services.create(
        SqlStorage(engine),
        SqlTenancy(engine),
        {chat.platform: chat},
        clock=FakeClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
    )
    register_listeners(bot.agent, bot.teams, services, chat)
    try:
        yield InProcess(bot, adapter, services)
    finally:
        await engine.dispose()


def message(text: str, person: payloads.Person = ADA) -> dict[str, Any]:
    return payloads.message(text, service_url=SERVICE_URL, person=person)


async def test_a_schedule_command(inproc: InProcess) -> None:
    def scheduled(reply: Activity) -> None:
        assert reply.text is not None
        assert reply.text.startswith("<at>Ada Lovelace</at> scheduled movement breaks here")
        assert "Europe/Berlin" in reply.text
        [mention] = reply.get_mentions()
        assert mention.mentioned.id == ADA.aad

    await (
        inproc.flow()
        .send(Activity.model_validate(message("stretch every 45m 09:00-17:00 weekdays")))
        .assert_reply(scheduled)
        .send(Activity.model_validate(message("status", GRACE)))
        .assert_reply_contains("Next nudges: today 09:45")
        .assert_no_more_replies()
        .start_test()
    )
    state = await inproc.services.storage.channels.get(teams_key())
    assert state is not None and state.enabled


async def test_a_mistake_gets_usage_in_teams_words(inproc: InProcess) -> None:
    [reply] = await inproc.send(message("stretch sometimes"))
    assert reply.text is not None
    assert "`@stretchbot help`" in reply.text and "/stretch" not in reply.text


async def test_reactions_log_and_undo_breaks(inproc: InProcess) -> None:
    sent = await inproc.send(message("stretch"))  # a nudge right away
    [nudge] = [a for a in sent if a.attachments]
    assert nudge.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"
    assert nudge.id

    def react(
        person: payloads.Person, added: tuple[str, ...] = (), removed: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        return payloads.reaction(
            nudge.id or "", service_url=SERVICE_URL, person=person, added=added, removed=removed
        )

    await inproc.send(react(ADA, added=("like",)))
    await inproc.send(react(GRACE, added=("heart", "1f44f_clappinghands")))
    counts = await inproc.services.storage.breaks.counts(channel=teams_key(), since=None)
    assert counts == {ADA.aad: 1, GRACE.aad: 1}
    await inproc.send(react(ADA, removed=("like",)))
    await inproc.send(react(GRACE, removed=("heart",)))
    counts = await inproc.services.storage.breaks.counts(channel=teams_key(), since=None)
    assert counts == {GRACE.aad: 1}  # Grace's other reaction still counts


async def test_the_leaderboard_is_posted_with_names(inproc: InProcess) -> None:
    sent = await inproc.send(message("stretch"))
    [nudge] = [a for a in sent if a.attachments]
    await inproc.send(message("stats", GRACE))  # Grace's name becomes known
    await inproc.send(
        payloads.reaction(nudge.id or "", service_url=SERVICE_URL, person=GRACE, added=("like",))
    )
    sent = await inproc.send(message("leaderboard"))
    [board] = [a for a in sent if a.attachments]
    card = board.attachments[0].content
    assert isinstance(card, dict)
    assert card["body"][1]["text"] == "1. <at>Grace Hopper</at> 1 break, 1-day streak"
    assert card["msteams"]["entities"][0]["mentioned"] == {"id": GRACE.aad, "name": "Grace Hopper"}
