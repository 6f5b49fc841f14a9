"""The nudge's overflow menu: "Seated version" answers the presser privately with a seated
exercise; "Skip the next nudge" and "Pause today" run `/stretch skip` and `/stretch pause
until tomorrow` as the presser, so the same checks, the same `admins-only` rule and the same
public confirmation apply as when they are typed."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.commands.base import CommandContext, Reply
from bot.i18n import _
from bot.nudge_menu import PAUSE_TODAY_WORDS, SKIP_WORDS
from bot.replies import SORRY
from bot.services import Services
from handlers.slack.acked import AckedWork
from handlers.slack.blocks import MENU_ACTION_ID, MENU_PAUSE_TODAY, MENU_SEATED, MENU_SKIP
from handlers.slack.commands import Responder
from handlers.slack.fields import action_message_ts, pressed_context

logger = logging.getLogger("stretchbot.slack")

WORDS = {MENU_SKIP: SKIP_WORDS, MENU_PAUSE_TODAY: PAUSE_TODAY_WORDS}


def chosen(action: dict[str, Any]) -> str | None:
    """The value of the overflow option picked, or None for anything else."""
    option = action.get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if value in (MENU_SEATED, *WORDS) else None


def register(app: AsyncApp, services: Services, *, respond: Responder, work: AckedWork) -> None:
    async def run_words(ctx: CommandContext, words: str, response_url: str) -> None:
        checked = services.commands.check(ctx, words)
        if isinstance(checked, Reply):
            await respond(response_url, checked)
            return
        try:
            reply = await services.commands.execute(ctx, checked)
        except Exception:
            logger.exception("nudge menu %r failed channel=%s", words, ctx.channel.channel_id)
            reply = Reply(_(SORRY))
        if reply is not None:
            await respond(response_url, reply)

    async def seated(ctx: CommandContext, ts: str, response_url: str) -> None:
        text = await services.nudge_menu.seated_version(ctx.channel, ts)
        await respond(response_url, Reply(text))

    @app.action(MENU_ACTION_ID)
    async def menu_picked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        ctx = pressed_context(body, context)
        ts = action_message_ts(body)
        value = chosen(action)
        response_url = body.get("response_url")
        if ctx is None or ts is None or value is None or not isinstance(response_url, str):
            logger.info("a nudge menu pick without a readable option, place or person was ignored")
            return
        if value == MENU_SEATED:
            await work.run("nudge menu: seated", response_url, seated(ctx, ts, response_url))
            return
        await work.run(
            f"nudge menu: {WORDS[value]}", response_url, run_words(ctx, WORDS[value], response_url)
        )
