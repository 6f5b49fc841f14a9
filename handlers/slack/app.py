"""Builds the Bolt app and registers every Slack listener in one place."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.services import StretchService
from handlers.slack import actions, commands, events
from handlers.slack.chat import make_client
from handlers.slack.oauth import StretchOAuthFlow
from handlers.slack.tokens import BotTokens

logger = logging.getLogger("stretchbot.slack")


def _drop_token_unused_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself and warns that it is unused
    # when a client is given; our client carries the token from bot/config.py on purpose.
    return "`token` will be unused" not in record.getMessage()


def build_bolt_app(
    *,
    client: AsyncWebClient,
    auth: AsyncSlackResponse | None,
    signing_secret: str,
    services: StretchService,
    socket_mode: bool,
    oauth_flow: StretchOAuthFlow | None = None,
    tokens: BotTokens | None = None,
    session: aiohttp.ClientSession | None = None,
) -> AsyncApp:
    """The Bolt AsyncApp with /stretch, reactions, channel lifecycle events and the Done button.

    Token mode: `auth` is the bot token's `auth.test` answer, fetched once at start. Bolt's
    single-team mode would call auth.test lazily inside the first request, before its ack;
    answering authorization from the start-up result keeps every ack fast.

    OAuth mode (`oauth_flow`): each request is authorized from the installation store (the
    bot token of its workspace or organization); Bolt caches each token's auth.test answer,
    so a workspace costs one auth.test per process, not one per request.

    `session`: the bot's shared HTTP session, for the answers /stretch posts to response_urls.
    """
    bolt_logger = logging.getLogger("stretchbot.bolt")
    bolt_logger.addFilter(_drop_token_unused_warning)
    common: dict[str, Any] = {
        "client": make_client(None, base_url=client.base_url),
        "signing_secret": signing_secret or "unused-in-socket-mode",
        "request_verification_enabled": not socket_mode,
        "process_before_response": False,
        "logger": bolt_logger,
    }
    if oauth_flow is not None:
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
        authorized = AuthorizeResult.from_auth_test_response(
            auth_test_response=auth, bot_token=client.token
        )

        async def authorize() -> AuthorizeResult:
            return authorized

        app = AsyncApp(authorize=authorize, **common)

    @app.error
    async def log_errors(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        # Bolt answers 500 after this, so Slack retries: listeners are idempotent, and a
        # database hiccup must not lose a break. A payload of the wrong shape that got past
        # edge.py (Bolt's own matchers index into it) is the sender's mistake: 400, no retry,
        # and one rate-limited line (whoever holds the secret could repeat it at will).
        from bot.logs import loggable, raised_at, warn_limited

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

    commands.register(app, services, session=session)
    events.register(app, services, tokens=tokens)
    actions.register(app, services)

    return app
