"""Install from a link (OAuth mode): `GET /slack/install` and `GET /slack/oauth_redirect`.

Bolt's AsyncOAuthFlow does the protocol: a one-time `state` in our database and in a cookie
(checked together on the way back), `oauth.v2.access` against SLACK_API_URL, the installation
saved through our encrypting installation store. This module adds what a person sees (pages
that say what to do next), what the bot does when a workspace arrives, and the limits that keep
an anonymous install link cheap: a per-address rate limit on `/slack/install`, fixed texts
(never the query's words) on failure pages, and a cleared state cookie after any failure.
"""

from __future__ import annotations

import html
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_utils import OAuthStateUtils
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import loggable, redact_slack_tokens
from bot.ports import InstallationSaveError
from handlers.slack.chat import make_client

logger = logging.getLogger("stretchbot.slack")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600  # an install link is good for 10 minutes
# Each GET of the install link writes a state row: a person needs a few, a script thousands.
INSTALLS_PER_MINUTE = 10  # per client address (request.remote: the proxy's, behind one)
MAX_TRACKED_ADDRESSES = 10_000  # bounds the limiter's memory; the oldest windows go first
# What the bot asks for at install; manifest.yml must list exactly these (tests/oauth checks).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "channels:join",
    "channels:read",
    "groups:read",
    "reactions:read",
    "users:read",
    "files:write",  # the weekly chart (files.getUploadURLExternal / completeUploadExternal)
    "im:history",  # message.im: the Messages tab
    "app_mentions:read",  # app_mention: @stretchbot words in a channel
    "dnd:read",  # dnd.info: personal reminders wait out Do Not Disturb
    "im:write",  # conversations.open: reminders and the shortcut's "just me" break go to the DM
    "users.profile:read",  # users.profile.get: a huddle or meeting status delays a reminder
)
_TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,20}")
SLACK_SDK_CLIENT_LOGGER = "slack_sdk.web.async_base_client"  # every AsyncWebClient's default

OnInstalled = Callable[[Installation], Awaitable[None]]

FAILURES = {
    "access_denied": (
        "You cancelled the installation",
        "Nothing was installed. When you're ready, start again below.",
    ),
    "invalid_browser": (
        "This install link has expired",
        "Install links work for 10 minutes, in the browser that opened them. Start again below "
        "and finish in the same browser window.",
    ),
    "invalid_state": (
        "This install link has expired",
        "Install links work for 10 minutes and only once. Start again below.",
    ),
    "missing_code": (
        "Slack didn't confirm the installation",
        "The page was opened without Slack's confirmation. Start again below.",
    ),
    "invalid_code": (
        "Slack didn't confirm the installation",
        "The confirmation from Slack was refused (it may have been used already). Start again "
        "below.",
    ),
    "storage_error": (
        "The installation couldn't be saved",
        "Slack approved it, but stretchbot couldn't store it. Try again in a minute; if it keeps "
        "failing, tell whoever runs this stretchbot.",
    ),
    "slack_unreachable": (
        "Slack couldn't be reached",
        "stretchbot couldn't talk to Slack to finish the installation. Try again in a minute.",
    ),
}
# Any other `error` Slack (or whoever crafted the link) put in the redirect: its words are
# never shown, only this.
UNKNOWN_FAILURE = (
    "The installation didn't complete",
    "Slack didn't finish the installation. Start again below; if it keeps happening, tell "
    "whoever runs this stretchbot.",
)
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the redirect URL carries the one-time code
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


