"""Words written to the bot: a DM in its Messages tab (`message.im`) answers like `/stretch`
where the words make sense without a channel (`help`, `stats`, `optout`, ...; `stats #channel`
for one channel), and `@stretchbot words` in a channel (`app_mention`) runs them as that
person's /stretch command there, answering in the thread (public answers) or only to them.

Both are acked at once by Bolt; the bot's own messages, edits and other subtypes are ignored,
so an answer can never start another, and a redelivered message is answered once.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.commands.base import CommandContext, Reply
from bot.direct import run_direct
from bot.i18n import _
from bot.ports import ChannelKey
from bot.replies import SORRY
from bot.services import Services
from handlers.slack.acked import AckedWork
from handlers.slack.delivery import ReplyPoster
from handlers.slack.events import team_of
from handlers.slack.fields import CONVERSATION, TEAM, USER, message_ts, slack_id

logger = logging.getLogger("stretchbot.slack")

MAX_TEXT = 500  # longer than any command; the rest is not read
_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]{1,40}(?:\|[^>]{0,80})?>[\s:,]*")
_STRETCH_WORD = re.compile(r"^/?stretch\b\s*", re.IGNORECASE)
_STATS_IN = re.compile(r"^stats\s+<#([CG][A-Z0-9]{1,40})(?:\|[^>]{0,80})?>\s*$", re.IGNORECASE)


def command_words(text: str) -> str:
    """The command in a message: a leading mention of the bot and a leading `stretch` (or
    `/stretch`) dropped, so `@stretchbot stretch every 45m` and `every 45m` are the same."""
    text = _LEADING_MENTION.sub("", text[:MAX_TEXT])
    return _STRETCH_WORD.sub("", text, count=1).strip()


class SeenMessages:
    """The last few thousand messages answered, so a redelivered event is answered once."""

    def __init__(self, size: int = 5000) -> None:
        self._size = size
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()

    def first_time(self, team: str, channel: str, ts: str) -> bool:
        key = (team, channel, ts)
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


def _from_a_person(event: dict[str, Any], context: AsyncBoltContext) -> bool:
    """A new message a person wrote: not the bot's own, not an edit or deletion, no subtype."""
    if event.get("subtype") is not None or event.get("bot_id") or event.get("edited"):
        return False
    return event.get("user") != context.bot_user_id


def register(app: AsyncApp, services: Services, poster: ReplyPoster, work: AckedWork) -> None:
    seen = SeenMessages()

    async def run(ctx: CommandContext, text: str, *, direct: bool) -> Reply | None:
        try:
            if direct:
                return await run_direct(services, ctx, text)
            return await services.commands.run(ctx, text)
        except Exception:
            logger.exception("a message command failed team=%s", ctx.channel.team_id)
            return Reply(_(SORRY))

    @app.event("message")
    async def direct_message(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("channel_type") != "im" or not _from_a_person(event, context):
            return
        team = slack_id(team_of(body, context), TEAM)
        user = slack_id(event.get("user"), USER)
        channel = slack_id(event.get("channel"), CONVERSATION)
        ts = message_ts(event.get("ts"))
        text = event.get("text")
        if (
            team is None
            or user is None
            or channel is None
            or ts is None
            or not isinstance(text, str)
        ):
            return
        if not seen.first_time(team, channel, ts):
            return
        words = command_words(text)

        async def answer() -> None:
            one_channel = _STATS_IN.match(words)
            if one_channel:  # `stats #general`: that channel's figures, here
                ctx = CommandContext(ChannelKey("slack", team, one_channel.group(1)), user)
                reply = await run(ctx, "stats", direct=False)
            else:
                ctx = CommandContext(ChannelKey("slack", team, channel), user, direct=True)
                reply = await run(ctx, words or "help", direct=True)
            if reply is not None:
                await poster.direct(team, channel, reply)

        await work.run("direct message", "", answer())

    @app.event("app_mention")
    async def mentioned(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not _from_a_person(event, context):
            return
        team = slack_id(team_of(body, context), TEAM)
        user = slack_id(event.get("user"), USER)
        channel = slack_id(event.get("channel"), CONVERSATION)
        ts = message_ts(event.get("ts"))
        thread = message_ts(event.get("thread_ts")) or ts
        text = event.get("text")
        if (
            team is None
            or user is None
            or channel is None
            or ts is None
            or not isinstance(text, str)
        ):
            return
        if not seen.first_time(team, channel, ts):
            return
        ctx = CommandContext(ChannelKey("slack", team, channel), user)

        async def answer() -> None:
            reply = await run(ctx, command_words(text), direct=False)
            if reply is not None:
                # A form cannot open from a message (no trigger): its text and button show.
                await poster.shared(team, channel, user, reply, thread_ts=thread)

        await work.run("mention", "", answer())
