"""Interactivity: the nudge's Done ✅ button logs a break."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.ports import ChannelKey
from bot.services import StretchService
from handlers.slack.blocks import DONE_ACTION_ID


def register(app: AsyncApp, services: StretchService) -> None:
    @app.action(DONE_ACTION_ID)
    async def done_pressed(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        await ack()
        container = body.get("container") or {}
        channel_id = container.get("channel_id") or (body.get("channel") or {}).get("id")
        message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        user_id = (body.get("user") or {}).get("id")
        if not (channel_id and message_ts and user_id):
            return
        channel = ChannelKey("slack", str(context.team_id or ""), str(channel_id))
        if await services.is_opted_out(channel, str(user_id)):
            await respond(
                text="You've opted out here, so I don't store your breaks. Nice move anyway! "
                "`/stretch optin` counts them again.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        change = await services.log_break(
            channel=channel, message_id=str(message_ts), person_id=str(user_id), mark="button"
        )
        if change is None:
            text = "That nudge isn't one I can count anymore. Catch the next one!"
        elif change.changed:
            others = change.breaks_on_nudge - 1
            text = "Nice, break logged! 💪"
            if others:
                text += (
                    f" {others} other{' has' if others == 1 else 's have'} moved on this one too."
                )
        else:
            text = "Already counted: this break is on the board."
        await respond(text=text, response_type="ephemeral", replace_original=False)
