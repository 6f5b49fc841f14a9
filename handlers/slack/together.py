"""Interactivity on `/stretch together` cards: "I'm in" joins the roll call, Done credits a
break to everyone who joined. The presser gets a private answer; the card itself is updated
for everyone (coalesced) by the group break service."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.services import Services
from handlers.slack.fields import action_channel, action_message_ts, action_user, command_context
from handlers.slack.together_card import DONE_ACTION_ID, JOIN_ACTION_ID


def register(app: AsyncApp, services: Services) -> None:
    @app.action(JOIN_ACTION_ID)
    async def join_pressed(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        await ack()
        ctx = command_context(
            team=context.team_id, channel=action_channel(body), user=action_user(body)
        )
        ts = action_message_ts(body)
        if ctx is None or ts is None:
            return
        answer = await services.group_breaks.join(
            channel=ctx.channel, message_id=ts, person_id=ctx.user_id
        )
        await respond(text=answer.text, response_type="ephemeral", replace_original=False)

    @app.action(DONE_ACTION_ID)
    async def done_pressed(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        await ack()
        ctx = command_context(
            team=context.team_id, channel=action_channel(body), user=action_user(body)
        )
        ts = action_message_ts(body)
        if ctx is None or ts is None:
            return
        answer = await services.group_breaks.finish(
            channel=ctx.channel, message_id=ts, person_id=ctx.user_id
        )
        await respond(text=answer.text, response_type="ephemeral", replace_original=False)
