"""The "Take a movement break" global shortcut and the channel picker behind it: the shortcut
(and the installer hello's "Set a schedule") opens a small modal (handlers/slack/views/
pick_channel.py); its submission posts a break in the picked channel, DMs the person one, or
moves on to the picked channel's settings form.

Whatever can go wrong with the pick is checked before the ack, so it shows in the modal next
to the channel: the person must be in the channel, and the bot must be able to post there
(it joins a public channel by itself, as for `/stretch now`; a private one needs an invite).
The break itself is `/stretch now` run as the person, with its cooldown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.commands.base import CommandContext, Reply
from bot.i18n import N_, _
from bot.ports import ChannelKey, PostError
from bot.replies import SORRY
from bot.services import Services
from handlers.slack.fields import TEAM, USER, action_user, slack_id
from handlers.slack.settings_modal import CHECK_SECONDS, SettingsModal
from handlers.slack.views.pick_channel import (
    BREAK_SHORTCUT,
    CHANNEL_BLOCK,
    ME_BLOCK,
    PICK_CALLBACK,
    PICK_SCHEDULE_ACTION,
    Purpose,
    pick_channel_modal,
    read_pick,
    read_purpose,
)
from handlers.slack.views.settings import ModalPlace, settings_modal

logger = logging.getLogger("stretchbot.slack")

Errors = dict[str, str]
NO_DM = N_(
    "I couldn't open our conversation to post a break here just now. Try the shortcut "
    "again with a channel, or `/stretch now` in a channel."
)


def _team(body: dict[str, Any], context: AsyncBoltContext) -> str | None:
    team = body.get("team")
    return slack_id(context.team_id or (team.get("id") if isinstance(team, dict) else None), TEAM)


class ChannelPicker:
    """Opens the picker and acts on what was picked."""

    def __init__(self, services: Services, modal: SettingsModal) -> None:
        self.services = services
        self.modal = modal

    async def open(self, team: str, trigger_id: object, purpose: Purpose) -> None:
        client = await self.modal.chat.client(team)
        if client is None or not isinstance(trigger_id, str):
            return
        try:
            await client.views_open(trigger_id=trigger_id, view=pick_channel_modal(purpose))
        except SlackApiError as exc:
            logger.info("views.open refused: %s", str(exc.response.get("error", "unknown"))[:40])

    async def check_break_channel(self, ctx: CommandContext) -> str | None:
        """Why a break cannot go to the channel now, or None."""
        channel = ctx.channel
        members = await self.modal.listing.channels(channel.team_id, ctx.user_id)
        if members is None:
            return _("I couldn't check your channels with Slack just now: try again in a moment.")
        if channel.channel_id not in members:
            # Slack lists a private channel for the person only when the bot is in it too.
            return _(
                "I can't see you in that channel (for a private channel, invite me first: "
                "`/invite @stretchbot`): pick another one, or tick *Just me*."
            )
        joined = await self.services.chats["slack"].ensure_member(channel)
        if joined.ok:
            return None
        if joined.error is PostError.NOT_IN_CHANNEL:
            return _(
                "I'm not in that channel: invite me there first (`/invite @stretchbot`), or "
                "pick another one."
            )
        if joined.error is PostError.CHANNEL_GONE:
            return _("That channel is archived: pick another one.")
        return _("I can't post in that channel: pick another one, or tick *Just me*.")

    async def settings_form(self, ctx: CommandContext) -> Reply | str:
        """The channel's settings form (a reply carrying it), or why the person can't have it."""
        problem = await self.modal.check(ctx)
        if problem is not None:
            return problem
        reply = await self.services.commands.run(ctx, "settings")
        if reply is None or reply.form is None:
            return reply.text if reply is not None else _(SORRY)
        return reply

    async def break_in_channel(self, ctx: CommandContext) -> None:
        reply = await self._run(ctx, "now")
        if reply is not None:  # the cooldown, or a post that failed after all
            await self.modal.poster.private(
                ctx.channel.team_id, ctx.channel.channel_id, ctx.user_id, reply
            )

    async def break_for_me(self, team: str, user: str) -> None:
        """A break in the person's DM with the app, counted like any other."""
        client = await self.modal.chat.client(team)
        if client is None:
            return
        dm = None
        try:
            opened = await client.conversations_open(users=user)
            channel = opened.get("channel")
            dm = slack_id(channel.get("id") if isinstance(channel, dict) else None, "D")
        except SlackApiError as exc:
            # e.g. `missing_scope`: an app installed before it asked for im:write
            logger.info("conversations.open refused: %s", exc.response.get("error", "unknown"))
        if dm is None:
            # Posting to a user id still reaches the DM, but a break there could not be
            # counted: say so instead.
            await self.modal.poster.direct(team, user, Reply(_(NO_DM)))
            return
        ctx = CommandContext(ChannelKey("slack", team, dm), user, direct=True)
        reply = await self._run(ctx, "now")
        if reply is not None:
            await self.modal.poster.direct(team, dm, reply)

    async def _run(self, ctx: CommandContext, text: str) -> Reply | None:
        try:
            return await self.services.commands.run(ctx, text)
        except Exception:
            logger.exception("a break from the shortcut failed team=%s", ctx.channel.team_id)
            return Reply(_(SORRY))


