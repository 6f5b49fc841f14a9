"""`/stretch admins-only on|off`: schedule changes for workspace admins and owners only."""

from __future__ import annotations

import pytest

from tests.scenario.conftest import BotDriver, key
from tests.security.conftest import StartBot

ADMIN, OWNER, MEMBER = "U0009", "U0010", "U0001"
SCHEDULE_CHANGES = [
    "every 45m",
    "pause 2h",
    "resume",
    "off",
    "seated on",
    "leaderboard weekly off",
]


@pytest.fixture
async def bot(start_bot: StartBot) -> BotDriver:
    return await start_bot(COMMANDS_PER_MINUTE=100)  # many commands on a frozen clock


async def text_of(bot: BotDriver, command: str, user: str = MEMBER) -> str:
    reply = await bot.command(command, user=user)
    assert reply is not None
    assert reply["response_type"] == "ephemeral" or "Only" not in reply["text"]
    return str(reply["text"])


async def test_admins_only_limits_schedule_changes_to_admins_and_owners(bot: BotDriver) -> None:
    bot.slack.set_user(ADMIN, is_admin=True)
    bot.slack.set_user(OWNER, is_owner=True)
    assert "scheduled movement breaks" in await text_of(bot, "every 45m", MEMBER)

    refused = await text_of(bot, "admins-only on", MEMBER)
    assert "Only workspace admins and owners can switch" in refused
    assert "anyone can change" in await text_of(bot, "admins-only", MEMBER)

    assert "only workspace admins and owners can change" in await text_of(
        bot, "admins-only on", ADMIN
    )
    assert "only workspace admins and owners can change" in await text_of(
        bot, "admins-only", MEMBER
    )
    before = await bot.services.storage.channels.get(key())
    for command in SCHEDULE_CHANGES:
        text = await text_of(bot, command, MEMBER)
        assert "Only workspace admins and owners can change the schedule" in text, command
    assert await bot.services.storage.channels.get(key()) == before  # nothing changed

    # Everything that changes no schedule stays open to everyone.
    for command in ("status", "stats", "help", "leaderboard"):
        assert "Only workspace admins" not in await text_of(bot, command, MEMBER), command

    assert "scheduled movement breaks" in await text_of(bot, "every 30m", OWNER)
    assert "paused" in await text_of(bot, "pause 2h", ADMIN)
    assert "Only workspace admins" in await text_of(bot, "admins-only off", MEMBER)
    assert "anyone in a channel" in await text_of(bot, "admins-only off", OWNER)
    assert "resumed" in await text_of(bot, "resume", MEMBER)


async def test_when_slack_cannot_say_who_is_admin_nothing_changes(bot: BotDriver) -> None:
    bot.slack.set_user(ADMIN, is_admin=True)
    await text_of(bot, "admins-only on", ADMIN)
    # Twice: the first users.info is the reader's locale (bot.languages; English when it fails),
    # the second the admin check.
    bot.slack.fail_with_error("users.info", "ratelimited", times=2)
    assert "couldn't check your workspace role" in await text_of(bot, "every 45m", MEMBER)
    assert await bot.services.storage.channels.get(key()) is None
