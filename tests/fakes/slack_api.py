"""A fake Slack: Web API, Socket Mode websocket and response_url endpoints on 127.0.0.1.

Modelled on python-slack-sdk's ``tests/mock_web_api_server``: a real HTTP server that the real
``slack_sdk`` / Bolt clients talk to, with failure modes a test selects per method, per token
or per channel. Responses follow Slack's documented shapes
(https://docs.slack.dev/reference/methods): HTTP 200 with ``{"ok": false, "error": ...}`` for
API errors, HTTP 429 + ``Retry-After`` for rate limits, 5xx only when a test asks for it.

Usage::

    async with FakeSlack() as slack:
        slack.add_channel("C0001", name="general", member=True)
        client = AsyncWebClient(base_url=slack.api_url, token="xoxb-test")
        await client.chat_postMessage(channel="C0001", text="Time to move!")
        [call] = await slack.wait_for("chat.postMessage")
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import WSCloseCode, WSMsgType, web

from tests.fakes.block_kit import message_problems
from tests.fakes.slack_presence import PresenceApi
from tests.fakes.slack_surfaces import SurfacesApi

JsonDict = dict[str, Any]

# Methods that work without a token (OAuth uses client credentials instead).
_TOKENLESS_METHODS = frozenset({"oauth.v2.access", "oauth.v2.exchange", "api.test"})
# Slack's labels for the abbreviations zoneinfo reports; anything else falls back to the
# abbreviation itself, which is enough for tests.
_TZ_LABELS = {
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "GMT": "Greenwich Mean Time",
    "UTC": "Coordinated Universal Time",
    "BST": "British Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "JST": "Japan Standard Time",
    "IST": "India Standard Time",
}
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "channels:join",
    "channels:read",
    "groups:read",
    "reactions:read",
    "users:read",
    "files:write",
    "im:history",
    "app_mentions:read",
    "dnd:read",
    "im:write",
    "users.profile:read",
)


@dataclass(frozen=True)
class Call:
    """One Web API request as the fake received it.

    Attributes:
        method: API method name, e.g. ``"chat.postMessage"``.
        params: Query string, form fields and JSON body merged (JSON values keep their types).
        token: The bearer token from the Authorization header or the ``token`` param.
        headers: Request headers.
        content_type: ``application/json``, ``application/x-www-form-urlencoded``, ...
        status: HTTP status the fake answered.
        response: The JSON body the fake answered.
        received_at: When the request arrived (event loop time, seconds).
        answered_at: When its answer was ready, serialised (the fake's own time is the
            difference, `latency` included).
    """

    method: str
    params: dict[str, Any]
    token: str | None
    headers: dict[str, str]
    content_type: str = ""
    status: int = 200
    response: JsonDict = field(default_factory=dict)
    received_at: float = 0.0
    answered_at: float = 0.0


@dataclass(frozen=True)
class ResponseUrlPost:
    """One POST the app made to a ``response_url`` (``/respond/<name>``)."""

    name: str
    body: JsonDict
    headers: dict[str, str]


@dataclass
class FakeChannel:
    """A conversation the fake knows about; mutate it to change state mid-test."""

    id: str
    name: str
    is_private: bool = False
    is_member: bool = False
    is_archived: bool = False
    created: int = 1_600_000_000

    def to_dict(self) -> JsonDict:
        """The channel object as ``conversations.info`` returns it."""
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "is_member": self.is_member,
            "created": self.created,
            "creator": "U0001",
            "unlinked": 0,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }


@dataclass
class FakeUser:
    """A workspace member as ``users.info`` describes them."""

    id: str
    name: str
    tz: str = "America/New_York"
    tz_label: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    real_name: str | None = None
    locale: str = "en-US"  # answered only when the call asks `include_locale`

    def to_dict(self, team_id: str, *, include_locale: bool = False) -> JsonDict:
        """The user object as ``users.info`` returns it (tz_offset computed for now)."""
        now = datetime.now(ZoneInfo(self.tz))
        offset = now.utcoffset()
        abbreviation = now.tzname() or self.tz
        real_name = self.real_name or self.name.title()
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": self.tz,
            "tz_label": self.tz_label or _TZ_LABELS.get(abbreviation, abbreviation),
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": self.name,
                "display_name_normalized": self.name,
                "team": team_id,
            },
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_600_000_000,
            "has_2fa": False,
        } | ({"locale": self.locale} if include_locale else {})


@dataclass
class FakeUpload:
    """A file the app is uploading with ``files.getUploadURLExternal`` (then shared with
    ``files.completeUploadExternal``)."""

    id: str
    filename: str
    length: int
    alt_txt: str | None
    data: bytes | None = None  # the bytes POSTed to the upload URL
    title: str | None = None
    channel_id: str | None = None  # where it was shared
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class _Reply:
    body: JsonDict
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    reply: _Reply
    remaining: int | None  # None: forever


def _ok(**fields: Any) -> _Reply:
    return _Reply({"ok": True, **fields})


def _error(error: str, **fields: Any) -> _Reply:
    return _Reply({"ok": False, "error": error, **fields})


class FakeSlack:
    """A local stand-in for slack.com that real slack_sdk / Bolt clients can talk to.

    Web API: ``POST|GET /api/<method>``. Socket Mode: websocket at ``/socket`` (the URL
    ``apps.connections.open`` hands out). Response URLs: ``POST /respond/<name>``.

    Everything is recorded: ``calls`` (Web API), ``responses`` (response_url posts),
    ``socket_messages`` / ``acks`` (what Socket Mode clients sent), ``messages`` (what was
    posted, per channel).
    """

    def __init__(
        self,
        *,
        team_id: str = "T0001",
        team_name: str = "Stretchers",
        team_domain: str = "stretchers",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        bot_name: str = "stretchbot",
        app_id: str = "A0001",
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        default_tz: str = "America/New_York",
        hide_private_channels: bool = False,
        first_ts: str = "1700000000.000100",
    ) -> None:
        """Configure the fake workspace.

        Args:
            hide_private_channels: Answer ``channel_not_found`` (what Slack really says) instead
                of ``not_in_channel`` for private channels the bot is not a member of, in
                ``chat.postMessage``/``chat.postEphemeral`` and ``conversations.info``.
            first_ts: The ``ts`` of the first message posted; later ones increase by 100 µs.
        """
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.scopes = scopes
        self.default_tz = default_tz
        self.hide_private_channels = hide_private_channels

        # Knobs a test or benchmark sets directly.
        self.latency: float = 0.0
        self.refuse_sockets = False  # Socket Mode connections fail (see drop_sockets)
        # Most requests of one method under way at once (what a concurrency cap should bound).
        self.max_in_flight: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self.per_channel_limit: float | None = None
        # Slack's rate tiers per method for this workspace (e.g. {"chat.update": 50}): calls
        # past that many in the last 60 s answer 429 with the Retry-After until one leaves.
        self.per_minute_limits: dict[str, int] = {}
        self._recent_calls: dict[str, list[float]] = {}
        # Calls that came while an earlier 429 of the same method asked to wait (Retry-After
        # not honoured), per method; a client that honours them leaves this empty.
        self.unhonoured_429s: dict[str, int] = {}
        self._retry_after_until: dict[str, float] = {}
        # chat.postMessage per second per workspace (Slack's "several hundred per minute"
        # per workspace, made small): past it, 429 + Retry-After, and every post that lands
        # before that Retry-After has passed is recorded in `posts_in_retry_window` (and
        # refused again). A post's workspace: `token_teams[token]`, else its `team_id`
        # argument, else this fake's `team_id`.
        self.workspace_limit: float | None = None
        self.token_teams: dict[str, str] = {}
        self.posts_in_retry_window: list[tuple[str, str, float]] = []  # (team, channel, at)
        self.retry_windows: dict[str, float] = {}  # team -> when its Retry-After ends
        self.in_flight_allowance = 0.05  # seconds; see _workspace_limited
        self._workspace_posts: dict[str, collections.deque[float]] = {}
        self._window_started: dict[str, float] = {}
        self._arrived_at = 0.0  # when the request being dispatched arrived (loop time)
        self.invalid_tokens: set[str] = set()
        self.revoked_tokens: set[str] = set()
        self.missing_users: set[str] = set()

        # State of the fake workspace.
        self.channels: dict[str, FakeChannel] = {}
        self.users: dict[str, FakeUser] = {
            bot_user_id: FakeUser(bot_user_id, bot_name, tz=default_tz, is_bot=True)
        }
        self.messages: dict[str, list[JsonDict]] = {}
        self.ephemerals: list[JsonDict] = []
        self.updates: list[JsonDict] = []  # each accepted chat.update: channel, ts, text
        self.uploads: dict[str, FakeUpload] = {}  # by file id
        self._upload_keys: dict[str, str] = {}  # upload URL key -> file id
        self.reactions: dict[tuple[str, str], dict[str, list[str]]] = {}

        # Records.
        self.calls: list[Call] = []
        self.responses: list[ResponseUrlPost] = []
        self.socket_messages: list[JsonDict] = []
        self.acks: dict[str, JsonDict] = {}
        self.socket_connections = 0

        whole, _, fraction = first_ts.partition(".")
        self._next_ts_micros = int(whole) * 1_000_000 + int(fraction.ljust(6, "0")[:6])
        self._faults: dict[str, list[_Fault]] = {}
        self._last_post_at: dict[str, float] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, Callable[[JsonDict, str | None], _Reply]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "conversations.join": self._conversations_join,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "oauth.v2.access": self._oauth_v2_access,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }
        # views.*, users.conversations, conversations.open (tests/fakes/slack_surfaces.py)
        self.surfaces = SurfacesApi(self)
        self._handlers.update(self.surfaces.handlers())
        # dnd.info, users.profile.get (tests/fakes/slack_presence.py)
        self.presence = PresenceApi(self)
        self._handlers.update(self.presence.handlers())
        self.oauth_v2_access_response: JsonDict = {
            "ok": True,
            "app_id": app_id,
            "authed_user": {"id": "U0001"},
            "scope": ",".join(scopes),
            "token_type": "bot",
            "access_token": "xoxb-fake-installed-token",
            "bot_user_id": bot_user_id,
            "team": {"id": team_id, "name": team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening on 127.0.0.1 on a free port."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_post("/respond/{name}", self._handle_response_url)
        app.router.add_post("/upload/v1/{key}", self._handle_upload)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._changed = asyncio.Condition()

    async def stop(self) -> None:
        """Close websocket clients and stop the server."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started; use `async with FakeSlack() as slack`")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Web API base URL for ``AsyncWebClient(base_url=...)`` / ``SLACK_API_URL``."""
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        """The Socket Mode websocket URL (without the per-connection ticket)."""
        return f"ws://127.0.0.1:{self.port}/socket"

    def response_url(self, name: str = "default") -> str:
        """A response_url whose posts are recorded in ``responses`` under ``name``."""
        return f"{self.base_url}/respond/{name}"

    # -- workspace state ------------------------------------------------------------------

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        private: bool = False,
        member: bool = False,
        archived: bool = False,
    ) -> FakeChannel:
        """Register a conversation. Posting to unregistered ids answers ``channel_not_found``."""
        channel = FakeChannel(
            id=channel_id,
            name=name or channel_id.lower(),
            is_private=private,
            is_member=member,
            is_archived=archived,
        )
        self.channels[channel_id] = channel
        return channel

    def set_user(
        self,
        user_id: str,
        *,
        tz: str | None = None,
        tz_label: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        name: str | None = None,
        real_name: str | None = None,
        locale: str = "en-US",
    ) -> FakeUser:
        """Define (or redefine) what ``users.info`` answers for ``user_id``.

        Users never set get a default profile in ``default_tz``; ids in ``missing_users``
        answer ``user_not_found``.
        """
        ZoneInfo(tz or self.default_tz)  # fail fast on a typo in the test
        user = FakeUser(
            id=user_id,
            name=name or user_id.lower(),
            tz=tz or self.default_tz,
            tz_label=tz_label,
            is_admin=is_admin,
            is_owner=is_owner,
            is_bot=is_bot,
            deleted=deleted,
            real_name=real_name,
            locale=locale,
        )
        self.users[user_id] = user
        return user

    def files_in(self, channel_id: str) -> list[FakeUpload]:
        """Files shared in ``channel_id`` with ``files.completeUploadExternal``, oldest first."""
        return [u for u in self.uploads.values() if u.completed and u.channel_id == channel_id]

    def messages_in(self, channel_id: str) -> list[JsonDict]:
        """Messages posted to ``channel_id`` (oldest first), as stored after updates."""
        return list(self.messages.get(channel_id, []))

    def find_message(self, channel_id: str, ts: str) -> JsonDict | None:
        """The stored message ``ts`` in ``channel_id``, if any."""
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        return None

    # -- failure modes --------------------------------------------------------------------

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer 429 ``ratelimited`` + Retry-After."""
        self._add_fault(
            method,
            _Reply(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(retry_after)},
            ),
            times,
        )

    def fail_with_status(
        self, method: str, *, status: int = 500, times: int = 1, error: str | None = None
    ) -> None:
        """The next ``times`` calls of ``method`` answer HTTP ``status`` (e.g. 500, 503)."""
        default_error = "service_unavailable" if status == 503 else "internal_error"
        self._add_fault(
            method, _Reply({"ok": False, "error": error or default_error}, status=status), times
        )

    def fail_with_error(self, method: str, error: str, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer 200 ``{"ok": false, "error": error}``."""
        self._add_fault(method, _error(error), times)

    def set_response(
        self, method: str, body: JsonDict, *, status: int = 200, times: int | None = None
    ) -> None:
        """Answer ``method`` with ``body`` (``times`` calls, or until cleared if None)."""
        self._add_fault(method, _Reply(dict(body), status=status), times)

    def clear_faults(self, method: str | None = None) -> None:
        """Drop queued failures/overrides for ``method`` (all methods if None)."""
        if method is None:
            self._faults.clear()
        else:
            self._faults.pop(method, None)

    def _add_fault(self, method: str, reply: _Reply, times: int | None) -> None:
        if times is not None and times < 1:
            raise ValueError("times must be >= 1")
        self._faults.setdefault(method, []).append(_Fault(reply, times))

    def _take_fault(self, method: str) -> _Reply | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining == 0:
                queue.pop(0)
        return _Reply(
            json.loads(json.dumps(fault.reply.body)), fault.reply.status, dict(fault.reply.headers)
        )

    # -- waiting --------------------------------------------------------------------------
    # The waiters take `timeout=` (ASYNC109 prefers asyncio.timeout) because a bounded wait
    # with a failure message naming what never arrived is the whole point of them in tests.

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of ``method``, oldest first."""
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""
        await self._wait_until(
            lambda: len(self.calls_to(method)) >= count,
            timeout,
            lambda: f"{count} call(s) to {method}; got {[c.method for c in self.calls]}",
        )
        return self.calls_to(method)

    async def wait_for_response(
        self,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[ResponseUrlPost]:
        """Wait until ``count`` response_url posts arrived; return all of them."""
        await self._wait_until(
            lambda: len(self.responses) >= count,
            timeout,
            lambda: f"{count} response_url post(s); got {len(self.responses)}",
        )
        return list(self.responses)

    async def wait_for_socket_client(self, timeout: float = 5.0) -> None:
        """Wait until a Socket Mode client is connected."""
        await self._wait_until(
            lambda: bool(self._open_sockets()), timeout, lambda: "a Socket Mode connection"
        )

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> JsonDict:
        """Wait for the client's ack of ``envelope_id``: ``{"envelope_id", "payload"?}``."""
        await self._wait_until(
            lambda: envelope_id in self.acks,
            timeout,
            lambda: f"an ack for envelope {envelope_id}; got {sorted(self.acks)}",
        )
        return self.acks[envelope_id]

    async def _wait_until(
        self, predicate: Callable[[], bool], seconds: float, describe: Callable[[], str]
    ) -> None:
        if self._changed is None:
            raise RuntimeError("FakeSlack is not started")
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(predicate), seconds)
        except TimeoutError:
            raise AssertionError(
                f"FakeSlack: timed out after {seconds}s waiting for {describe()}"
            ) from None

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    # -- Socket Mode ----------------------------------------------------------------------

    async def send_envelope(
        self,
        type: str,
        payload: JsonDict,
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> str:
        """Send a Socket Mode envelope to the newest connected client; return its id.

        Like Slack, one envelope goes to one connection. ``accepts_response_payload``
        defaults to Slack's choice: true for slash commands and for view submissions /
        block suggestions, false otherwise.

        Args:
            type: ``"slash_commands"``, ``"events_api"`` or ``"interactive"``.
            payload: The command fields, the ``event_callback`` envelope or the interaction
                payload (see ``tests.fakes.slack_payloads``).
        """
        await self.wait_for_socket_client(timeout)
        if accepts_response_payload is None:
            accepts_response_payload = type == "slash_commands" or (
                type == "interactive"
                and payload.get("type") in ("view_submission", "block_suggestion")
            )
        envelope_id = (
            envelope_id or f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
        )
        envelope: JsonDict = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": type,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        await self._open_sockets()[-1].send_str(json.dumps(envelope))
        return envelope_id

    async def send_disconnect(self, reason: str = "warning") -> None:
        """Send Slack's ``disconnect`` message (the client should reconnect)."""
        for ws in self._open_sockets():
            await ws.send_str(
                json.dumps(
                    {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
                )
            )

    async def drop_sockets(self, *, refuse_reconnects: bool = False) -> None:
        """Close every Socket Mode connection (a network drop); with `refuse_reconnects`, new
        connections fail until `accept_sockets()`."""
        self.refuse_sockets = refuse_reconnects
        for ws in self._open_sockets():
            await ws.close()

    def accept_sockets(self) -> None:
        self.refuse_sockets = False

    def _open_sockets(self) -> list[web.WebSocketResponse]:
        return [ws for ws in self._sockets if not ws.closed]

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        if self.refuse_sockets:
            raise web.HTTPServiceUnavailable()
        # autoping answers the SDK's "sdk-ping-pong:<time>" pings with matching pongs.
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.socket_connections += 1
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._open_sockets()),
                    "debug_info": {
                        "host": "fake-slack",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        await self._notify()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    message = json.loads(msg.data)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                self.socket_messages.append(message)
                if "envelope_id" in message:
                    self.acks[str(message["envelope_id"])] = message
                await self._notify()
        finally:
            self._sockets.remove(ws)
            await self._notify()
        return ws

    # -- response_url ---------------------------------------------------------------------

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        raw = await request.text()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"raw": raw}
        self.responses.append(
            ResponseUrlPost(request.match_info["name"], body, dict(request.headers))
        )
        await self._notify()
        return web.json_response({"ok": True})

    # -- file uploads (the upload URL files.getUploadURLExternal hands out) ----------------

    async def _handle_upload(self, request: web.Request) -> web.Response:
        # Slack takes the bytes raw or multipart form encoded, answers 200 "OK - <length>".
        file_id = self._upload_keys.get(request.match_info["key"])
        if file_id is None:
            return web.Response(status=404, text="Not Found")
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            data = b""
            while (part := await reader.next()) is not None:
                if getattr(part, "filename", None) is not None or part.name == "filename":
                    data = await part.read()  # type: ignore[union-attr]
        else:
            data = await request.read()
        upload = self.uploads[file_id]
        upload.data = data
        await self._notify()
        return web.Response(status=200, text=f"OK - {len(data)}")

    # -- Web API --------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: JsonDict = dict(request.query)
        content_type = request.content_type
        if request.method == "POST" and request.can_read_body:
            if content_type == "application/json":
                raw = await request.text()
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    return await self._answer(request, method, params, None, _error("invalid_json"))
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        token = _bearer_token(request.headers.get("Authorization"))
        if token is None and isinstance(params.get("token"), str):
            token = params["token"]
        received_at = asyncio.get_running_loop().time()
        self._in_flight[method] = in_flight = self._in_flight.get(method, 0) + 1
        self.max_in_flight[method] = max(self.max_in_flight.get(method, 0), in_flight)
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            self._arrived_at = received_at
            return await self._answer(
                request,
                method,
                params,
                token,
                self._dispatch(method, params, token),
                received_at=received_at,
            )
        finally:
            self._in_flight[method] -= 1

    async def _answer(
        self,
        request: web.Request,
        method: str,
        params: JsonDict,
        token: str | None,
        reply: _Reply,
        *,
        received_at: float | None = None,
    ) -> web.Response:
        headers = dict(reply.headers)
        if reply.status == 200 and token and token.startswith("xoxb-"):
            headers.setdefault("X-OAuth-Scopes", ",".join(self.scopes))
        response = web.json_response(reply.body, status=reply.status, headers=headers)
        now = asyncio.get_running_loop().time()
        self.calls.append(
            Call(
                method=method,
                params=params,
                token=token,
                headers=dict(request.headers),
                content_type=request.content_type,
                status=reply.status,
                response=reply.body,
                received_at=now if received_at is None else received_at,
                answered_at=now,
            )
        )
        await self._notify()
        return response

    def _dispatch(self, method: str, params: JsonDict, token: str | None) -> _Reply:
        reply = self._dispatch_unpaced(method, params, token)
        if reply.status == 429:
            wait = float(reply.headers.get("Retry-After", "0") or 0)
            self._retry_after_until[method] = time.monotonic() + wait
        return reply

    def _over_limit(self, method: str) -> _Reply | None:
        """A 429 when the method's window (or an earlier Retry-After) says so; counts calls
        made inside a Retry-After window."""
        now = time.monotonic()
        # 50 ms of slack: the client's timer and ours start a request's travel apart.
        if now < self._retry_after_until.get(method, 0.0) - 0.05:
            self.unhonoured_429s[method] = self.unhonoured_429s.get(method, 0) + 1
        limit = self.per_minute_limits.get(method)
        if limit is None:
            return None
        recent = [at for at in self._recent_calls.get(method, []) if now - at < 60.0]
        if len(recent) >= limit:
            self._recent_calls[method] = recent
            wait = max(1, math.ceil(60.0 - (now - recent[0])))
            return _Reply(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        recent.append(now)
        self._recent_calls[method] = recent
        return None

    def _dispatch_unpaced(self, method: str, params: JsonDict, token: str | None) -> _Reply:
        limited = self._over_limit(method)
        if limited is not None:
            return limited
        fault = self._take_fault(method)
        if fault is not None:
            return fault
        handler = self._handlers.get(method)
        if handler is None:
            return _error("unknown_method")
        if method not in _TOKENLESS_METHODS:
            auth_error = self._check_token(method, token)
            if auth_error is not None:
                return auth_error
        return handler(params, token)

    def _check_token(self, method: str, token: str | None) -> _Reply | None:
        if not token:
            return _error("not_authed")
        if token in self.revoked_tokens:
            return _error("token_revoked")
        if token in self.invalid_tokens or not token.startswith(("xoxb-", "xoxp-", "xapp-")):
            return _error("invalid_auth")
        if (method == "apps.connections.open") != token.startswith("xapp-"):
            return _error("not_allowed_token_type")
        return None

    def _next_ts(self) -> str:
        micros = self._next_ts_micros
        self._next_ts_micros += 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _postable_channel(self, channel_id: Any) -> tuple[FakeChannel | None, _Reply | None]:
        if isinstance(channel_id, str) and channel_id[:1] in ("U", "W") and channel_id[1:]:
            channel_id = self.surfaces.open_im(channel_id).id  # a user id: the app's DM
        channel = self.channels.get(channel_id) if isinstance(channel_id, str) else None
        if channel is None:
            return None, _error("channel_not_found")
        if channel.is_private and not channel.is_member and self.hide_private_channels:
            return None, _error("channel_not_found")
        if channel.is_archived:
            return None, _error("is_archived")
        if not channel.is_member:
            return None, _error("not_in_channel")
        return channel, None

    # Method implementations. Each gets the merged params and the (already checked) token.

    def _api_test(self, params: JsonDict, token: str | None) -> _Reply:
        args = {k: v for k, v in params.items() if k != "token"}
        if "error" in args:
            return _error(str(args["error"]), args=args)
        return _ok(args=args)

    def _auth_test(self, params: JsonDict, token: str | None) -> _Reply:
        fields: JsonDict = {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "is_enterprise_install": False,
        }
        if token and token.startswith("xoxb-"):
            fields["bot_id"] = self.bot_id
        else:
            fields.update(user="alice", user_id="U0001")
        return _ok(**fields)

    def _apps_connections_open(self, params: JsonDict, token: str | None) -> _Reply:
        ticket = secrets.token_hex(16)
        return _ok(url=f"{self.socket_url}?ticket={ticket}&app_id={self.app_id}")

    def _message_content(self, params: JsonDict) -> tuple[str, list[Any] | None]:
        blocks = params.get("blocks")
        if isinstance(blocks, str):  # form-encoded clients send blocks as a JSON string
            blocks = json.loads(blocks)
        text = params.get("text")
        return (str(text) if text is not None else ""), blocks

    def _workspace_limited(self, params: JsonDict, token: str | None) -> _Reply | None:
        """The per-workspace limit (`workspace_limit`): None when this post may land."""
        if not self.workspace_limit:
            return None
        team = self.token_teams.get(token or "") or str(params.get("team_id") or self.team_id)
        now = asyncio.get_running_loop().time()
        window_end = self.retry_windows.get(team, 0.0)
        if now < window_end:
            # Sent after the 429 was answered: the client knew. One on its way when the 429
            # went out (arrived up to `in_flight_allowance` after it) could not have known,
            # and is refused without being counted.
            known_at = self._window_started.get(team, 0.0) + self.in_flight_allowance
            if self._arrived_at >= known_at:
                self.posts_in_retry_window.append((team, str(params.get("channel")), now))
            return _Reply(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(window_end - now)))},
            )
        landed = self._workspace_posts.setdefault(team, collections.deque())
        while landed and landed[0] <= now - 1.0:
            landed.popleft()
        if len(landed) >= self.workspace_limit:
            wait = max(1, math.ceil(landed[0] + 1.0 - now))
            self.retry_windows[team] = now + wait
            self._window_started[team] = now
            return _Reply(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        landed.append(now)
        return None

    def _chat_post_message(self, params: JsonDict, token: str | None) -> _Reply:
        channel, problem = self._postable_channel(params.get("channel"))
        if problem is not None:
            return problem
        limited = self._workspace_limited(params, token)
        if limited is not None:
            return limited
        assert channel is not None
        text, blocks = self._message_content(params)
        if not text and not blocks and not params.get("attachments"):
            return _error("no_text")
        if self.per_channel_limit:
            now = time.monotonic()
            last = self._last_post_at.get(channel.id)
            min_gap = 1.0 / self.per_channel_limit
            if last is not None and now - last < min_gap:
                wait = max(1, math.ceil(min_gap - (now - last)))
                return _Reply(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
            self._last_post_at[channel.id] = now
        ts = self._next_ts()
        message: JsonDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": text,
            "ts": ts,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_name,
                "team_id": self.team_id,
                "deleted": False,
            },
        }
        if blocks is not None:
            message["blocks"] = blocks
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if params.get("metadata"):
            metadata = params["metadata"]
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        self.messages.setdefault(channel.id, []).append(message)
        return _ok(channel=channel.id, ts=ts, message=dict(message))

    def _chat_post_ephemeral(self, params: JsonDict, token: str | None) -> _Reply:
        channel, problem = self._postable_channel(params.get("channel"))
        if problem is not None:
            return problem
        assert channel is not None
        if not params.get("user"):
            return _error("user_not_found")
        text, blocks = self._message_content(params)
        if not text and not blocks and not params.get("attachments"):
            return _error("no_text")
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel.id,
                "user": params["user"],
                "ts": ts,
                "text": text,
                "blocks": blocks,
            }
        )
        return _ok(message_ts=ts)

    def _chat_update(self, params: JsonDict, token: str | None) -> _Reply:
        channel_id = params.get("channel")
        if not isinstance(channel_id, str) or channel_id not in self.channels:
            return _error("channel_not_found")
        if self.channels[channel_id].is_archived:
            return _error("is_archived")
        message = self.find_message(channel_id, str(params.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        if message.get("user") != self.bot_user_id:
            return _error("cant_update_message")
        text, blocks = self._message_content(params)
        if not text and not blocks:
            return _error("no_text")
        if len(text) > 40_000:
            return _error("msg_too_long")
        problems = message_problems({"blocks": blocks})
        if problems:
            return _error("invalid_blocks", response_metadata={"messages": problems})
        self.updates.append({"channel": channel_id, "ts": message["ts"], "text": text})
        if "text" in params:
            message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return _ok(
            channel=channel_id, ts=message["ts"], text=message["text"], message=dict(message)
        )

    def _conversations_join(self, params: JsonDict, token: str | None) -> _Reply:
        channel = self.channels.get(str(params.get("channel", "")))
        if channel is None:
            return _error("channel_not_found")
        if channel.is_private:
            return _error("method_not_supported_for_channel_type")
        if channel.is_archived:
            return _error("is_archived")
        if channel.is_member:
            return _ok(
                channel=channel.to_dict(),
                warning="already_in_channel",
                response_metadata={"warnings": ["already_in_channel"]},
            )
        channel.is_member = True
        return _ok(channel=channel.to_dict())

    def _conversations_info(self, params: JsonDict, token: str | None) -> _Reply:
        channel = self.channels.get(str(params.get("channel", "")))
        if channel is None or (
            channel.is_private and not channel.is_member and self.hide_private_channels
        ):
            return _error("channel_not_found")
        return _ok(channel=channel.to_dict())

    def _users_info(self, params: JsonDict, token: str | None) -> _Reply:
        user_id = str(params.get("user", ""))
        if not user_id or user_id in self.missing_users:
            return _error("user_not_found")
        user = self.users.get(user_id) or FakeUser(user_id, user_id.lower(), tz=self.default_tz)
        include_locale = str(params.get("include_locale", "")).lower() in ("true", "1")
        return _ok(user=user.to_dict(self.team_id, include_locale=include_locale))

    def _reaction_target(
        self, params: JsonDict
    ) -> tuple[tuple[str, str, str] | None, _Reply | None]:
        channel = self.channels.get(str(params.get("channel", "")))
        if channel is None:
            return None, _error("channel_not_found")
        if channel.is_archived:
            return None, _error("is_archived")
        name = str(params.get("name", "")).strip(":")
        if not name:
            return None, _error("invalid_name")
        ts = str(params.get("timestamp", ""))
        if not ts:
            return None, _error("no_item_specified")
        return (channel.id, ts, name), None

    def _reactions_add(self, params: JsonDict, token: str | None) -> _Reply:
        target, problem = self._reaction_target(params)
        if problem is not None:
            return problem
        assert target is not None
        channel_id, ts, name = target
        users = self.reactions.setdefault((channel_id, ts), {}).setdefault(name, [])
        if self.bot_user_id in users:
            return _error("already_reacted")
        users.append(self.bot_user_id)
        return _ok()

    def _reactions_remove(self, params: JsonDict, token: str | None) -> _Reply:
        target, problem = self._reaction_target(params)
        if problem is not None:
            return problem
        assert target is not None
        channel_id, ts, name = target
        users = self.reactions.get((channel_id, ts), {}).get(name, [])
        if self.bot_user_id not in users:
            return _error("no_reaction")
        users.remove(self.bot_user_id)
        return _ok()

    def _files_get_upload_url_external(self, params: JsonDict, token: str | None) -> _Reply:
        filename = params.get("filename")
        if not isinstance(filename, str) or not filename:
            return _error("invalid_arguments")
        try:
            length = int(params.get("length") or 0)
        except (TypeError, ValueError):
            return _error("invalid_arguments")
        if length <= 0:
            return _error("missing_argument")
        alt_txt = params.get("alt_txt")
        if isinstance(alt_txt, str) and len(alt_txt) > 1000:
            return _error("alt_txt_too_large")
        file_id = "F" + secrets.token_hex(5).upper()
        key = secrets.token_hex(8)
        self._upload_keys[key] = file_id
        self.uploads[file_id] = FakeUpload(
            file_id, filename, length, alt_txt if isinstance(alt_txt, str) else None
        )
        return _ok(upload_url=f"{self.base_url}/upload/v1/{key}", file_id=file_id)

    def _files_complete_upload_external(self, params: JsonDict, token: str | None) -> _Reply:
        files = params.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                return _error("invalid_arguments")
        if (
            not isinstance(files, list)
            or not files
            or not all(isinstance(f, dict) and isinstance(f.get("id"), str) for f in files)
        ):
            return _error("invalid_arguments")
        channel_id = params.get("channel_id")
        if channel_id:
            _channel, problem = self._postable_channel(channel_id)
            if problem is not None:
                return problem
        shared = []
        for item in files:
            upload = self.uploads.get(item["id"])
            if upload is None or upload.data is None:
                return _error("file_not_found")
        for item in files:
            upload = self.uploads[item["id"]]
            upload.title = str(item.get("title") or upload.filename)
            upload.channel_id = str(channel_id) if channel_id else None
            upload.initial_comment = params.get("initial_comment")
            upload.completed = True
            shared.append(
                {
                    "id": upload.id,
                    "title": upload.title,
                    "name": upload.filename,
                    "mimetype": "image/png" if upload.filename.endswith(".png") else "",
                    "alt_txt": upload.alt_txt,
                    "size": len(upload.data or b""),
                }
            )
        return _ok(files=shared)

    def _oauth_v2_access(self, params: JsonDict, token: str | None) -> _Reply:
        if not params.get("code") and not params.get("refresh_token"):
            return _error("invalid_code")
        return _Reply(json.loads(json.dumps(self.oauth_v2_access_response)))


def _bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ").strip() or None
    return None
