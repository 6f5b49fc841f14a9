"""The Slack implementation of the `Chat` port, on slack_sdk's AsyncWebClient."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.chart_process import ChartDrawer
from bot.charts import WeekChart, alt_text, chart_title
from bot.exercises import Exercise
from bot.languages import LocaleCache
from bot.metrics import Metrics
from bot.ports import Board, ChannelKey, PostError, PostResult
from bot.reminders import Busy, BusyStatus
from bot.team_ports import GroupBreak
from bot.who_moved import NOTHING_TO_SHOW, ReadRoll
from handlers.slack.blocks import board_message, escape, nudge_message
from handlers.slack.presence import SlackPresence
from handlers.slack.rate_gate import RateGate, retry_after_seconds
from handlers.slack.together_card import together_message
from handlers.slack.update_pacing import UpdatePacer, retry_after

if TYPE_CHECKING:
    from handlers.slack.pictures import SlackPictures

logger = logging.getLogger("stretchbot.slack")

GONE = frozenset({"channel_not_found", "is_archived", "channel_is_archived"})
AUTH = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "team_access_not_granted",
        "missing_scope",
    }
)
NOT_MEMBER = frozenset({"not_in_channel"})
UPDATE_TRIES = 4  # an edit answered 429 this often (each after its Retry-After) is given up
# chat.postMessage's answers to an image block it cannot show.
PICTURE_REFUSED = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "downloading_image_failed", "file_not_found"}
)
CANNOT_JOIN = frozenset({"method_not_supported_for_channel_type", "channel_not_found"})


class CountingRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (sleeps Retry-After, then retries), counting each 429 it sees."""

    def __init__(self, on_429: Callable[[str], None], *, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._on_429 = on_429

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self._on_429(request.url.rsplit("/", 1)[-1])
        return response is not None and response.status_code == 429


def make_client(
    token: str | None,
    *,
    base_url: str,
    max_retries: int = 3,
    on_429: Callable[[str], None] | None = None,
    team_id: str | None = None,
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """An AsyncWebClient that retries 429 (honouring Retry-After), connection errors and 5xx.

    `team_id` goes with every call: an Enterprise Grid org-wide token needs it to know which
    workspace a method acts on (workspace tokens ignore it). A shared `session` keeps
    connections open between calls (without one, slack_sdk opens a connection per call).
    """
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        team_id=team_id,
        session=session,
        timeout=30,
        retry_handlers=[
            CountingRateLimitRetryHandler(
                on_429 or (lambda method: None), max_retry_count=max_retries
            ),
            AsyncConnectionErrorRetryHandler(max_retry_count=max_retries),
            AsyncServerErrorRetryHandler(max_retry_count=max_retries),
        ],
    )


def classify(error: str) -> PostError:
    """Map a Slack error code to the platform-neutral PostError."""
    if error in GONE:
        return PostError.CHANNEL_GONE
    if error in NOT_MEMBER:
        return PostError.NOT_IN_CHANNEL
    if error in AUTH:
        return PostError.AUTH
    if error in ("ratelimited", "rate_limited"):
        return PostError.RATE_LIMITED
    return PostError.OTHER


# The workspace's client, or None when the bot is not installed there (no token): then every
# call answers PostResult(AUTH, "not_installed") at once, without touching Slack or retrying.
ClientFor = Callable[[str], Awaitable[AsyncWebClient | None]]
NOT_INSTALLED = PostResult(error=PostError.AUTH, detail="not_installed")
RATE_LIMITED = PostResult(error=PostError.RATE_LIMITED, detail="ratelimited")
# Shutting down while waiting out a 429: the request was never sent.
STOPPING = PostResult(error=PostError.RATE_LIMITED, detail="stopping")
MAX_429_RETRIES = 3  # a call with no patience of its own gives up after this many 429s


def _without_429_retries(client: AsyncWebClient) -> AsyncWebClient:
    """The same client (session, token, other retries) that hands a 429 back at once: the
    chat waits at its shared gate instead of slack_sdk sleeping inside one request."""
    gated = copy.copy(client)
    gated.retry_handlers = [
        handler
        for handler in client.retry_handlers
        if not isinstance(handler, AsyncRateLimitErrorRetryHandler)
    ]
    return gated


class SlackChat:
    """Posts nudges and boards with Block Kit; every failure comes back as a PostResult."""

    platform = "slack"

    def __init__(
        self,
        client_for: ClientFor,
        *,
        metrics: Metrics | None = None,
        per_workspace: int = 4,
        busy_status: BusyStatus | None = None,
        pacer: UpdatePacer | None = None,
        gate: RateGate | None = None,
    ) -> None:
        self._client_for = client_for
        # Personal reminders: the person's DM, and whether they are busy (bot/reminders.py).
        self.presence = SlackPresence(client_for, status=busy_status)
        # Message edits (who moved, roll calls) share one paced budget per workspace.
        self.pacer = pacer or UpdatePacer()
        self.metrics = metrics or Metrics()
        # Every call waits at its (workspace, method) gate; a 429 closes it for all of them.
        self.gate = gate or RateGate()
        self._gated: weakref.WeakKeyDictionary[AsyncWebClient, AsyncWebClient] = (
            weakref.WeakKeyDictionary()
        )
        # Slack caps chat.postMessage per workspace as well as per channel: a slot shared by
        # many channels of one workspace goes out at most `per_workspace` posts at a time.
        self._per_workspace = per_workspace
        self._workspace_slots: dict[str, asyncio.Semaphore] = {}
        self.charts = ChartDrawer()  # the weekly chart is drawn in a child process
        self.pictures: SlackPictures | None = None  # nudge pictures; set by the wiring
        self.locales = LocaleCache()

    @classmethod
    def single_workspace(
        cls,
        client: AsyncWebClient,
        *,
        metrics: Metrics | None = None,
        per_workspace: int = 4,
        busy_status: BusyStatus | None = None,
    ) -> SlackChat:
        async def client_for(team_id: str) -> AsyncWebClient:
            return client

        return cls(
            client_for, metrics=metrics, per_workspace=per_workspace, busy_status=busy_status
        )

    def _without_429_retries(self, client: AsyncWebClient) -> AsyncWebClient:
        """The workspace's client handing 429s back at once (made once per client)."""
        gated = self._gated.get(client)
        if gated is None:
            gated = self._gated[client] = _without_429_retries(client)
        return gated

    async def client(self, team_id: str) -> AsyncWebClient | None:
        """The workspace's Web API client (shared session, retries), None when not installed."""
        return await self._client_for(team_id)

    async def post_nudge(
        self, channel: ChannelKey, exercise: Exercise, *, patience: float | None = None
    ) -> PostResult:
        image = (
            await self.pictures.image_block(channel.team_id, exercise)
            if self.pictures is not None
            else None
        )
        text, blocks = nudge_message(exercise, image=image)
        result = await self._post(channel, patience=patience, text=text, blocks=blocks)
        if image is not None and result.detail in PICTURE_REFUSED:
            # A picture Slack cannot show (a deleted file, an address it cannot fetch) never
            # costs the nudge: post it again without one.
            logger.warning(
                "nudge picture refused (%s) team=%s exercise=%s",
                result.detail,
                channel.team_id,
                exercise.key,
            )
            assert self.pictures is not None
            await self.pictures.forget(channel.team_id, image)
            text, blocks = nudge_message(exercise)
            result = await self._post(channel, patience=patience, text=text, blocks=blocks)
        return result

    async def post_board(self, channel: ChannelKey, board: Board) -> PostResult:
        text, blocks = board_message(board)
        return await self._post(channel, text=text, blocks=blocks)

    async def post_text(self, channel: ChannelKey, text: str) -> PostResult:
        return await self._post(channel, text=escape(text))

    async def post_group_break(self, group: GroupBreak, *, now: datetime) -> PostResult:
        text, blocks = together_message(group, now=now)
        return await self._post(group.channel, text=text, blocks=blocks)

    async def update_group_break(self, group: GroupBreak, *, now: datetime) -> PostResult:
        """`chat.update` the card in place (same ts) with its roll call or final state."""
        if group.message_id is None:
            return PostResult(error=PostError.OTHER, detail="not_posted")
        text, blocks = together_message(group, now=now)
        return await self._update(group.channel, group.message_id, {"text": text, "blocks": blocks})

    async def update_nudge(
        self, channel: ChannelKey, message_id: str, read: ReadRoll
    ) -> PostResult:
        """`chat.update` the nudge in place (same ts): its blocks as posted, plus who moved,
        read when the workspace's turn to edit has come."""

        async def content() -> dict[str, Any] | None:
            shown = await read()
            if shown is None:
                return None
            exercise, roll = shown
            # The picture as posted (cached: a URL, or the workspace's uploaded file id).
            image = (
                await self.pictures.image_block(channel.team_id, exercise)
                if self.pictures is not None
                else None
            )
            text, blocks = nudge_message(exercise, roll, image)
            return {"text": text, "blocks": blocks}

        return await self._update(channel, message_id, content)

    async def _update(
        self,
        channel: ChannelKey,
        ts: str,
        content: dict[str, Any] | Callable[[], Awaitable[dict[str, Any] | None]],
    ) -> PostResult:
        """One paced `chat.update`: it waits for the workspace's turn (then reads `content`
        when it is a reader); a 429 pauses every edit of the workspace for its Retry-After,
        then this one is tried again."""
        client = await self._client_for(channel.team_id)
        if client is None:
            return NOT_INSTALLED
        client = self._without_429_retries(client)
        for _try in range(UPDATE_TRIES):
            await self.pacer.turn(channel.team_id)
            if callable(content):
                read = await content()
                if read is None:
                    return PostResult(error=PostError.OTHER, detail=NOTHING_TO_SHOW)
                content = read
            started = time.perf_counter()
            try:
                response = await client.chat_update(channel=channel.channel_id, ts=ts, **content)
            except SlackApiError as exc:
                if exc.response.status_code == 429:
                    self.metrics.rate_limited.labels("slack", "chat.update").inc()
                    self.pacer.pause(channel.team_id, retry_after(exc.response.headers))
                    continue
                error = str(exc.response.get("error", "unknown"))
                return PostResult(error=classify(error), detail=error)
            except (TimeoutError, aiohttp.ClientError) as exc:
                return PostResult(error=PostError.OTHER, detail=f"connection: {type(exc).__name__}")
            finally:
                self.metrics.api_latency.labels("slack", "chat.update").observe(
                    time.perf_counter() - started
                )
            return PostResult(message_id=response.get("ts"))
        return PostResult(error=PostError.RATE_LIMITED, detail="ratelimited")

    async def post_week_chart(self, channel: ChannelKey, chart: WeekChart) -> PostResult:
        """Draw the week's chart and upload it into the channel with its alt text."""
        from handlers.slack.uploads import upload_file

        client = await self._client_for(channel.team_id)
        if client is None:
            return NOT_INSTALLED
        png = await self.charts.draw(chart)
        slots = self._workspace_slots.setdefault(
            channel.team_id, asyncio.Semaphore(self._per_workspace)
        )
        started = time.perf_counter()
        async with slots:
            result = await upload_file(
                client,
                channel_id=channel.channel_id,
                data=png,
                filename=f"movement-week-{chart.week_of.isoformat()}.png",
                title=chart_title(chart),
                alt_txt=alt_text(chart),
            )
        self.metrics.api_latency.labels("slack", "files.upload_external").observe(
            time.perf_counter() - started
        )
        return result

    async def ensure_member(self, channel: ChannelKey) -> PostResult:
        joined = await self._call(channel, "conversations_join", channel=channel.channel_id)
        if joined.ok or joined.detail not in CANNOT_JOIN:
            return joined
        # Private channels and DMs cannot be joined; the bot sees a private one only as a member.
        info = await self._call(channel, "conversations_info", channel=channel.channel_id)
        if info.detail == "channel_not_found":
            return PostResult(error=PostError.NOT_IN_CHANNEL, detail="private_channel")
        return info

    async def busy(self, team_id: str, user_id: str, *, now: datetime) -> Busy | None:
        return await self.presence.busy(team_id, user_id, now=now)

    async def open_direct(self, team_id: str, user_id: str) -> str | None:
        return await self.presence.open_direct(team_id, user_id)

    async def user_timezone(self, team_id: str, user_id: str) -> str | None:
        user = await self._user(team_id, user_id)
        tz = user.get("tz") if user is not None else None
        return tz if isinstance(tz, str) and tz else None

    def known_locale(self, team_id: str, user_id: str) -> tuple[bool, str | None]:
        """(known, locale) from what is kept, without asking Slack."""
        return self.locales.get(team_id, user_id)

    async def user_locale(self, team_id: str, user_id: str) -> str | None:
        """The person's Slack locale as a catalog locale (kept an hour), None when unknown."""
        known, locale = self.locales.get(team_id, user_id)
        if known:
            return locale
        await self._user(team_id, user_id)  # keeps the locale it reads
        return self.locales.get(team_id, user_id)[1]

    async def is_workspace_admin(self, team_id: str, user_id: str) -> bool | None:
        """Workspace admin or owner per `users.info`; None when Slack cannot tell us now."""
        user = await self._user(team_id, user_id)
        if user is None:
            return None
        return any(user.get(flag) is True for flag in ("is_admin", "is_owner", "is_primary_owner"))

    async def _user(self, team_id: str, user_id: str) -> dict[str, Any] | None:
        client = await self._client_for(team_id)
        if client is None:
            return None
        try:
            response = await client.users_info(user=user_id, include_locale=True)
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
            logger.warning("users.info failed team=%s user=%s: %s", team_id, user_id, _detail(exc))
            return None
        user = response.get("user")
        if not isinstance(user, dict):
            return None
        self.locales.put(team_id, user_id, user.get("locale"))
        return user

    async def _post(
        self, channel: ChannelKey, *, patience: float | None = None, **kwargs: Any
    ) -> PostResult:
        slots = self._workspace_slots.get(channel.team_id)
        if slots is None:
            slots = self._workspace_slots[channel.team_id] = asyncio.Semaphore(self._per_workspace)
        async with slots:
            return await self._call(
                channel,
                "chat_postMessage",
                patience=patience,
                channel=channel.channel_id,
                unfurl_links=False,
                unfurl_media=False,
                **kwargs,
            )

    async def _call(
        self, where: ChannelKey, method: str, *, patience: float | None = None, **kwargs: Any
    ) -> PostResult:
        """Call `method` for the workspace, waiting at its gate first and after each 429.

        `patience`: seconds this call may keep waiting out 429s (a nudge: what is left of its
        grace period); it gives up as soon as the gate stays closed past that. None: give up
        after MAX_429_RETRIES 429s.
        """
        client = await self._client_for(where.team_id)
        if client is None:
            return NOT_INSTALLED
        gated = self._without_429_retries(client)
        api_method = method.replace("_", ".", 1)
        until = None if patience is None else self.gate.clock() + max(0.0, patience)
        limited = 0
        while True:
            if not await self.gate.wait(where.team_id, api_method, until=until):
                return STOPPING if self.gate.stopping else RATE_LIMITED
            started = time.perf_counter()
            try:
                response = await getattr(gated, method)(**kwargs)
            except SlackApiError as exc:
                if exc.response.status_code != 429:
                    error = str(exc.response.get("error", "unknown"))
                    return PostResult(error=classify(error), detail=error)
                self.gate.close(
                    where.team_id, api_method, retry_after_seconds(exc.response.headers)
                )
                self.metrics.rate_limited.labels("slack", api_method).inc()
                limited += 1
                if until is None and limited > MAX_429_RETRIES:
                    return RATE_LIMITED
                continue
            except (TimeoutError, aiohttp.ClientError) as exc:
                return PostResult(error=PostError.OTHER, detail=f"connection: {type(exc).__name__}")
            finally:
                self.metrics.api_latency.labels("slack", api_method).observe(
                    time.perf_counter() - started
                )
            break
        if method == "conversations_info":
            info = response.get("channel") or {}
            if info.get("is_archived"):
                return PostResult(error=PostError.CHANNEL_GONE, detail="is_archived")
            if info.get("is_member") or info.get("is_im"):
                return PostResult(message_id=None)
            return PostResult(error=PostError.NOT_IN_CHANNEL, detail="not_in_channel")
        return PostResult(message_id=response.get("ts"))


def _detail(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown"))
    return type(exc).__name__
