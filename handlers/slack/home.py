"""The Home tab's listeners: `app_home_opened` publishes it (`views.publish`); its buttons turn
a page, run a command as the person (a break now in their DM, opting out or in, seated-only
in a channel) and republish it with the answer on top; "Edit schedule" opens the settings
modal of that channel.

Publishing costs one `users.conversations` listing of the person (cached briefly, see
handlers/slack/members.py) and two database reads (bot/home.py), whatever the number of
channels.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.commands.base import CommandContext, Reply
from bot.i18n import _
from bot.ports import ChannelKey
from bot.replies import SORRY
from bot.services import Services
from handlers.slack.acked import AckedWork
from handlers.slack.chat import SlackChat
from handlers.slack.delivery import ReplyPoster
from handlers.slack.events import team_of
from handlers.slack.fields import CONVERSATION, TEAM, USER, action_user, slack_id
from handlers.slack.members import ChannelListing
from handlers.slack.settings_modal import SettingsModal
from handlers.slack.views.home import (
    HOME_EDIT,
    HOME_PAGE,
    HOME_RUN,
    HOME_SEATED,
    HomePlace,
    home_view,
)

logger = logging.getLogger("stretchbot.slack")

# What the Home tab's own buttons may run in the person's DM: nothing else, whatever a
# payload says.
HOME_COMMANDS = frozenset(
    {"now", "optout", "optin", "forget-me", "forget-me confirm", "me every 1h", "me off"}
)


class HomeTab:
    """Publishes people's Home tabs."""

    def __init__(
        self,
        services: Services,
        chat: SlackChat,
        listing: ChannelListing,
        poster: ReplyPoster,
    ) -> None:
        self.services = services
        self.chat = chat
        self.listing = listing
        self.poster = poster

    async def publish(
        self, team_id: str, user_id: str, place: HomePlace, notice: Reply | None = None
    ) -> bool:
        """Publish the person's Home tab at `place` (with `notice` on top); False if Slack
        refused it."""
        client = await self.chat.client(team_id)
        if client is None:
            return False
        summary = await self.services.home.summary(
            platform="slack",
            team_id=team_id,
            person_id=user_id,
            member_of=self.listing.channels(team_id, user_id),  # read alongside the breaks
            page=place.page,
        )
        may_change = not summary.admins_only or (
            await self.chat.is_workspace_admin(team_id, user_id) is True
        )
        view = home_view(summary, place=place, may_change=may_change, notice=notice)
        try:
            await client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            logger.warning(
                "views.publish refused the Home tab: %s %s",
                str(exc.response.get("error", "unknown"))[:40],
                str(exc.response.get("response_metadata", ""))[:300],
            )
            return False
        return True

    async def refresh(
        self, team_id: str, user_id: str, place: HomePlace, notice: Reply | None
    ) -> None:
        try:
            await self.publish(team_id, user_id, place, notice)
        except Exception:
            logger.exception("publishing a Home tab failed team=%s", team_id)


def _who(body: dict[str, Any], context: AsyncBoltContext) -> tuple[str | None, str | None]:
    team = body.get("team")
    return (
        slack_id(context.team_id or (team.get("id") if isinstance(team, dict) else None), TEAM),
        slack_id(action_user(body), USER),
    )


def _place(body: dict[str, Any]) -> HomePlace:
    view = body.get("view")
    return HomePlace.read(view.get("private_metadata") if isinstance(view, dict) else None)


def register(
    app: AsyncApp,
    services: Services,
    home: HomeTab,
    modal: SettingsModal,
    work: AckedWork,
) -> None:
    modal.refresh_home = home.refresh

    @app.event("app_home_opened")
    async def opened(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("tab") != "home":
            return  # the Messages tab: nothing to publish
        team = slack_id(team_of(body, context), TEAM)
        user = slack_id(event.get("user"), USER)
        if team is None or user is None:
            return
        place = HomePlace(dm=slack_id(event.get("channel"), CONVERSATION))
        await work.run("home tab", "", home.refresh(team, user, place, None))

    @app.action(re.compile(f"^{HOME_PAGE}_"))
    async def turn_page(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        team, user = _who(body, context)
        value = action.get("value")
        if team is None or user is None or not isinstance(value, str) or not value.isdigit():
            return
        place = HomePlace(dm=_place(body).dm, page=min(int(value), 9_999))
        await work.run("home page", "", home.refresh(team, user, place, None))

    async def run(ctx: CommandContext, text: str) -> Reply | None:
        try:
            return await services.commands.run(ctx, text)
        except Exception:
            logger.exception("a Home tab button failed team=%s", ctx.channel.team_id)
            return Reply(_(SORRY))

    @app.action(re.compile(f"^{HOME_RUN}_"))
    async def run_here(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        team, user = _who(body, context)
        place = _place(body)
        text = action.get("value")
        if team is None or user is None or text not in HOME_COMMANDS or place.dm is None:
            return

        async def answer() -> None:
            ctx = CommandContext(ChannelKey("slack", team, place.dm or ""), user, direct=True)
            reply = await run(ctx, str(text))
            if reply is None:  # `now` posted a break in the DM
                reply = Reply(_("Your break is in the Messages tab: do it, then press Done."))
            await home.refresh(team, user, place, reply)

        await work.run(f"home {text}", "", answer())

    async def in_channel(
        body: dict[str, Any], context: AsyncBoltContext, channel: object
    ) -> tuple[CommandContext, HomePlace] | None:
        """The person's context in a channel of their Home tab; None (and a notice) unless
        it is one of their channels."""
        team, user = _who(body, context)
        channel_id = slack_id(channel, CONVERSATION)
        if team is None or user is None or channel_id is None:
            return None
        place = _place(body)
        channels = await home.listing.channels(team, user)
        if channels is None or channel_id not in channels:
            await home.refresh(
                team, user, place, Reply(_("I can't see you in that channel just now."))
            )
            return None
        return CommandContext(ChannelKey("slack", team, channel_id), user), place

    @app.action(re.compile(f"^{HOME_EDIT}:"))
    async def edit_schedule(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        trigger = body.get("trigger_id")

        async def open_form() -> None:
            found = await in_channel(body, context, action.get("value"))
            if found is None:
                return
            ctx, place = found
            reply = await run(ctx, "settings")
            if reply is None:
                return
            opened = (
                reply.form is not None
                and isinstance(trigger, str)
                and await modal.open(ctx, reply, trigger, home=place)
            )
            if not opened:
                await home.refresh(ctx.channel.team_id, ctx.user_id, place, reply)

        await work.run("home edit schedule", "", open_form())

    @app.action(re.compile(f"^{HOME_SEATED}:"))
    async def seated(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        text = action.get("value")
        action_id = str(action.get("action_id") or "")
        if text not in ("seated on", "seated off"):
            return

        async def switch() -> None:
            found = await in_channel(body, context, action_id.removeprefix(f"{HOME_SEATED}:"))
            if found is None:
                return
            ctx, place = found
            reply = await run(ctx, str(text))
            if reply is not None and reply.public:
                await home.poster.shared(
                    ctx.channel.team_id, ctx.channel.channel_id, ctx.user_id, reply
                )
            await home.refresh(ctx.channel.team_id, ctx.user_id, place, reply)

        await work.run("home seated", "", switch())
