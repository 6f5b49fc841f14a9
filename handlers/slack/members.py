"""Which channels a person shares with the bot, from Slack's `users.conversations`.

Slack lists a person's public channels, and their private ones the bot is in too, up to 999
per call with a cursor for the rest. A listing is cached for a short while per person (the Home
tab, its buttons and the settings modal of one visit share it), one listing per person runs at
a time (concurrent opens wait for it), and calls stay within the method's rate tier per
workspace (Tier 3, "50+ per minute"): past the budget, or after a 429 until its Retry-After has
passed, a listing is given up at once (None) and the caller falls back, instead of queueing
behind Slack's limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import warn_limited
from handlers.slack.fields import CONVERSATION, slack_id

logger = logging.getLogger("stretchbot.slack")

LISTING_SECONDS = 120.0  # a person's listing is reused this long
PAGE_LIMIT = 999  # users.conversations takes `limit` under 1000
MAX_PAGES = 6  # at most ~6,000 channels per person
CALLS_PER_MINUTE = 40  # per workspace: headroom under Tier 3's 50 a minute
BURST = 20  # calls a workspace may make at once before the per-minute pace applies
WAIT_SECONDS = 1.0  # a call waits at most this long for the budget, else the listing is dropped
MAX_PEOPLE = 10_000  # listings kept

ClientFor = Callable[[str], Awaitable[AsyncWebClient | None]]
Clock = Callable[[], float]


class WorkspaceBudget:
    """A token bucket per workspace: `BURST` calls at once, then `per_minute` a minute; and a
    pause after a 429 until its Retry-After has passed."""

    def __init__(self, per_minute: float, burst: float, clock: Clock) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self._tokens: dict[str, tuple[float, float]] = {}  # team -> (tokens, at)
        self._paused_until: dict[str, float] = {}

    def pause(self, team_id: str, seconds: float) -> None:
        self._paused_until[team_id] = self.clock() + max(1.0, seconds)

    async def take(self, team_id: str, max_wait: float) -> bool:
        """Take one call for the workspace, waiting up to `max_wait`; False: over budget."""
        now = self.clock()
        if self._paused_until.get(team_id, 0.0) > now:
            return False
        tokens, at = self._tokens.get(team_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        if wait > max_wait:
            self._tokens[team_id] = (tokens, now)
            return False
        self._tokens[team_id] = (tokens - 1, now)  # taken now, paid back by the wait
        if wait:
            await asyncio.sleep(wait)
        return True


def _without_429_retries(client: AsyncWebClient) -> AsyncWebClient:
    """The same client but giving 429s back at once: a Home tab must not sleep a minute on a
    Retry-After; the budget pauses the workspace instead."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        team_id=client.default_params.get("team_id"),
        session=client.session,
        timeout=client.timeout,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class ChannelListing:
    """The ids of the channels each person shares with the bot, briefly cached."""

    def __init__(
        self,
        client_for: ClientFor,
        *,
        ttl: float | None = None,
        per_minute: float | None = None,
        burst: float | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        # None: the module's figures as they are when the bot starts (a benchmark measuring
        # the bot, not Slack's rate tier, raises them first).
        self._client_for = client_for
        self.ttl = LISTING_SECONDS if ttl is None else ttl
        self.clock = clock
        self.budget = WorkspaceBudget(
            CALLS_PER_MINUTE if per_minute is None else per_minute,
            BURST if burst is None else burst,
            clock,
        )
        self._cache: OrderedDict[tuple[str, str], tuple[float, frozenset[str]]] = OrderedDict()
        self._running: dict[tuple[str, str], asyncio.Future[frozenset[str] | None]] = {}

    async def channels(self, team_id: str, user_id: str) -> frozenset[str] | None:
        """The person's channel ids, or None when Slack cannot tell now (rate limit, error)."""
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and self.clock() - cached[0] < self.ttl:
            self._cache.move_to_end(key)
            return cached[1]
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = asyncio.ensure_future(self._list(team_id, user_id))
            running.add_done_callback(lambda _done: self._running.pop(key, None))
        # Shielded: one caller giving up (a cancelled request) does not cancel the listing
        # the others wait for.
        return await asyncio.shield(running)

    def forget(self, team_id: str, user_id: str) -> None:
        self._cache.pop((team_id, user_id), None)

    async def _list(self, team_id: str, user_id: str) -> frozenset[str] | None:
        client = await self._client_for(team_id)
        if client is None:
            return None
        client = _without_429_retries(client)
        found: set[str] = set()
        cursor: str | None = None
        for _page in range(MAX_PAGES):
            if not await self.budget.take(team_id, WAIT_SECONDS):
                warn_limited(
                    logger,
                    "users.conversations over budget",
                    "users.conversations: over this workspace's budget, a Home tab shows less",
                )
                return None
            try:
                response = await client.users_conversations(
                    user=user_id,
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=PAGE_LIMIT,
                    cursor=cursor,
                )
            except SlackApiError as exc:
                if exc.response.status_code == 429:
                    self.budget.pause(team_id, _retry_after(exc.response.headers))
                warn_limited(
                    logger,
                    "users.conversations failures",
                    "users.conversations failed: %s",
                    str(exc.response.get("error", "unknown"))[:40],
                )
                return None
            except (aiohttp.ClientError, TimeoutError) as exc:
                logger.warning("users.conversations failed: %s", type(exc).__name__)
                return None
            channels = response.get("channels")
            for channel in channels if isinstance(channels, list) else []:
                channel_id = slack_id(
                    channel.get("id") if isinstance(channel, dict) else None, CONVERSATION
                )
                if channel_id is not None:
                    found.add(channel_id)
            meta = response.get("response_metadata")
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            if not cursor or not isinstance(cursor, str):
                break
        listing = frozenset(found)
        self._cache[(team_id, user_id)] = (self.clock(), listing)
        self._cache.move_to_end((team_id, user_id))
        while len(self._cache) > MAX_PEOPLE:
            self._cache.popitem(last=False)
        return listing


def _retry_after(headers: object) -> float:
    """Seconds in a 429's Retry-After header (30 when it has none)."""
    items = headers.items() if isinstance(headers, dict) or hasattr(headers, "items") else []
    for name, value in items:
        if str(name).lower() == "retry-after":
            text = str(value[0] if isinstance(value, list) and value else value)
            return float(text) if text.isdigit() else 30.0
    return 30.0
