"""The Teams implementation of the `Chat` port: proactive posts through the Bot Connector.

Every post uses the channel's stored conversation reference (so it works after a restart and
from any replica), stays under Teams' per-conversation limits and backs off on the statuses Teams
uses for throttling and transient trouble. Failures come back as `PostResult` errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity, ResourceResponse
from microsoft_agents.hosting.core import ChannelAdapter, TurnContext
from microsoft_agents.hosting.core.app.proactive import Conversation
from pydantic import ValidationError

from bot.charts import WeekChart, chart_title
from bot.exercises import Exercise
from bot.i18n import _
from bot.metrics import Metrics
from bot.pictures import PictureLinks
from bot.ports import Board, ChannelKey, PostError, PostResult
from bot.replies import board_heading
from bot.team_ports import GroupBreak
from handlers.teams import cards, team_cards
from handlers.teams.directory import TeamsDirectory

logger = logging.getLogger("stretchbot.teams")

Sleep = Callable[[float], Awaitable[None]]

# Teams answers throttling with 429 (sometimes 412) and passing trouble with 502/504.
RETRYABLE_STATUSES = frozenset({412, 429, 502, 504})
# Error codes of a conversation the bot can no longer post in (removed, blocked, deleted).
GONE_CODES = frozenset(
    {
        "BotNotInConversationRoster",
        "BotDisabledByAdmin",
        "ConversationBlockedByUser",
        "ConversationNotFound",
        "NotFound",
    }
)
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class RateWindow:
    seconds: float
    limit: int


# Teams' documented per-bot, per-conversation send limits.
TEAMS_WINDOWS = (
    RateWindow(1, 7),
    RateWindow(2, 8),
    RateWindow(30, 60),
    RateWindow(3600, 1800),
)


class ConversationLimiter:
    """Spaces this process's sends per conversation to stay inside Teams' limits.

    Other replicas have their own limiter; a 429 that still happens is retried after
    Retry-After by `TeamsChat`.
    """

    def __init__(
        self,
        windows: tuple[RateWindow, ...] = TEAMS_WINDOWS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._windows = windows
        self._horizon = max(window.seconds for window in windows)
        self._monotonic = monotonic
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def wait_time(self, conversation_id: str, now: float) -> float:
        """Seconds until one more send to the conversation fits every window."""
        sent = self._sent.get(conversation_id)
        if not sent:
            return 0.0
        while sent and sent[0] <= now - self._horizon:
            sent.popleft()
        wait = 0.0
        for window in self._windows:
            recent = [at for at in sent if at > now - window.seconds]
            if len(recent) >= window.limit:
                oldest_to_leave = recent[len(recent) - window.limit]
                wait = max(wait, oldest_to_leave + window.seconds - now)
        return wait

    async def acquire(self, conversation_id: str) -> float:
        """Wait until a send fits, record it, and return how long we waited."""
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        waited = 0.0
        async with lock:
            while True:
                now = self._monotonic()
                wait = self.wait_time(conversation_id, now)
                if wait <= 0:
                    break
                await self._sleep(wait)
                waited += wait
            self._sent.setdefault(conversation_id, deque()).append(now)
        return waited


@dataclass(frozen=True)
class _Attempt:
    result: PostResult
    retryable: bool = False
    retry_after: float | None = None


def error_code(body: str) -> str | None:
    """The Bot Connector's error code from a response body (`{"error": {"code": ...}}`)."""
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError):
        return None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code else None


def classify(status: int, code: str | None) -> PostError:
    """Map a Bot Connector HTTP failure to the platform-neutral PostError."""
    if code in GONE_CODES or status == 404:
        return PostError.CHANNEL_GONE
    if status in (401, 403):
        return PostError.AUTH
    if status in (412, 429):
        return PostError.RATE_LIMITED
    return PostError.OTHER


def _retry_after(exc: aiohttp.ClientResponseError) -> float | None:
    value = exc.headers.get("Retry-After") if exc.headers else None
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value))) if value is not None else None
    except ValueError:
        return None


