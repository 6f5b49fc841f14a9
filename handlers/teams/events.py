"""Installs, removals and reactions.

- The app installed (`installationUpdate` add, or the bot added to a team or chat): store the
  conversation reference and say hello once.
- The app removed (`installationUpdate` remove, the bot removed, the team deleted or archived):
  stop every schedule of that team or chat (a workspace uninstall, as in Slack). A deleted
  channel stops that channel.
- Any reaction on a nudge counts as a break (Teams sends `like`, `heart` and newer types such as
  the check mark); removing it takes the break back. A reactor the bot has no name for is looked
  up through the connector first (handlers/teams/directory.py), never at the cost of the break.
"""

from __future__ import annotations

import logging

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import TurnState
from microsoft_agents.hosting.msteams import TeamsAgentExtension, TeamsTurnContext

from bot.i18n import _
from bot.services import Services
from handlers.teams import activities, cards
from handlers.teams.chat import TeamsChat

logger = logging.getLogger("stretchbot.teams")

GONE_EVENTS = frozenset({"teamDeleted", "teamArchived"})


def register(teams: TeamsAgentExtension[TurnState], services: Services, chat: TeamsChat) -> None:
    directory = chat.directory

    async def arrived(context: TeamsTurnContext) -> None:
        activity = context.activity
        channel = activities.channel_key(
            activity, conversation_id=activities.install_channel_id(activity)
        )
        if channel is None:
            return
        if not await directory.remember(context, channel):
            return  # already here (Teams announces an install more than once)
        logger.info("teams.installed team=%s channel=%s", channel.team_id, channel.channel_id)
        # Back after a removal: the team's other channels can be posted in again, and the
        # schedules the removal stopped run again.
        await directory.rejoin_workspace(channel.team_id)
        await services.installs.workspace_installed(
            platform=activities.PLATFORM, team_id=channel.team_id
        )
        hello = await chat.send(channel, cards.reply_activity(_(cards.HELLO), {}))
        if not hello.ok:
            logger.warning("teams.hello_failed channel=%s: %s", channel.channel_id, hello.detail)

    async def left(context: TeamsTurnContext, reason: str) -> None:
        workspace = activities.workspace_id(context.activity)
        if workspace is None:
            return
        channels = await directory.forget_workspace(workspace)
        logger.info("teams.removed team=%s channels=%d reason=%s", workspace, len(channels), reason)
        # Like a Slack uninstall: schedules stop now, data is purged after the retention
        # period, and a reinstall restarts what this stopped.
        await services.installs.workspace_uninstalled(
            platform=activities.PLATFORM, team_id=workspace
        )

    @teams.installation_update()
    async def on_installation(context: TeamsTurnContext, state: TurnState) -> None:
        action = (context.activity.action or "").lower()
        if action.startswith("add"):
            await arrived(context)
        elif action == "remove":
            await left(context, "app_uninstalled")

    @teams.activity(ActivityTypes.conversation_update)
    async def on_conversation_update(context: TeamsTurnContext, state: TurnState) -> None:
        activity = context.activity
        if any(activities.is_bot(m, activity) for m in activity.members_added or []):
            await arrived(context)
            return
        if any(activities.is_bot(m, activity) for m in activity.members_removed or []):
            await left(context, "bot_removed")
            return
        data = activities.channel_data(activity)
        event = data.event_type if data is not None else None
        if event in GONE_EVENTS:
            await left(context, event or "team_gone")
        elif event == "channelDeleted" and data is not None and data.channel is not None:
            channel = activities.channel_key(activity, conversation_id=data.channel.id)
            if channel is not None:
                await directory.forget(channel)
                await services.installs.channel_gone(channel, reason="channel_deleted")

    @teams.activity(ActivityTypes.message_reaction)
    async def on_reaction(context: TeamsTurnContext, state: TurnState) -> None:
        activity = context.activity
        sender = activity.from_property
        channel = activities.channel_key(activity)
        person = activities.person_id(sender)
        message_id = activity.reply_to_id
        if channel is None or person is None or not message_id:
            return
        if activities.is_bot(sender, activity):
            return
        # Reactions carry no name: someone who only reacts is named through the connector
        # (once), so boards and the nudge card name and mention them too.
        await directory.name_unnamed(context)
        for reaction in activity.reactions_added or []:
            await services.breaks.log_break(
                channel=channel,
                message_id=message_id,
                person_id=person,
                mark=f"reaction:{reaction.type}",
            )
        for reaction in activity.reactions_removed or []:
            await services.breaks.undo_break(
                channel=channel,
                message_id=message_id,
                person_id=person,
                mark=f"reaction:{reaction.type}",
            )
