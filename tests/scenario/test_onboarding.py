"""The bot's hello over real HTTP: inviting the bot to a channel (`member_joined_channel` for
its own user) posts one hello with "Set a schedule" and "Take a break now", never twice for a
channel however Slack delivers the event; the buttons open the settings modal and post a break
(with the `/stretch now` cooldown)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.app import start
from tests.fakes import slack_payloads as payloads
from tests.fakes import slack_surface_payloads as surface
from tests.fakes.block_kit import message_problems
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import TEAM, BotDriver, FakeClock, bot_settings, eventually
from tests.scenario.surfaces import USER, open_home, opened_modal

BOT_USER = "UBOT"


def hellos(bot: BotDriver, channel: str = "C0001") -> list[dict[str, Any]]:
    return [m for m in bot.posts(channel) if "Hi, I'm stretchbot" in m["text"]]


def nudges(bot: BotDriver, channel: str = "C0001") -> list[dict[str, Any]]:
    return [m for m in bot.posts(channel) if m["text"].startswith("Movement break")]


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The message's buttons by their label."""
    return {
        element["text"]["text"]: element
        for block in message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    }


async def invite_bot(bot: BotDriver, channel: str = "C0001", **kw: Any) -> None:
    bot.slack.channels[channel].is_member = True
    await bot.event(surface.member_joined_channel_event(user=BOT_USER, channel=channel), **kw)


async def one_hello(bot: BotDriver, channel: str = "C0001") -> dict[str, Any]:
    async def posted() -> list[dict[str, Any]]:
        return hellos(bot, channel)

    [hello] = await eventually(posted, what="the hello")
    return hello


async def press(bot: BotDriver, message: dict[str, Any], label: str, name: str) -> None:
    button = buttons(message)[label]
    body = payloads.block_actions_body(
        action_id=button["action_id"],
        value=button["value"],
        user_id=USER,
        channel_id="C0001",
        message_ts=message["ts"],
        team_id=TEAM,
        response_url=bot.slack.response_url(name),
        trigger_id=bot.slack.surfaces.issue_trigger(USER),
        message=message,
    )
    reply = await bot.post(body)
    assert reply.status == 200, reply.text


async def test_joining_a_channel_posts_one_hello_with_two_buttons(bot: BotDriver) -> None:
    await invite_bot(bot)
    hello = await one_hello(bot)
    assert not message_problems(hello)
    assert "/stretch help" in hello["text"]
    assert list(buttons(hello)) == ["Set a schedule", "Take a break now"]
    assert [b["value"] for b in buttons(hello).values()] == ["settings", "now"]
    assert not bot.slack.calls_to("conversations.join")  # it was invited: nothing to join


async def test_a_duplicate_or_retried_delivery_says_hello_once(bot: BotDriver) -> None:
    event = surface.member_joined_channel_event(user=BOT_USER, channel="C0001")
    bot.slack.channels["C0001"].is_member = True
    await bot.event(event, event_id="Ev0001JOIN")
    await bot.event(event, event_id="Ev0001JOIN", retry_num=1)  # Slack's retry
    await bot.event(dict(event, event_ts=payloads.now_ts()))  # a second delivery, new id
    await one_hello(bot)
    await _settle(bot)
    assert len(hellos(bot)) == 1
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


async def test_the_bot_leaving_and_coming_back_says_nothing_new(bot: BotDriver) -> None:
    await invite_bot(bot)
    await one_hello(bot)
    bot.slack.channels["C0001"].is_member = False
    await invite_bot(bot)  # removed and invited again, days later
    await _settle(bot)
    assert len(hellos(bot)) == 1


async def test_other_people_joining_or_a_scheduled_channel_get_no_hello(bot: BotDriver) -> None:
    bot.slack.channels["C0001"].is_member = True
    await bot.event(surface.member_joined_channel_event(user="U0002", channel="C0001"))
    # Scheduling C0002 makes the bot join it: whoever typed it knows what it does.
    scheduled = await bot.command("every 45m", channel="C0002")
    assert scheduled is not None and scheduled["response_type"] == "in_channel"
    await invite_bot(bot, "C0002")
    # Bad shapes: no channel, a channel object, the user as an object.
    for event in (
        {"type": "member_joined_channel", "user": BOT_USER},
        {"type": "member_joined_channel", "user": BOT_USER, "channel": {"id": "C0001"}},
        {"type": "member_joined_channel", "user": {"id": BOT_USER}, "channel": "C0001"},
    ):
        await bot.event(event)
    await _settle(bot)
    assert not hellos(bot, "C0001") and not hellos(bot, "C0002")


