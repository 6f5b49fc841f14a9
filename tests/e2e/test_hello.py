"""The real `stretchbot run` (HTTP mode) says hello once: inviting the bot to a channel posts
one hello with "Set a schedule" and "Take a break now"; a redelivered event, and the same event
after a restart, post nothing more. Its buttons open the settings modal and post a break."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import (
    CHANNEL,
    USER,
    BotFactory,
    SlackClient,
    eventually,
    http_mode_env,
)
from tests.fakes import slack_payloads as payloads
from tests.fakes import slack_surface_payloads as surface
from tests.fakes.block_kit import message_problems
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e


def hellos(slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in slack.messages_in(CHANNEL) if "Hi, I'm stretchbot" in m["text"]]


def press_body(slack: FakeSlack, hello: dict[str, Any], label: str, name: str) -> str:
    [button] = [
        e
        for b in hello["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    ]
    return payloads.block_actions_body(
        action_id=button["action_id"],
        value=button["value"],
        user_id=USER,
        channel_id=CHANNEL,
        message_ts=hello["ts"],
        response_url=slack.response_url(name),
        trigger_id=slack.surfaces.issue_trigger(USER),
        message=hello,
    )


async def test_the_hello_is_said_once_across_redeliveries_and_restarts(
    slack: FakeSlack, slack_client: SlackClient, start_bot: BotFactory, sqlite_url: str
) -> None:
    env = http_mode_env(slack, sqlite_url)
    bot = await start_bot(env)
    joined = surface.member_joined_channel_event(user=slack.bot_user_id, channel=CHANNEL)
    body = payloads.event_callback_body(joined, team_id=slack.team_id, event_id="Ev0001HELLO")
    reply = await slack_client.post(bot, body)
    assert reply.status == 200 and reply.elapsed < 3.0

    [hello] = await eventually(lambda: hellos(slack), timeout=10, what="the hello")
    assert not message_problems(hello)
    assert (await slack_client.post(bot, body)).status == 200  # Slack redelivers it

    # "Set a schedule" opens the settings form; "Take a break now" posts a break.
    slack.surfaces.join(USER, CHANNEL)
    pressed = await slack_client.post(bot, press_body(slack, hello, "Set a schedule", "set"))
    assert pressed.status == 200
    [opened] = await slack.wait_for("views.open", timeout=10)
    assert opened.response["ok"] and opened.response["view"]["title"]["text"] == "Channel schedule"
    pressed = await slack_client.post(bot, press_body(slack, hello, "Take a break now", "now"))
    assert pressed.status == 200

    def nudges() -> list[dict[str, Any]]:
        return [m for m in slack.messages_in(CHANNEL) if m["text"].startswith("Movement break")]

    await eventually(nudges, timeout=10, what="the break")
    assert await bot.terminate() == 0

    # Another process on the same database: the bot re-invited says nothing new.
    bot = await start_bot(env)
    again = payloads.event_callback_body(joined, team_id=slack.team_id)
    assert (await slack_client.post(bot, again)).status == 200
    reply, name = await slack_client.command(bot, "status")  # a later request, answered
    await slack_client.answer(reply, name)
    assert len(hellos(slack)) == 1
    assert await bot.terminate() == 0