class TeamsChat:
    """Posts nudges, boards and texts into Teams conversations; never raises on post failures."""

    platform = "teams"

    def __init__(
        self,
        adapter: ChannelAdapter,
        directory: TeamsDirectory,
        *,
        metrics: Metrics | None = None,
        limiter: ConversationLimiter | None = None,
        max_retries: int = 3,
        backoff: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._adapter = adapter
        self.directory = directory
        self.metrics = metrics or Metrics()
        self.limiter = limiter or ConversationLimiter(sleep=sleep)
        # Nudge pictures: Teams fetches them itself, so only from PUBLIC_URL (or a custom
        # exercise's https address); set by the wiring.
        self.pictures = PictureLinks(enabled=False)
        self._max_retries = max_retries
        self._backoff = backoff
        self._sleep = sleep

    async def post_nudge(
        self, channel: ChannelKey, exercise: Exercise, *, patience: float | None = None
    ) -> PostResult:
        # The connector's throttling is per conversation and short: `send` retries it with
        # its own backoff, so `patience` needs no handling of its own here.
        return await self.send(
            channel, cards.nudge_activity(exercise, self.pictures.url_for(exercise))
        )

    async def post_board(self, channel: ChannelKey, board: Board) -> PostResult:
        people = [e.person_id for e in board.entries]
        if board.team is not None:
            people += team_cards.extras_people(board.team)
        names = await self.directory.names(channel.team_id, list(dict.fromkeys(people)))
        if board.team is None:
            return await self.send(channel, cards.board_activity(board, names))
        card = team_cards.board_with_extras(cards.board_card(board, names), board.team, names)
        return await self.send(
            channel,
            cards.card_activity(card, summary=board_heading(board)),
        )

    async def post_group_break(self, group: GroupBreak, *, now: datetime) -> PostResult:
        return await self.send(group.channel, await self._together_activity(group, now))

    async def update_group_break(self, group: GroupBreak, *, now: datetime) -> PostResult:
        """Replace the card (same activity id) with its roll call or final state."""
        if group.message_id is None:
            return PostResult(error=PostError.OTHER, detail="not_posted")
        activity = await self._together_activity(group, now)
        activity.id = group.message_id
        return await self.send(group.channel, activity, update=True)

    async def together_card(self, group: GroupBreak, *, now: datetime) -> dict[str, Any]:
        """The group break card with the joiners' display names."""
        names = await self.directory.names(group.channel.team_id, list(group.joiners))
        return team_cards.together_card(group, names, now=now)

    async def _together_activity(self, group: GroupBreak, now: datetime) -> Activity:
        return cards.card_activity(
            await self.together_card(group, now=now),
            summary=_("Group break: {minutes} min together").format(minutes=group.routine.minutes),
        )

    async def post_week_chart(self, channel: ChannelKey, chart: WeekChart) -> PostResult:
        """The week's chart as an Adaptive Card chart (Teams draws it)."""
        return await self.send(
            channel, cards.card_activity(team_cards.chart_card(chart), summary=chart_title(chart))
        )

    async def post_text(self, channel: ChannelKey, text: str) -> PostResult:
        people = cards.mentioned_people(text)
        names = await self.directory.names(channel.team_id, people) if people else {}
        return await self.send(channel, cards.reply_activity(text, names))

    async def ensure_member(self, channel: ChannelKey) -> PostResult:
        """Teams has no joining: the bot is in a conversation when it holds its reference."""
        stored = await self.directory.reference(channel)
        if stored is None:
            return PostResult(error=PostError.NOT_IN_CHANNEL, detail="no_conversation_reference")
        if not stored.active:
            return PostResult(error=PostError.CHANNEL_GONE, detail="bot_removed")
        return PostResult()

    async def user_timezone(self, team_id: str, user_id: str) -> str | None:
        return self.directory.timezone(user_id)

    async def user_locale(self, team_id: str, user_id: str) -> str | None:
        return self.directory.locale(user_id)

    def workspace_prefix(self, team_id: str) -> str | None:
        """A personal chat is a workspace of its own (`<tenant>:<chat>`): `stats` there covers
        every team and chat of the tenant (`<tenant>:`), as `bot.home.SpansWorkspaces` says."""
        tenant = team_id.split(":", 1)[0]
        return f"{tenant}:" if tenant and tenant != team_id else None

    async def send(
        self, channel: ChannelKey, activity: Activity, *, update: bool = False
    ) -> PostResult:
        """Post `activity` as a new message in `channel` through its stored reference (with
        `update`, replace the message `activity.id` instead)."""
        stored = await self.directory.reference(channel)
        if stored is None:
            return PostResult(error=PostError.NOT_IN_CHANNEL, detail="no_conversation_reference")
        if not stored.active:
            return PostResult(error=PostError.CHANNEL_GONE, detail="bot_removed")
        try:
            conversation = Conversation.from_json_to_store_item(json.loads(stored.reference))
            conversation.validate()
        except (ValueError, TypeError, ValidationError):
            logger.error("teams.bad_reference channel=%s", channel.channel_id)
            return PostResult(error=PostError.OTHER, detail="bad_reference")
        conversation_id = conversation.conversation_reference.conversation.id
        attempt = 0
        while True:
            await self.limiter.acquire(conversation_id)
            outcome = await self._attempt(
                conversation, activity.model_copy(deep=True), update=update
            )
            if not outcome.retryable or attempt >= self._max_retries:
                break
            delay = outcome.retry_after
            if delay is None:
                delay = min(8.0, self._backoff * 2**attempt)
            logger.info(
                "teams.retry channel=%s reason=%s in=%.1fs",
                channel.channel_id,
                outcome.result.detail,
                delay,
            )
            await self._sleep(delay)
            attempt += 1
        if outcome.result.error is PostError.CHANNEL_GONE:
            await self.directory.forget(channel)
        return outcome.result

    async def _attempt(
        self, conversation: Conversation, activity: Activity, *, update: bool = False
    ) -> _Attempt:
        claims = Conversation.identity_from_claims(conversation.claims)
        continuation = conversation.conversation_reference.get_continuation_activity()
        # No id: the SDK would otherwise address the post as a reply to this made-up id; a
        # channel post is a new message in the conversation (POST .../activities).
        continuation.id = None
        sent: list[ResourceResponse] = []
        failed: list[BaseException] = []

        async def post(context: TurnContext) -> None:
            try:
                if update:
                    sent.append(await context.update_activity(activity))
                else:
                    sent.append(await context.send_activity(activity))
            except Exception as exc:
                failed.append(exc)

        started = time.perf_counter()
        try:
            await self._adapter.continue_conversation_with_claims(claims, continuation, post)
        except Exception as exc:  # token acquisition or client set-up, before `post` ran
            failed.append(exc)
        finally:
            self.metrics.api_latency.labels("teams", "conversations.send").observe(
                time.perf_counter() - started
            )
        if sent:
            answered = sent[0]
            message_id = getattr(answered, "id", None) if answered is not None else None
            return _Attempt(PostResult(message_id=message_id or activity.id or None))
        error = failed[0] if failed else RuntimeError("nothing sent")
        return self._failure(error)

    def _failure(self, exc: BaseException) -> _Attempt:
        if isinstance(exc, aiohttp.ClientResponseError):
            code = error_code(exc.message)
            detail = code or f"http_{exc.status}"
            if exc.status == 429:
                self.metrics.rate_limited.labels("teams", "conversations.send").inc()
            return _Attempt(
                PostResult(error=classify(exc.status, code), detail=detail),
                retryable=exc.status in RETRYABLE_STATUSES,
                retry_after=_retry_after(exc),
            )
        if isinstance(exc, (aiohttp.ClientError, TimeoutError)):
            return _Attempt(
                PostResult(error=PostError.OTHER, detail=f"connection: {type(exc).__name__}"),
                retryable=True,
            )
        if isinstance(exc, ValueError) and "acquire token" in str(exc).lower():
            # MSAL refused our credentials: CLIENTID / CLIENTSECRET / TENANTID are wrong.
            logger.error("teams.token_failed: check the CONNECTIONS__SERVICE_CONNECTION__ settings")
            return _Attempt(PostResult(error=PostError.AUTH, detail="token_acquisition_failed"))
        logger.error("teams.post_error %s: %s", type(exc).__name__, exc)
        return _Attempt(PostResult(error=PostError.OTHER, detail=type(exc).__name__))