async def test_a_hello_that_could_not_be_posted_is_said_on_the_next_join(
    bot: BotDriver,
) -> None:
    bot.slack.fail_with_error("chat.postMessage", "not_in_channel")
    await invite_bot(bot)
    await bot.slack.wait_for("chat.postMessage")
    await _settle(bot)
    assert not hellos(bot)
    await invite_bot(bot)
    await one_hello(bot)


async def test_a_purged_workspace_is_greeted_again(bot: BotDriver) -> None:
    await invite_bot(bot)
    await one_hello(bot)
    installs = bot.services.installs
    await installs.workspace_uninstalled(platform="slack", team_id=TEAM)
    await installs.purge_now(platform="slack", team_id=TEAM)
    bot.slack.messages.clear()
    bot.clock.advance(minutes=11)  # past what the process itself remembers
    await invite_bot(bot)
    await one_hello(bot)


async def test_set_a_schedule_opens_the_settings_modal(bot: BotDriver) -> None:
    bot.slack.surfaces.join(USER, "C0001")
    await invite_bot(bot)
    hello = await one_hello(bot)
    await press(bot, hello, "Set a schedule", "hello-settings")
    _call, view = await opened_modal(bot)
    assert view["title"]["text"] == "Channel schedule"
    assert view["callback_id"] == "stretch_settings"
    assert '"c":"C0001"' in view["private_metadata"]
    assert len(hellos(bot)) == 1  # the hello stays as it was


@pytest.fixture
async def cooling_bot(
    slack: FakeSlack, clock: FakeClock, sqlite_url: str
) -> AsyncIterator[BotDriver]:
    """The bot with the `/stretch now` cooldown on (5 minutes, the default)."""
    settings = bot_settings(slack, sqlite_url, NOW_COOLDOWN_MINUTES=5)
    runtime = await start(settings, clock=clock, scheduler_on=False)
    try:
        async with aiohttp.ClientSession() as http:
            yield BotDriver(runtime, slack, clock, http)
    finally:
        await runtime.stop()


async def test_take_a_break_now_posts_one_break_within_the_cooldown(
    cooling_bot: BotDriver,
) -> None:
    bot = cooling_bot
    await invite_bot(bot)
    hello = await one_hello(bot)
    await press(bot, hello, "Take a break now", "hello-now-1")

    async def posted() -> list[dict[str, Any]]:
        return nudges(bot)

    [nudge] = await eventually(posted, what="the break")
    assert any(b.get("block_id") == "stretch_nudge" for b in nudge["blocks"])
    await press(bot, hello, "Take a break now", "hello-now-2")
    answer = await bot.response("hello-now-2")
    assert "just a moment ago" in answer["text"] and answer["response_type"] == "ephemeral"
    assert answer.get("replace_original") is False  # the hello stays for everyone
    assert len(nudges(bot)) == 1


async def _settle(bot: BotDriver) -> None:
    """Wait until the events sent so far were handled: a later request's work is done (the
    Home tab published) and nothing acked is still running."""
    await open_home(bot)

    async def idle() -> bool:
        return len(bot.runtime.slack.work) == 0

    await eventually(idle, what="acked work to finish")


async def test_twenty_deliveries_at_once_post_one_hello_and_ack_fast(bot: BotDriver) -> None:
    bot.slack.channels["C0001"].is_member = True
    event = surface.member_joined_channel_event(user=BOT_USER, channel="C0001")
    replies = await asyncio.gather(*(bot.event(event) for _ in range(20)))
    await one_hello(bot)
    await _settle(bot)
    assert len(hellos(bot)) == 1
    assert max(r.elapsed for r in replies) < 3.0  # Slack's ack limit
