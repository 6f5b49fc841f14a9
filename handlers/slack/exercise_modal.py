"""The "Add an exercise" modal's listeners: opening it when `/stretch exercises add` (or its
button) answers with the form, and storing a submission.

A submission is checked and stored before the ack (within `CHECK_SECONDS`), so a mistake, a
name the workspace has already, or `admins-only` answers `response_action: errors` next to
its field and stores nothing. Then the modal closes and the channel is told.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.commands.base import CommandContext, Reply
from bot.custom_exercises import CustomExercise
from bot.i18n import _
from bot.ports import ChannelKey
from bot.replies import SORRY
from bot.services import Services
from handlers.slack.chat import SlackChat
from handlers.slack.delivery import ReplyPoster
from handlers.slack.fields import CONVERSATION, TEAM, USER, action_user, slack_id
from handlers.slack.views.exercise import EXERCISE_CALLBACK, exercise_modal, read_draft

logger = logging.getLogger("stretchbot.slack")

CHECK_SECONDS = 2.0  # Slack closes the modal with an error after 3 s


class ExerciseModal:
    """Opens the add form and stores what people submit in it."""

    def __init__(self, services: Services, chat: SlackChat, poster: ReplyPoster) -> None:
        self.services = services
        self.chat = chat
        self.poster = poster

    async def open(self, ctx: CommandContext, trigger_id: str) -> bool:
        """Open the form with the trigger; False when Slack refused (the trigger expired)."""
        client = await self.chat.client(ctx.channel.team_id)
        if client is None or not trigger_id:
            return False
        try:
            await client.views_open(
                trigger_id=trigger_id, view=exercise_modal(ctx.channel.channel_id)
            )
        except SlackApiError as exc:
            logger.info("views.open refused: %s", str(exc.response.get("error", "unknown"))[:40])
            return False
        return True

    async def store(
        self, ctx: CommandContext, view: dict[str, Any]
    ) -> tuple[CustomExercise | None, dict[str, str]]:
        """Check and store the submission: the exercise stored, or the errors per field."""
        refusal = await self.services.settings.refusal(ctx)
        if refusal is not None:
            return None, {"name": refusal.text}
        outcome = await self.services.exercises.add(
            ctx.channel, read_draft(view.get("state")), by=ctx.user_id
        )
        if outcome.exercise is None:
            return None, {str(name): problem for name, problem in outcome.errors.items()}
        self.services.log(
            "exercises.added", ctx.channel, exercise=outcome.exercise.key, by=ctx.user_id
        )
        return outcome.exercise, {}

    async def announce(self, ctx: CommandContext, name: str, pack: str | None) -> None:
        where = (
            _("channels using the pack `{pack}`").format(pack=pack)
            if pack
            else _("this workspace's nudges")
        )
        who = (
            _("Someone")
            if await self.services.breaks.is_opted_out(ctx.channel, ctx.user_id)
            else f"<@{ctx.user_id}>"
        )
        text = _("{who} added *{name}* to {where}.").format(who=who, name=name, where=where)
        await self.poster.shared(
            ctx.channel.team_id, ctx.channel.channel_id, ctx.user_id, Reply(text, public=True)
        )


def register(app: AsyncApp, services: Services, modal: ExerciseModal) -> None:
    @app.view(EXERCISE_CALLBACK)
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        team = slack_id(context.team_id or (body.get("team") or {}).get("id"), TEAM)
        user = slack_id(action_user(body), USER)
        channel = slack_id(view.get("private_metadata"), CONVERSATION)
        if team is None or user is None or channel is None:
            await ack(
                response_action="errors",
                errors={"name": _("This form lost track of its channel; open it again.")},
            )
            return
        ctx = CommandContext(ChannelKey("slack", team, channel), user)
        added: CustomExercise | None = None
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                added, errors = await modal.store(ctx, view)
        except TimeoutError:
            errors = {"name": _("Slack or the database is slow right now: press Add again.")}
        except Exception:
            logger.exception("storing an exercise failed team=%s", team)
            errors = {"name": _(SORRY)}
        if added is None:
            await ack(response_action="errors", errors=errors or {"name": _(SORRY)})
            return
        await ack(response_action="clear")
        await modal.announce(ctx, added.exercise().name, added.pack)