def page(title: str, body_html: str) -> str:
    """A small self-contained HTML page; `title` is escaped, `body_html` must already be."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>stretchbot: {html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;"
        "padding:0 1em;line-height:1.5;color:#1d1c1d}code{background:#f4f4f4;padding:0 .2em}"
        "a.button{display:inline-block;background:#2e7d32;color:#fff;padding:.5em 1em;"
        "border-radius:4px;text-decoration:none}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body_html}</body></html>"
    )


def success_page(installation: Installation) -> str:
    """What to do after installing: where to go, the first command, how breaks count."""
    app_id = installation.app_id or ""
    if installation.is_enterprise_install:
        org = installation.enterprise_name or "your organization"
        enterprise_id = installation.enterprise_id or ""
        add_url = (
            f"https://app.slack.com/manage/{quote(enterprise_id)}/integrations/profile/"
            f"{quote(app_id)}/workspaces/add"
        )
        where = (
            f"<p>stretchbot is installed for <strong>{html.escape(org)}</strong>. It isn't in "
            "any workspace yet: <a class='button' href='"
            f"{html.escape(add_url)}'>Add it to workspaces</a></p>"
        )
    else:
        team = installation.team_name or "your workspace"
        open_url = (
            f"https://slack.com/app_redirect?app={quote(app_id)}"
            f"&team={quote(installation.team_id or '')}"
        )
        where = (
            f"<p>stretchbot is installed in <strong>{html.escape(team)}</strong>. "
            f"<a class='button' href='{html.escape(open_url)}'>Open Slack</a></p>"
        )
    steps = (
        "<h2>Next</h2><ol>"
        "<li>Go to the channel your team sits in and type <code>/stretch now</code> for a first "
        "break.</li>"
        "<li>Schedule it: <code>/stretch every 45m 09:00-17:00 weekdays</code>. I join public "
        "channels by myself; in a private channel, first <code>/invite @stretchbot</code>.</li>"
        "<li>React ✅ to a nudge (or press <em>Done</em>) to log your break; "
        "<code>/stretch leaderboard</code> shows who moved.</li></ol>"
        "<p><code>/stretch help</code> lists everything, including <code>/stretch optout</code> "
        "and <code>/stretch admins-only on</code>. Uninstalling stops all nudges at once.</p>"
    )
    return page("Installed. Time to move!", where + steps)


def too_many_installs_page(retry_after: int) -> str:
    """The answer to an address that opened the install link too often."""
    return page(
        "Too many install attempts",
        f"<p>This address started {INSTALLS_PER_MINUTE} installations in the last minute. Wait "
        f"{retry_after} seconds, then try again.</p>"
        f"<p><a class='button' href='{INSTALL_PATH}'>Add stretchbot to Slack</a></p>",
    )


def failure_page(reason: str) -> str:
    """Why the installation did not complete, and a link to start again."""
    title, advice = FAILURES.get(reason, UNKNOWN_FAILURE)
    body = (
        f"<p>{html.escape(advice)}</p>"
        f"<p><a class='button' href='{INSTALL_PATH}'>Add stretchbot to Slack</a></p>"
    )
    return page(title, body)


class StretchOAuthFlow(AsyncOAuthFlow):
    """Bolt's OAuth flow with our pages, a strict `team` hint and an install hook."""

    def __init__(
        self,
        *,
        settings: AsyncOAuthSettings,
        on_installed: OnInstalled,
        client: AsyncWebClient,
        logger: logging.Logger = logger,
    ) -> None:
        super().__init__(client=client, logger=logger, settings=settings)
        self._on_installed = on_installed

    async def build_authorize_url(self, state: str, request: AsyncBoltRequest) -> str:
        # Bolt pastes `?team=` into the URL as given: only a real team id may pass.
        team = (request.query.get("team") or [""])[0]
        return self.settings.authorize_url_generator.generate(
            state=state, team=team if _TEAM_ID.fullmatch(team) else None
        )

    async def store_installation(
        self, request: AsyncBoltRequest, installation: Installation
    ) -> None:
        try:
            await super().store_installation(request, installation)
            await self._on_installed(installation)
        except BoltError:
            raise
        except InstallationSaveError:
            # Already logged by the store, without the statement's parameters (the tokens).
            raise BoltError("storage failed") from None
        except Exception as exc:  # a database problem: show the failure page, not a 500 trace
            logger.exception("saving an installation failed")
            raise BoltError(f"storage failed: {type(exc).__name__}") from exc


async def _success(args: AsyncSuccessArgs) -> BoltResponse:
    installation = args.installation
    logger.info(
        "installed team=%s enterprise=%s org_wide=%s",
        installation.team_id,
        installation.enterprise_id,
        installation.is_enterprise_install,
    )
    return BoltResponse(
        status=200,
        body=success_page(installation),
        headers={
            **PAGE_HEADERS,
            "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion(),
        },
    )


async def _failure(args: AsyncFailureArgs) -> BoltResponse:
    # `reason` is ours or the redirect's `error` parameter, which anyone can set: quoted and
    # cut, so it cannot forge log lines.
    reason = args.reason if args.reason in FAILURES else f"slack error {loggable(args.reason)}"
    logger.info("installation failed: %s", reason)
    status = args.suggested_status_code
    return BoltResponse(
        status=status if 200 <= status < 500 else 503 if status >= 500 else 400,
        body=failure_page(args.reason),
        # Whatever went wrong, this state is spent for this browser: starting again sets a new
        # one (Bolt's own deletion cookie: same name, path and flags as the one it set).
        headers={
            **PAGE_HEADERS,
            "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion(),
        },
    )


