"""The Slack side of the process: the `Chat` port, the Bolt app with every listener registered in
one place, the HTTP routes (or the Socket Mode connection) and the OAuth install pages.

`build_slack` checks the credentials and builds the `Chat` port; `SlackBot.mount` registers the
listeners once the services exist; `connect`/`close` run the Socket Mode connection. Modules only
one mode needs (Socket Mode, OAuth) are imported by that mode alone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.commands.base import CommandContext, Reply
from bot.logs import loggable, raised_at, warn_limited
from bot.metrics import Metrics
from bot.reminders import BusyStatus
from bot.services import Services
from bot.startup import StartupError
from handlers.slack import (
    actions,
    commands,
    events,
    exercise_modal,
    home,
    messages,
    nudge_menu,
    onboarding,
    reader,
    settings_modal,
    shortcuts,
    together,
)
from handlers.slack.acked import AckedWork
from handlers.slack.chat import SlackChat, make_client
from handlers.slack.delivery import ReplyPoster
from handlers.slack.edge import events_handler
from handlers.slack.exercise_modal import ExerciseModal
from handlers.slack.home import HomeTab
from handlers.slack.members import ChannelListing
from handlers.slack.onboarding import Greeter
from handlers.slack.settings_modal import SettingsModal
from handlers.slack.shortcuts import ChannelPicker

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
    from slack_sdk.oauth.installation_store.async_installation_store import (
        AsyncInstallationStore,
    )
    from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

    from handlers.slack.tokens import BotTokens

logger = logging.getLogger("stretchbot.slack")

EVENTS_PATH = "/slack/events"
SOCKET_PING_SECONDS = 5.0  # how soon a dropped Socket Mode connection is noticed


@dataclass(frozen=True)
class SlackSettings:
    """What the Slack side needs to know (from bot.config.Settings)."""

    api_url: str
    bot_token: str = ""  # token mode
    signing_secret: str = ""  # HTTP mode
    app_token: str = ""  # Socket Mode
    workspace_concurrency: int = 4
    # OAuth mode: both set
    client_id: str = ""
    client_secret: str = ""
    authorize_url: str = "https://slack.com/oauth/v2/authorize"
    redirect_uri: str = ""
    busy_status: BusyStatus | None = None  # what a meeting status looks like (reminders)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def oauth_mode(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True)
class OAuthStores:
    """OAuth mode: where installations and install states are kept (built by the wiring)."""

    installations: AsyncInstallationStore
    states: AsyncOAuthStateStore


@dataclass
class SlackBot:
    """The Slack adapter of one running bot."""

    settings: SlackSettings
    chat: SlackChat
    client: AsyncWebClient  # the bot token's client (token mode); unauthenticated in OAuth mode
    http: aiohttp.ClientSession
    auth: AsyncSlackResponse | None = None  # token mode: the start-up auth.test answer
    tokens: BotTokens | None = None  # OAuth mode
    oauth: OAuthStores | None = None
    bolt: AsyncApp | None = None
    socket: AsyncSocketModeHandler | None = None
    socket_url: str = ""  # Socket Mode: the connection URL the app-token check got
    respond: commands.Responder = field(init=False)
    work: AckedWork = field(init=False)

    def __post_init__(self) -> None:
        self.respond = commands.Responder(self.http)
        self.work = AckedWork(self.respond)

    def mount(self, web_app: web.Application, services: Services) -> None:
        """Register every listener and add the routes: `POST /slack/events` in HTTP mode, the
        install pages in OAuth mode."""
        oauth_flow = self._oauth_flow(services) if self.oauth is not None else None
        self.bolt = build_bolt_app(
            client=self.client,
            auth=self.auth,
            signing_secret=self.settings.signing_secret,
            services=services,
            socket_mode=self.settings.socket_mode,
            oauth_flow=oauth_flow,
            tokens=self.tokens,
            respond=self.respond,
            work=self.work,
            chat=self.chat,
        )
        if not self.settings.socket_mode:
            web_app.router.add_post(
                EVENTS_PATH, events_handler(self.bolt, self.settings.signing_secret)
            )
        if oauth_flow is not None:
            from handlers.slack.oauth import add_oauth_routes

            add_oauth_routes(web_app, oauth_flow)  # GET /slack/install, GET /slack/oauth_redirect

    def _oauth_flow(self, services: Services) -> Any:
        from slack_sdk.oauth.installation_store import Installation

        from handlers.slack.oauth import build_oauth_flow

        tokens, oauth = self.tokens, self.oauth
        assert tokens is not None and oauth is not None
        greeter = Greeter(services, ReplyPoster(self.chat))

        async def installed(installation: Installation) -> None:
            org_wide = installation.is_enterprise_install and installation.enterprise_id
            tokens.forget(None if org_wide else installation.team_id)
            if org_wide and installation.enterprise_id:
                await services.installs.enterprise_installed(
                    platform="slack", enterprise_id=installation.enterprise_id
                )
            elif installation.team_id:
                await services.installs.workspace_installed(
                    platform="slack",
                    team_id=installation.team_id,
                    enterprise_id=installation.enterprise_id,
                )
                if installation.user_id:
                    await greet_installer(installation.team_id, installation.user_id)

        async def greet_installer(team_id: str, user_id: str) -> None:
            # The install succeeded whatever happens to its hello.
            try:
                await greeter.greet_installer(team_id, user_id)
            except Exception:
                logger.exception("the installer's hello failed team=%s", team_id)

        return build_oauth_flow(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            api_url=self.settings.api_url,
            authorize_url=self.settings.authorize_url,
            redirect_uri=self.settings.redirect_uri or None,
            installation_store=oauth.installations,
            state_store=oauth.states,
            on_installed=installed,
        )

    async def connect(self) -> None:
        """Socket Mode: open the connection (the app token was checked by `build_slack`)."""
        if not self.settings.socket_mode:
            return
        assert self.bolt is not None, "mount() first"
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        self.socket = AsyncSocketModeHandler(
            self.bolt, self.settings.app_token, ping_interval=SOCKET_PING_SECONDS
        )
        if self.socket_url:  # fresh from the check: no second apps.connections.open
            self.socket.client.wss_uri = self.socket_url
        await self.socket.connect_async()  # type: ignore[no-untyped-call]

    async def connected(self) -> bool:
        """False while the Socket Mode connection is down (HTTP mode: always True)."""
        if self.socket is None:
            return not self.settings.socket_mode
        return bool(await self.socket.client.is_connected())

    async def close(self) -> None:
        """Stop taking requests (Socket Mode: close the connection)."""
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]

    async def finish_work(self, budget_seconds: float) -> None:
        """After the last request came in: finish what was acked, or say "try again"."""
        await self.work.finish(budget_seconds)


async def build_slack(
    settings: SlackSettings,
    *,
    http: aiohttp.ClientSession,
    metrics: Metrics,
    tokens: BotTokens | None = None,
    oauth: OAuthStores | None = None,
) -> SlackBot:
    """The Slack adapter, its credentials checked against Slack.

    Token mode asks `auth.test` once (a refused token stops the start with one line); Socket
    Mode asks `apps.connections.open` once for the app token. OAuth mode takes each workspace's
    token from `tokens` (the installation store) and installs through `oauth`.
    """
    on_429: Callable[[str], None] = lambda method: metrics.rate_limited.labels(  # noqa: E731
        "slack", method
    ).inc()
    client = make_client(
        settings.bot_token or None, base_url=settings.api_url, on_429=on_429, session=http
    )
    auth = None
    if tokens is None:
        auth = await _check(
            client.auth_test(),
            "SLACK_BOT_TOKEN",
            "copy the Bot User OAuth Token (xoxb-...) of the installed app again",
            settings.api_url,
        )
        chat = SlackChat.single_workspace(
            client,
            metrics=metrics,
            per_workspace=settings.workspace_concurrency,
            busy_status=settings.busy_status,
        )
    else:
        chat = SlackChat(
            tokens.client_for,
            metrics=metrics,
            per_workspace=settings.workspace_concurrency,
            busy_status=settings.busy_status,
        )
    socket_url = ""
    if settings.socket_mode:
        opened = await _check(
            client.apps_connections_open(app_token=settings.app_token),
            "SLACK_APP_TOKEN",
            "create an App-Level Token with the connections:write scope (Basic Information, "
            "App-Level Tokens) and copy it (xapp-...)",
            settings.api_url,
        )
        socket_url = str(opened.get("url") or "")
    return SlackBot(
        settings, chat, client, http, auth=auth, tokens=tokens, oauth=oauth, socket_url=socket_url
    )


async def _check(call: Any, setting: str, fix: str, api_url: str) -> AsyncSlackResponse:
    """Await a credential check; a refusal or an unreachable Slack is a `StartupError`."""
    try:
        response: AsyncSlackResponse = await call
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown")
        raise StartupError(f"{setting} was refused by Slack ({error}): {fix}") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StartupError(
            f"could not reach Slack at SLACK_API_URL={api_url} ({type(exc).__name__}): "
            "check the network and SLACK_API_URL"
        ) from None
    return response


NOT_OUR_WORKSPACE = (
    "This stretchbot isn't installed in your workspace, so it can't act here. "
    "Ask a workspace admin to install it."
)


def own_workspace_only(
    auth: AsyncSlackResponse, token: str | None
) -> Callable[..., Awaitable[AuthorizeResult | None]]:
    """Token mode: authorization for requests from the token's own workspace (or, for an
    organization-wide token, its organization) from the start-up `auth.test`; None for any
    other, which Bolt answers with `NOT_OUR_WORKSPACE` and ignores. A signed request naming
    another team must not act there with this workspace's token."""
    authorized = AuthorizeResult.from_auth_test_response(auth_test_response=auth, bot_token=token)
    own_team = auth.get("team_id")
    own_enterprise = auth.get("enterprise_id")
    org_wide = bool(auth.get("is_enterprise_install"))

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult | None:
        if team_id and team_id == own_team:
            return authorized
        if org_wide and enterprise_id and enterprise_id == own_enterprise:
            return authorized
        logger.warning(
            "refused a request for team=%r enterprise=%r: this bot serves team %s only",
            str(team_id)[:40],
            str(enterprise_id)[:40],
            own_team,
        )
        return None

    return authorize


