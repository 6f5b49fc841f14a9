"""The Slack edge of `bot.languages`: every request is answered in the locale of the person who
sent it (Slack `users.info` with `include_locale`, kept an hour by the Chat port)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.i18n import set_locale
from handlers.slack.chat import SlackChat

# How long a request waits for a person's locale Slack has not told us yet. Past it the answer
# is in English and the look-up goes on, so the person's next request has it. Slash commands
# never wait here: the command runner asks after the ack (bot.commands.runner).
LOOKUP_BUDGET_SECONDS = 0.5

# Events whose sender may get an answer (a DM, a mention, their Home tab); anything else
# (reactions, channel messages) is answered to nobody, so its sender's locale is not looked up.
_ANSWERED_EVENTS = frozenset({"app_home_opened", "app_mention"})


def answers_a_person(body: dict[str, Any]) -> bool:
    """True when the request may be answered to the person who sent it."""
    if "command" in body:
        return True
    kind = body.get("type")
    if kind in ("block_actions", "view_submission", "block_suggestion", "view_closed"):
        return True
    event = body.get("event")
    if kind != "event_callback" or not isinstance(event, dict):
        return False
    if event.get("type") in _ANSWERED_EVENTS:
        return True
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and not event.get("bot_id")
        and not event.get("subtype")
    )


def register(app: AsyncApp, chat: SlackChat) -> None:
    lookups: set[asyncio.Task[str | None]] = set()

    async def locale_of(team: str, user: str) -> str | None:
        known, locale = chat.known_locale(team, user)
        if known:
            return locale
        task = asyncio.ensure_future(chat.user_locale(team, user))
        lookups.add(task)
        task.add_done_callback(lookups.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(task), LOOKUP_BUDGET_SECONDS)
        except TimeoutError:
            return None

    @app.middleware
    async def reader_locale(
        context: AsyncBoltContext, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> None:
        # Bolt's `next` only flags that the chain goes on; the listener runs after this returns,
        # in the same task, so the locale set here holds for it (and the tasks it starts).
        locale = None
        user, team = context.user_id, context.team_id
        if user and team and isinstance(body, dict) and answers_a_person(body):
            if "command" in body:
                locale = chat.known_locale(team, user)[1]
            else:
                locale = await locale_of(team, user)
        set_locale(locale)
        await next()