def build_oauth_flow(
    *,
    client_id: str,
    client_secret: str,
    api_url: str,
    authorize_url: str,
    redirect_uri: str | None,
    installation_store: AsyncInstallationStore,
    state_store: AsyncOAuthStateStore,
    on_installed: OnInstalled,
) -> StretchOAuthFlow:
    """The OAuth flow: every value explicit, so Bolt reads nothing from the environment."""
    # slack_sdk logs response bodies at DEBUG, oauth.v2.access's (the new token) among them.
    logging.getLogger(SLACK_SDK_CLIENT_LOGGER).addFilter(redact_slack_tokens)
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,  # straight to Slack's consent screen
        authorization_url=authorize_url,
        callback_options=AsyncCallbackOptions(success=_success, failure=_failure),
        installation_store=installation_store,
        installation_store_bot_only=True,
        state_store=state_store,
        state_cookie_name=OAuthStateUtils.default_cookie_name,
        state_expiration_seconds=STATE_SECONDS,
        logger=logger,
    )
    return StretchOAuthFlow(
        settings=settings,
        on_installed=on_installed,
        client=make_client(None, base_url=api_url),  # oauth.v2.access goes to SLACK_API_URL
        logger=logger,
    )


class InstallRateLimiter:
    """At most `limit` install starts per client address per minute, in memory.

    A fixed one-minute window per address, opened by its first request. The map is bounded:
    addresses are kept in the order their windows opened, so expired ones are dropped from the
    front, and past `max_addresses` the oldest window is forgotten (that address starts fresh,
    which only ever errs towards letting a person in).
    """

    def __init__(
        self,
        *,
        limit: int = INSTALLS_PER_MINUTE,
        window: float = 60.0,
        max_addresses: int = MAX_TRACKED_ADDRESSES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_addresses = max_addresses
        self.monotonic = monotonic
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def retry_after(self, address: str) -> int:
        """0 and counts the request if `address` may start an install now; else the seconds
        until it may."""
        now = self.monotonic()
        self._forget_expired(now)
        ends, used = self._windows.get(address, (0.0, 0))
        if now >= ends:
            self._windows.pop(address, None)
            self._windows[address] = (now + self.window, 1)
            while len(self._windows) > self.max_addresses:
                self._windows.popitem(last=False)
            return 0
        if used < self.limit:
            self._windows[address] = (ends, used + 1)
            return 0
        return max(1, math.ceil(ends - now))

    def __len__(self) -> int:
        return len(self._windows)

    def _forget_expired(self, now: float) -> None:
        while self._windows:
            address, (ends, _) = next(iter(self._windows.items()))
            if ends > now:
                return
            del self._windows[address]


INSTALL_LIMITER = web.AppKey("stretchbot_install_limiter", InstallRateLimiter)
OAUTH_FLOW = web.AppKey("stretchbot_oauth_flow", StretchOAuthFlow)


def add_oauth_routes(
    app: web.Application, flow: StretchOAuthFlow, limiter: InstallRateLimiter | None = None
) -> None:
    """`GET /slack/install` (sets the state cookie, redirects to Slack) and the redirect URL."""
    limiter = limiter or InstallRateLimiter()
    app[INSTALL_LIMITER] = limiter
    app[OAUTH_FLOW] = flow

    async def bolt_request(request: web.Request) -> AsyncBoltRequest:
        return AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))

    async def answer(
        step: Callable[[AsyncBoltRequest], Awaitable[BoltResponse]], request: web.Request
    ) -> web.StreamResponse:
        try:
            response = await step(await bolt_request(request))
        except (aiohttp.ClientError, TimeoutError):
            logger.warning("Slack unreachable during an installation", exc_info=True)
            headers = _page_headers()
            if request.path == REDIRECT_PATH:
                headers["Set-Cookie"] = flow.settings.state_utils.build_set_cookie_for_deletion()
            return web.Response(
                status=503,
                text=failure_page("slack_unreachable"),
                content_type="text/html",
                headers=headers,
            )
        return await to_aiohttp_response(response)

    async def slack_install(request: web.Request) -> web.StreamResponse:
        wait = limiter.retry_after(request.remote or "unknown")
        if wait:
            return web.Response(
                status=429,
                text=too_many_installs_page(wait),
                content_type="text/html",
                headers={**_page_headers(), "Retry-After": str(wait)},
            )
        return await answer(flow.handle_installation, request)

    async def slack_oauth_redirect(request: web.Request) -> web.StreamResponse:
        return await answer(flow.handle_callback, request)

    app.router.add_get(INSTALL_PATH, slack_install)
    app.router.add_get(REDIRECT_PATH, slack_oauth_redirect)


def _page_headers() -> dict[str, str]:
    return {k: v for k, v in PAGE_HEADERS.items() if k != "Content-Type"}
