"""Commands: `@stretchbot stretch every 45m ...` and the other words, through the same services.

In Teams the command itself is a visible message, so the answer goes into its thread. An answer
about the person alone (`Reply.personal`, declared by the command, e.g. `stats`) goes to the
person's personal chat with the bot, and into the thread only when that chat cannot be opened.
An answer with a form (`settings`) or a person's page (`stats` in the personal chat) is a card.
"""

from __future__ import annotations

import logging

import aiohttp
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from microsoft_agents.hosting.core import TurnContext, TurnState
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.msteams import TeamsAgentExtension, TeamsTurnContext
from pydantic import ValidationError

from bot.commands.base import CommandContext, Reply
from bot.i18n import _
from bot.replies import SORRY
from bot.services import Services
from handlers.teams import activities, cards
from handlers.teams.chat import TeamsChat
from handlers.teams.surface_cards import surface_activity

logger = logging.getLogger("stretchbot.teams")


def register(teams: TeamsAgentExtension[TurnState], services: Services, chat: TeamsChat) -> None:
    directory = chat.directory

    @teams.activity(ActivityTypes.message)
    async def on_command(context: TeamsTurnContext, state: TurnState) -> None:
        activity = context.activity
        sender = activity.from_property
        channel = activities.channel_key(activity)
        person = activities.person_id(sender)
        if channel is None or person is None or activities.is_bot(sender, activity):
            return
        if not activities.is_for_the_bot(activity):
            return
        await directory.remember(context, channel)
        personal = (activity.conversation.conversation_type or "") == "personal"
        ctx = CommandContext(channel=channel, user_id=person, direct=personal)
        text = activities.command_text(activity)
        try:
            reply = await services.commands.run(ctx, text)
        except Exception:
            logger.exception(
                "teams command failed team=%s channel=%s", channel.team_id, channel.channel_id
            )
            reply = Reply(_(SORRY))
        if reply is None:
            return
        names = await directory.names(channel.team_id, cards.mentioned_people(reply.text))
        name = activities.display_name(sender)
        if name:
            names[person] = name
        message = surface_activity(reply) or cards.reply_activity(reply.text, names, reply.buttons)
        if not reply.personal or personal or not await _send_privately(context, message):
            await context.send_activity(message)


async def _send_privately(context: TurnContext, message: Activity) -> bool:
    """Send `message` to the sender's personal chat with the bot; False if that fails."""
    connector = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
    activity = context.activity
    sender = activity.from_property
    if connector is None or sender is None or not sender.id:
        return False
    tenant = activities.tenant_id(activity)
    parameters = ConversationParameters.model_validate(
        {
            "isGroup": False,
            "bot": activity.recipient,
            "members": [ChannelAccount(id=sender.id)],
            "tenantId": tenant or None,
            "channelData": {"tenant": {"id": tenant}} if tenant else None,
        }
    )
    try:
        created = await connector.conversations.create_conversation(parameters)
        message.channel_id = activity.channel_id
        message.service_url = activity.service_url
        if activity.recipient is not None:
            message.from_property = activity.recipient
        message.recipient = ChannelAccount(id=sender.id, name=sender.name)
        message.conversation = ConversationAccount(
            id=created.id, conversation_type="personal", tenant_id=tenant or None
        )
        await connector.conversations.send_to_conversation(created.id, message)
    except (aiohttp.ClientError, TimeoutError, ValueError, ValidationError) as exc:
        logger.info("teams.private_reply_failed %s; answering in the thread", type(exc).__name__)
        return False
    return True
