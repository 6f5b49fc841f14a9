"""The /stretch slash command: ack at once, then run the command and answer."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.ports import ChannelKey
from bot.services import CommandContext, StretchService
from handlers.slack.blocks import reply_text

logger = logging.getLogger("stretchbot.slack")

SORRY = "Sorry, something went wrong on my side. Please try again in a minute."


def register(app: AsyncApp, services: StretchService) -> None:
    @app.command("/stretch")
    async def stretch_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        ctx = CommandContext(
            channel=ChannelKey(
                "slack", str(command.get("team_id", "")), str(command.get("channel_id", ""))
            ),
            user_id=str(command.get("user_id", "")),
            enterprise_id=str(command.get("enterprise_id") or "") or None,
        )
        try:
            reply = await services.run_command(ctx, str(command.get("text") or ""))
        except Exception:
            logger.exception(
                "/stretch failed team=%s channel=%s", ctx.channel.team_id, ctx.channel.channel_id
            )
            await respond(text=SORRY, response_type="ephemeral")
            return
        if reply is not None:
            await respond(
                text=reply_text(reply.text),
                response_type="in_channel" if reply.public else "ephemeral",
            )
