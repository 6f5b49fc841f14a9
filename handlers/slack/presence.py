"""Is a person busy, per Slack? Do Not Disturb (`dnd.info`, Tier 3), a huddle or a meeting
status (`users.profile.get`, Tier 4), read just before their personal reminder.

Reads are cached briefly per person (the cache ages by the scheduler's clock, so an injected
clock ages it too) and each workspace has a per-minute budget per method well inside Slack's
tier: past it, or when a read fails, the person counts as free, so a reminder is never blocked
by what could not be read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.reminders import Busy, BusyStatus

logger = logging.getLogger("stretchbot.slack")

CACHE_FOR = timedelta(minutes=2)
# Calls per workspace per minute: Slack's Tier 3 allows about 50 (dnd.info), Tier 4 about 100
# (users.profile.get); stay well below so other work keeps its share.
BUDGET_PER_MINUTE = {"dnd.info": 40, "users.profile.get": 80}
MAX_CACHED = 10_000

ClientFor = Callable[[str], Awaitable[AsyncWebClient | None]]


def _instant(value: object) -> datetime | None:
    """A Slack epoch-seconds field as an aware UTC datetime (None for 0 or anything odd)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def dnd_busy(dnd: dict[str, Any], now: datetime) -> Busy | None:
    """Busy per a `dnd.info` answer at `now`: inside the scheduled Do Not Disturb window
    (`dnd_enabled`, `next_dnd_start_ts` <= now < `next_dnd_end_ts`) or snoozed
    (`snooze_enabled`, until `snooze_endtime`); `until` is when the later of both ends."""
    ends: list[tuple[str, datetime]] = []
    if dnd.get("dnd_enabled") is True:
        start, end = _instant(dnd.get("next_dnd_start_ts")), _instant(dnd.get("next_dnd_end_ts"))
        if start is not None and end is not None and start <= now < end:
            ends.append(("dnd", end))
    if dnd.get("snooze_enabled") is True:
        end = _instant(dnd.get("snooze_endtime"))
        if end is not None and now < end:
            ends.append(("snooze", end))
    if not ends:
        return None
    reason, until = max(ends, key=lambda item: item[1])
    return Busy("dnd" if reason == "dnd" else "snooze", until)


def profile_busy(profile: dict[str, Any], now: datetime, status: BusyStatus) -> Busy | None:
    """Busy per a `users.profile.get` profile at `now`: in a huddle (`huddle_state`
    `in_a_huddle`), or a status that says meeting or call and has not expired."""
    if profile.get("huddle_state") == "in_a_huddle":
        expires = _instant(profile.get("huddle_state_expiration_ts"))
        if expires is None or now < expires:
            return Busy("huddle")
    emoji, text = profile.get("status_emoji"), profile.get("status_text")
    if status.says_busy(
        emoji if isinstance(emoji, str) else None, text if isinstance(text, str) else None
    ):
        expires = _instant(profile.get("status_expiration"))
        if expires is None or now < expires:
            return Busy("status", None)
    return None


class _Budget:
    """Calls allowed per workspace and method in the current minute (real time)."""

    def __init__(self) -> None:
        self.per_minute = dict(BUDGET_PER_MINUTE)
        self._minute: dict[tuple[str, str], tuple[int, int]] = {}

    def take(self, team_id: str, method: str) -> bool:
        minute = int(time.monotonic() // 60)
        key = (team_id, method)
        at, used = self._minute.get(key, (minute, 0))
        if at != minute:
            used = 0
        if used >= self.per_minute[method]:
            return False
        self._minute[key] = (minute, used + 1)
        return True


class SlackPresence:
    """Reads Do Not Disturb, huddle and status, cached briefly and within Slack's tiers."""

    def __init__(self, client_for: ClientFor, *, status: BusyStatus | None = None) -> None:
        self._client_for = client_for
        self.status = status or BusyStatus()
        self._cache: dict[tuple[str, str, str], tuple[datetime, dict[str, Any] | None]] = {}
        self.budget = _Budget()

    async def busy(self, team_id: str, user_id: str, *, now: datetime) -> Busy | None:
        """Why the person is busy at `now`, or None (free, or not known)."""
        dnd = await self._read(team_id, user_id, "dnd.info", now)
        if dnd is not None and (found := dnd_busy(dnd, now)) is not None:
            return found
        answer = await self._read(team_id, user_id, "users.profile.get", now)
        profile = answer.get("profile") if answer is not None else None
        if isinstance(profile, dict):
            return profile_busy(profile, now, self.status)
        return None

    async def _read(
        self, team_id: str, user_id: str, method: str, now: datetime
    ) -> dict[str, Any] | None:
        key = (team_id, user_id, method)
        cached = self._cache.get(key)
        if cached is not None and timedelta(0) <= now - cached[0] < CACHE_FOR:
            return cached[1]
        client = await self._client_for(team_id)
        if client is None or not self.budget.take(team_id, method):
            return None  # not installed, or over budget: not known (never blocks a reminder)
        try:
            if method == "dnd.info":
                response = await client.dnd_info(user=user_id)
            else:
                response = await client.users_profile_get(user=user_id)
            data: dict[str, Any] | None = (
                dict(response.data) if isinstance(response.data, dict) else None
            )
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
            logger.warning("%s failed team=%s: %s", method, team_id, _detail(exc))
            data = None
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[key] = (now, data)
        return data

    async def open_direct(self, team_id: str, user_id: str) -> str | None:
        """The bot's DM with the person (`conversations.open`), or None."""
        client = await self._client_for(team_id)
        if client is None:
            return None
        try:
            response = await client.conversations_open(users=user_id)
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
            logger.warning("conversations.open failed team=%s: %s", team_id, _detail(exc))
            return None
        channel = response.get("channel")
        found = channel.get("id") if isinstance(channel, dict) else None
        return found if isinstance(found, str) and found else None


def _detail(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown"))[:40]
    return type(exc).__name__
