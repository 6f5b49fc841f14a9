"""The bot's hello: when it joins a channel (`member_joined_channel` for its own user) it posts
one short hello there with "Set a schedule" and "Take a break now"; after an OAuth install the
installer gets the same in their DM with the app. Each at most once (bot/onboarding.py).

The channel hello's buttons are reply buttons (handlers/slack/commands.py): "Set a schedule"
runs `/stretch settings` there (the settings modal), "Take a break now" runs `/stretch now`
(with its cooldown). A DM has no schedule of its own, so the installer's "Set a schedule" opens
the channel picker first (handlers/slack/shortcuts.py).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.i18n import _
from bot.onboarding import SET_SCHEDULE, channel_hello, installer_hello
from bot.ports import ChannelKey
from bot.services import Services
from handlers.slack.acked import AckedWork
from handlers.slack.blocks import reply_message
from handlers.slack.delivery import ReplyPoster
from handlers.slack.events import team_of
from handlers.slack.fields import CONVERSATION, TEAM, USER, slack_id
from handlers.slack.views.pick_channel import PICK_SCHEDULE_ACTION

logger = logging.getLogger("stretchbot.slack")


def installer_message() -> dict[str, Any]:
    """The installer's hello as a Slack message: the reply's text and break button, with the
    channel picker's "Set a schedule" button first."""
    message = reply_message(installer_hello())
    message.pop("response_type", None)
    actions = message["blocks"][-1]
    actions["elements"].insert(
        0,
        {
            "type": "button",
            "action_id": PICK_SCHEDULE_ACTION,
            "text": {"type": "plain_text", "text": _(SET_SCHEDULE)[:75], "emoji": True},
            "style": "primary",
            "value": "schedule",
        },
    )
    return message


class Greeter:
    """Says the hellos, each once."""

    def __init__(self, services: Services, poster: ReplyPoster) -> None:
        self.services = services
        self.poster = poster

    async def greet_channel(self, team_id: str, channel_id: str) -> bool:
        """Post the hello in a channel the bot just joined, unless it was said there already;
        True when posted."""
        channel = ChannelKey("slack", team_id, channel_id)
        onboarding = self.services.onboarding
        if not await onboarding.claim_channel(channel):
            return False
        if await self.poster.public(team_id, channel_id, channel_hello()):
            self.services.log("hello.posted", channel)
            return True
        await onboarding.release_channel(channel)  # a later join may try again
        return False

    async def greet_installer(self, team_id: str, user_id: str) -> bool:
        """DM the person who installed the bot, once per workspace; True when posted."""
        onboarding = self.services.onboarding
        if not await onboarding.claim_workspace(platform="slack", team_id=team_id):
            return False
        client = await self.poster.chat.client(team_id)
        posted = False
        if client is not None:
            try:
                # Posting to a user id lands in the app's DM with them (chat:write).
                await client.chat_postMessage(
                    channel=user_id, unfurl_links=False, **installer_message()
                )
                posted = True
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                logger.info("the installer's hello was not posted: %s", type(exc).__name__)
        if not posted:
            await onboarding.release_workspace(platform="slack", team_id=team_id)
        return posted


def register(app: AsyncApp, greeter: Greeter, work: AckedWork) -> None:
    @app.event("member_joined_channel")
    async def joined(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        user = event.get("user")
        if not user or user != context.bot_user_id:
            return  # someone else joined: nothing to say
        team = slack_id(team_of(body, context), TEAM)
        channel = slack_id(event.get("channel"), CONVERSATION)
        if team is None or channel is None or slack_id(user, USER) is None:
            return
        await work.run("channel hello", "", greeter.greet_channel(team, channel))
