"""Each workspace's bot token, from the installation store (OAuth mode), cached briefly.

Scheduled nudges and weekly boards have no incoming request to carry a token: `BotTokens`
finds the workspace's bot in the installation store, including an Enterprise Grid
organization-wide install (one bot for every workspace of the organization).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.workspaces import WorkspaceRepository
from handlers.slack.chat import make_client

logger = logging.getLogger("stretchbot.slack")

# Seconds a found token is reused before the store is asked again: an uninstall seen by one
# replica deletes the token from the store, so every replica stops using it within this time.
FOUND_TTL = 5.0
MISSING_TTL = 5.0  # a workspace that installs right now should not wait long either


class BotTokens:
    """Bot clients per workspace for the `SlackChat` port, and token deletion on uninstall."""

    def __init__(
        self,
        installs: AsyncInstallationStore,
        workspaces: WorkspaceRepository | None,
        *,
        base_url: str,
        on_429: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.installs = installs
        self._workspaces = workspaces
        self._base_url = base_url
        self._on_429 = on_429
        self._clock = clock
        self._cache: dict[str, tuple[float, AsyncWebClient | None]] = {}

    async def client_for(self, team_id: str) -> AsyncWebClient | None:
        """The workspace's bot client; None when the bot is not installed there."""
        now = self._clock()
        cached = self._cache.get(team_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        bot = await self.find_bot(team_id)
        client = None
        if bot is not None and bot.bot_token:
            client = make_client(
                bot.bot_token,
                base_url=self._base_url,
                on_429=self._on_429,
                team_id=team_id if bot.is_enterprise_install else None,
            )
        self._cache[team_id] = (now + (FOUND_TTL if client else MISSING_TTL), client)
        return client

    async def find_bot(self, team_id: str) -> Bot | None:
        """The workspace's own install, else its organization's org-wide install."""
        workspace = (
            await self._workspaces.get(platform="slack", team_id=team_id)
            if self._workspaces is not None
            else None
        )
        enterprise_id = workspace.enterprise_id if workspace is not None else None
        bot = await self.installs.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=False
        )
        if bot is None and enterprise_id is not None:
            bot = await self.installs.async_find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        return bot

    def forget(self, team_id: str | None = None) -> None:
        """Drop cached clients (one workspace's, or all for an organization-wide change)."""
        if team_id is None:
            self._cache.clear()
        else:
            self._cache.pop(team_id, None)

    async def delete(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        bot: bool = True,
        user_ids: tuple[str, ...] = (),
    ) -> None:
        """Delete stored tokens at once: the bot's and every installation (`bot=True`), or
        only the user tokens of `user_ids`. `team_id=None`: an organization-wide install."""
        if bot:
            await self.installs.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        for user_id in user_ids:
            await self.installs.async_delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        self.forget(team_id)
