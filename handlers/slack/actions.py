"""Interactivity: the nudge's Done ✅ button logs a break."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.i18n import _, ngettext
from bot.replies import NOT_A_NUDGE
from bot.services import Services
from handlers.slack.blocks import DONE_ACTION_ID
from handlers.slack.fields import action_channel, action_message_ts, action_user, command_context


def register(app: AsyncApp, services: Services) -> None:
    @app.action(DONE_ACTION_ID)
    async def done_pressed(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        await ack()
        ctx = command_context(
            team=context.team_id, channel=action_channel(body), user=action_user(body)
        )
        message_ts = action_message_ts(body)
        if ctx is None or message_ts is None:
            return
        outcome = await services.breaks.log_break(
            channel=ctx.channel, message_id=message_ts, person_id=ctx.user_id, mark="button"
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
