"""Answers that have no response_url to go to (a modal saved, a Home tab button, a DM, a
mention): posted in the channel or its thread, shown only to the person in the channel, or
sent to their DM with the app, each falling back to the DM when the channel refuses."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.commands.base import Reply
from handlers.slack.blocks import reply_message
from handlers.slack.chat import SlackChat

logger = logging.getLogger("stretchbot.slack")


def _body(reply: Reply) -> dict[str, Any]:
    body = reply_message(reply)
    body.pop("response_type", None)
    return body


class ReplyPoster:
    """Posts command answers with the workspace's bot token."""

    def __init__(self, chat: SlackChat) -> None:
        self.chat = chat

    async def _post(self, team_id: str, method: str, **kwargs: Any) -> bool:
        client = await self.chat.client(team_id)
        if client is None:
            return False
        try:
            await getattr(client, method)(**kwargs)
        except SlackApiError as exc:
            logger.info(
                "%s refused an answer: %s", method, str(exc.response.get("error", "unknown"))[:40]
            )
            return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("%s failed: %s", method, type(exc).__name__)
            return False
        return True

    async def public(
        self, team_id: str, channel_id: str, reply: Reply, *, thread_ts: str | None = None
    ) -> bool:
        """For everyone in the channel (in the thread when given)."""
        return await self._post(
            team_id,
            "chat_postMessage",
            channel=channel_id,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **_body(reply),
        )

    async def private(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        reply: Reply,
        *,
        thread_ts: str | None = None,
    ) -> bool:
        """Only for the person, in the channel; in their DM when the channel refuses (a
        private channel the bot is not in)."""
        shown = await self._post(
            team_id,
            "chat_postEphemeral",
            channel=channel_id,
            user=user_id,
            thread_ts=thread_ts,
            **_body(reply),
        )
        return shown or await self.direct(team_id, user_id, reply)

    async def direct(self, team_id: str, to: str, reply: Reply) -> bool:
        """In the person's DM with the app (`to`: their user id or the DM's channel id)."""
        return await self._post(
            team_id, "chat_postMessage", channel=to, unfurl_links=False, **_body(reply)
        )

    async def shared(
        self, team_id: str, channel_id: str, user_id: str, reply: Reply, **where: Any
    ) -> bool:
        """`reply` where it belongs: public ones in the channel (else the person's DM),
        private ones to the person alone."""
        if reply.public:
            posted = await self.public(team_id, channel_id, reply, **where)
            return posted or await self.direct(team_id, user_id, reply)
        return await self.private(team_id, channel_id, user_id, reply, **where)
