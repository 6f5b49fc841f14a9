"""Interactivity: the nudge's Done ✅ button logs a break."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.i18n import _, ngettext
from bot.ports import ChannelKey
from bot.replies import NOT_A_NUDGE
from bot.services import Services
from handlers.slack.blocks import DONE_ACTION_ID


def register(app: AsyncApp, services: Services) -> None:
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
        outcome = await services.breaks.log_break(
            channel=channel, message_id=str(message_ts), person_id=str(user_id), mark="button"
        )
        if outcome.opted_out:
            text = _(
                "You've opted out here, so I don't store your breaks. Nice move anyway! "
                "`/stretch optin` counts them again."
            )
        elif outcome.nudge_id is None:
            text = _(NOT_A_NUDGE)
        elif outcome.change.changed:
            others = outcome.change.breaks_on_nudge - 1
            text = _("Nice, break logged! 💪")
            if others:
                text += " " + ngettext(
                    "{count} other has moved on this one too.",
                    "{count} others have moved on this one too.",
                    others,
                ).format(count=others)
        else:
            text = _("Already counted: this break is on the board.")
        await respond(text=text, response_type="ephemeral", replace_original=False)