def _drop_token_unused_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself and warns that it is unused
    # when a client is given; our client carries the token from bot/config.py on purpose.
    return "`token` will be unused" not in record.getMessage()


def _drop_not_installed_error(record: logging.LogRecord) -> bool:
    # Token mode: a request from a workspace the bot does not serve is no error of ours, and
    # `own_workspace_only` has said so already in a line of its own.
    return "the AuthorizeResult (returned value from authorize)" not in record.getMessage()


def build_bolt_app(
    *,
    client: AsyncWebClient,
    auth: AsyncSlackResponse | None,
    signing_secret: str,
    services: Services,
    socket_mode: bool,
    oauth_flow: Any = None,
    tokens: BotTokens | None = None,
    respond: commands.Responder,
    work: AckedWork,
    chat: SlackChat,
) -> AsyncApp:
    """The Bolt AsyncApp with /stretch, reactions, channel lifecycle events and the Done button.

    Token mode: `auth` is the bot token's `auth.test` answer, fetched once at start. Bolt's
    single-team mode would call auth.test lazily inside the first request, before its ack;
    answering authorization from the start-up result keeps every ack fast.

    OAuth mode (`oauth_flow`): each request is authorized from the installation store (the
    bot token of its workspace or organization); Bolt caches each token's auth.test answer,
    so a workspace costs one auth.test per process, not one per request.

    Bolt does not check request signatures: in HTTP mode `handlers.slack.edge` checks each
    one before Bolt sees the request, and Socket Mode requests come over the authenticated
    connection.

    `respond` posts answers to response_urls (over the bot's shared HTTP session); `work`
    tracks what runs after an ack, so shutdown finishes it; `chat` gives the Home tab, the
    settings modal and the answers to messages their workspace's Web API client.
    """
    bolt_logger = logging.getLogger("stretchbot.bolt")
    bolt_logger.addFilter(_drop_token_unused_warning)
    common: dict[str, Any] = {
        "client": make_client(None, base_url=client.base_url),
        "signing_secret": signing_secret or "unused",
        "request_verification_enabled": False,
        "process_before_response": False,
        "logger": bolt_logger,
    }
    if oauth_flow is not None:
        from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize

        settings = oauth_flow.settings
        app = AsyncApp(
            # Bolt types `authorize` as a function but takes an AsyncAuthorize as it is.
            authorize=AsyncInstallationStoreAuthorize(  # type: ignore[arg-type]
                logger=bolt_logger,
                installation_store=settings.installation_store,
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                bot_only=True,
                cache_enabled=True,
                client=common["client"],
            ),
            oauth_flow=oauth_flow,
            # Given explicitly, so Bolt builds no default OAuth settings from the environment.
            oauth_settings=settings,
            installation_store=settings.installation_store,
            installation_store_bot_only=True,
            **common,
        )
    else:
        assert auth is not None, "token mode needs the start-up auth.test answer"
        bolt_logger.addFilter(_drop_not_installed_error)
        app = AsyncApp(
            # None (not ours) is what Bolt's authorization middleware expects for a refusal.
            authorize=own_workspace_only(auth, client.token),  # type: ignore[arg-type]
            user_facing_authorize_error_message=NOT_OUR_WORKSPACE,
            **common,
        )

    @app.error
    async def log_errors(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        # Bolt answers 500 after this, so Slack retries: listeners are idempotent, and a
        # database hiccup must not lose a break. A payload of the wrong shape that got past
        # edge.py (Bolt's own matchers index into it) is the sender's mistake: 400, no retry,
        # and one rate-limited line (whoever holds the secret could repeat it at will).
        kind = loggable(body.get("type"), 40) if isinstance(body, dict) else None
        if isinstance(error, (TypeError, AttributeError, KeyError, IndexError, ValueError)):
            warn_limited(
                logger,
                "signed payloads of the wrong shape",
                "a signed payload of the wrong shape (type %s) failed a listener: %s at %s",
                kind,
                type(error).__name__,
                raised_at(error),
            )
            return BoltResponse(status=400, body='{"error": "malformed payload"}')
        logger.error("listener failed on a %s request: %r", kind, error, exc_info=error)
        return None

    reader.register(app, chat)
    listing = ChannelListing(chat.client)
    poster = ReplyPoster(chat)
    modal = SettingsModal(services, chat, listing, poster, work)
    adding = ExerciseModal(services, chat, poster)

    async def open_form(ctx: CommandContext, reply: Reply, trigger_id: str) -> bool:
        if reply.exercise_form:
            return await adding.open(ctx, trigger_id)
        return await modal.open(ctx, reply, trigger_id)

    commands.register(app, services, respond=respond, work=work, open_form=open_form)
    exercise_modal.register(app, services, adding)
    events.register(app, services, tokens=tokens)
    actions.register(app, services)
    together.register(app, services)
    nudge_menu.register(app, services, respond=respond, work=work)
    settings_modal.register(app, services, modal)
    home.register(app, services, HomeTab(services, chat, listing, poster), modal, work)
    messages.register(app, services, poster, work)
    onboarding.register(app, Greeter(services, poster), work)
    shortcuts.register(app, ChannelPicker(services, modal))

    return app