def register(app: AsyncApp, picker: ChannelPicker) -> None:
    work = picker.modal.work

    @app.shortcut(BREAK_SHORTCUT)
    async def take_a_break(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        team = _team(body, context)
        if team is not None:
            await picker.open(team, body.get("trigger_id"), Purpose.BREAK)

    @app.action(PICK_SCHEDULE_ACTION)
    async def pick_for_schedule(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        team = _team(body, context)
        if team is not None:
            await picker.open(team, body.get("trigger_id"), Purpose.SCHEDULE)

    @app.view(PICK_CALLBACK)
    async def picked(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        team = _team(body, context)
        user = slack_id(action_user(body), USER)
        purpose = read_purpose(view)
        channel, just_me = read_pick(view)
        if team is None or user is None or purpose is None:
            await ack(
                response_action="errors",
                errors={
                    CHANNEL_BLOCK: _("This form lost track of what it was for; open it again.")
                },
            )
            return
        errors: Errors = {}
        if purpose is Purpose.BREAK and just_me and channel is not None:
            errors[ME_BLOCK] = _("Either a channel or just you: untick this or clear the channel.")
        elif channel is None and not (purpose is Purpose.BREAK and just_me):
            errors[CHANNEL_BLOCK] = (
                _("Pick a channel, or tick *Just me* below.")
                if purpose is Purpose.BREAK
                else _("Pick a channel.")
            )
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        if channel is None:  # just me: nothing can go wrong that the modal could show
            await ack(response_action="clear")
            await work.run("shortcut break (DM)", "", picker.break_for_me(team, user))
            return
        ctx = CommandContext(ChannelKey("slack", team, channel), user)
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                if purpose is Purpose.BREAK:
                    outcome: Reply | str | None = await picker.check_break_channel(ctx)
                else:
                    outcome = await picker.settings_form(ctx)
        except TimeoutError:
            outcome = _("Slack or the database is slow right now: try again in a moment.")
        except Exception:
            logger.exception("checking a channel pick failed team=%s", team)
            outcome = _(SORRY)
        if isinstance(outcome, str):
            await ack(response_action="errors", errors={CHANNEL_BLOCK: outcome})
            return
        if isinstance(outcome, Reply) and outcome.form is not None:
            form_view = settings_modal(outcome.form, place=ModalPlace(channel))
            await ack(response_action="update", view=form_view)
            return
        await ack(response_action="clear")
        await work.run("shortcut break", "", picker.break_in_channel(ctx))
