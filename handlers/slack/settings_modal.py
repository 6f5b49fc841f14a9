"""The settings modal's listeners: opening it when a command answers with the form (`/stretch
settings`, its buttons, the Home tab), searching its menus, and saving a submission.

A submission is checked before the ack, so a mistake answers `response_action: errors` next
to its field and changes nothing: the values must make commands the grammar accepts, the
channel (from private_metadata) must be one the person shares with the bot, and `admins-only`
must let them change it. Then the modal closes and the commands run after the ack, exactly as
typed commands would, their public confirmation posted in the channel.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.commands.base import CommandContext, Reply
from bot.i18n import _
from bot.logs import warn_limited
from bot.ports import ChannelKey
from bot.replies import SORRY
from bot.services import Services
from bot.settings_form import FormInput, Submission
from handlers.slack.acked import AckedWork
from handlers.slack.chat import SlackChat
from handlers.slack.delivery import ReplyPoster
from handlers.slack.fields import TEAM, USER, action_user, slack_id
from handlers.slack.members import ChannelListing
from handlers.slack.views.home import HomePlace
from handlers.slack.views.settings import (
    ACTION_PREFIX,
    SEARCHED,
    SETTINGS_CALLBACK,
    ModalPlace,
    input_of,
    read_values,
    search_options,
    settings_modal,
)

logger = logging.getLogger("stretchbot.slack")

CHECK_SECONDS = 2.0  # checks before the ack: Slack closes the modal with an error after 3 s
# Refreshes the person's Home tab after a save from it: (team, user, place, notice).
HomeRefresh = Callable[[str, str, HomePlace, Reply | None], Awaitable[None]]


class SettingsModal:
    """Opens the settings modal and saves what people submit in it."""

    def __init__(
        self,
        services: Services,
        chat: SlackChat,
        listing: ChannelListing,
        poster: ReplyPoster,
        work: AckedWork,
    ) -> None:
        self.services = services
        self.chat = chat
        self.listing = listing
        self.poster = poster
        self.work = work
        self.refresh_home: HomeRefresh | None = None  # set by the Home tab's listeners
        self._warming: set[asyncio.Task[object]] = set()

    async def open(
        self, ctx: CommandContext, reply: Reply, trigger_id: str, *, home: HomePlace | None = None
    ) -> bool:
        """Open the modal of `reply.form` with the trigger; False when Slack refused it (the
        trigger expired): then the caller shows the reply's text and button instead."""
        form = reply.form
        client = await self.chat.client(ctx.channel.team_id)
        if form is None or client is None or not trigger_id:
            return False
        view = settings_modal(form, place=ModalPlace(form.channel.channel_id, home))
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            logger.info("views.open refused: %s", str(exc.response.get("error", "unknown"))[:40])
            return False
        # The submission checks the person's channels: list them while they fill it in.
        warming = asyncio.ensure_future(self.listing.channels(ctx.channel.team_id, ctx.user_id))
        self._warming.add(warming)
        warming.add_done_callback(self._warming.discard)
        return True

    async def check(self, ctx: CommandContext) -> str | None:
        """Why the person may not save settings for the channel now, or None."""
        channels = await self.listing.channels(ctx.channel.team_id, ctx.user_id)
        if channels is None:
            return _(
                "I couldn't check your channels with Slack just now: press Save again in a moment."
            )
        if ctx.channel.channel_id not in channels:
            return _(
                "I can't see you in that channel (for a private channel, invite me first: "
                "`/invite @stretchbot`). Nothing was changed."
            )
        refusal = await self.services.settings.refusal(ctx)
        return refusal.text if refusal is not None else None

    async def save(self, ctx: CommandContext, submission: Submission, place: ModalPlace) -> None:
        """Run the submission's commands and tell the channel and the person."""
        team, channel, user = ctx.channel.team_id, ctx.channel.channel_id, ctx.user_id
        try:
            outcome = await self.services.settings.save(ctx, submission)
        except Exception:
            logger.exception("saving the settings form failed team=%s channel=%s", team, channel)
            await self.poster.direct(team, user, Reply(_(SORRY)))
            return
        if outcome.public is not None:
            await self.poster.shared(team, channel, user, outcome.public)
        if outcome.private is not None and place.home is None:
            await self.poster.private(team, channel, user, outcome.private)
        if place.home is not None and self.refresh_home is not None:
            notice = outcome.private or Reply(
                _("Saved: the new settings of <#{channel}> are below.").format(channel=channel)
            )
            await self.refresh_home(team, user, place.home, notice)


def register(app: AsyncApp, services: Services, modal: SettingsModal) -> None:
    form_inputs = tuple(item for part in services.settings.parts for item in part.inputs)
    first_input = form_inputs[0].key

    @app.view(SETTINGS_CALLBACK)
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        team = slack_id(context.team_id or (body.get("team") or {}).get("id"), TEAM)
        user = slack_id(action_user(body), USER)
        place = ModalPlace.read(view.get("private_metadata"))
        if team is None or user is None or place is None:
            await ack(
                response_action="errors",
                errors={first_input: _("This form lost track of its channel; open it again.")},
            )
            return
        submission = services.settings.read(read_values(form_inputs, view.get("state")))
        if submission.errors:
            await ack(response_action="errors", errors=submission.errors)
            return
        ctx = CommandContext(ChannelKey("slack", team, place.channel_id), user)
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                problem = await modal.check(ctx)
        except TimeoutError:
            problem = _("Slack or the database is slow right now: press Save again in a moment.")
        except Exception:
            logger.exception("checking a settings form failed team=%s", team)
            problem = _(SORRY)
        if problem is not None:
            await ack(response_action="errors", errors={first_input: problem})
            return
        await ack(response_action="clear")
        await modal.work.run("settings form", "", modal.save(ctx, submission, place))

    @app.options({"action_id": _searched_action_ids(form_inputs)})
    async def search(ack: AsyncAck, body: dict[str, Any]) -> None:
        item = input_of(form_inputs, body.get("action_id"))
        if item is None:
            warn_limited(logger, "unknown menu searches", "a menu search for an unknown menu")
            await ack(options=[])
            return
        await ack(options=search_options(item.kind, body.get("value")))


def _searched_action_ids(form_inputs: tuple[FormInput, ...]) -> re.Pattern[str]:
    """The action ids of the form's searched menus (time zones, countries)."""
    keys = [re.escape(item.key) for item in form_inputs if item.kind in SEARCHED]
    return re.compile(f"^{re.escape(ACTION_PREFIX)}({'|'.join(keys)})$")
