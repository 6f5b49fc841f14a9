"""Builds the Bolt app and registers every Slack listener in one place."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.services import StretchService
from handlers.slack import actions, commands, events
from handlers.slack.chat import make_client

logger = logging.getLogger("stretchbot.slack")


def _drop_token_unused_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself and warns that it is unused
    # when a client is given; our client carries the token from bot/config.py on purpose.
    return "`token` will be unused" not in record.getMessage()


def build_bolt_app(
    *,
    client: AsyncWebClient,
    auth: AsyncSlackResponse,
    signing_secret: str,
    services: StretchService,
    socket_mode: bool,
) -> AsyncApp:
    """The Bolt AsyncApp with /stretch, reactions, channel lifecycle events and the Done button.

    `auth` is the bot token's `auth.test` answer, fetched once at start. Bolt's single-team
    mode would call auth.test lazily inside the first request, before its ack; answering
    authorization from the start-up result keeps every ack fast.
    """
    bot_token = client.token
    authorized = AuthorizeResult.from_auth_test_response(
        auth_test_response=auth, bot_token=bot_token
    )

    async def authorize() -> AuthorizeResult:
        return authorized

    bolt_logger = logging.getLogger("stretchbot.bolt")
    bolt_logger.addFilter(_drop_token_unused_warning)
    app = AsyncApp(
        client=make_client(None, base_url=client.base_url),
        authorize=authorize,
        signing_secret=signing_secret or "unused-in-socket-mode",
        request_verification_enabled=not socket_mode,
        process_before_response=False,
        logger=bolt_logger,
    )

    @app.error
    async def log_errors(error: Exception, body: dict[str, Any]) -> None:
        # Bolt answers 500 after this, so Slack retries: listeners are idempotent, and a
        # database hiccup must not lose a break. Bad input never gets here (see edge.py).
        kind = body.get("type") if isinstance(body, dict) else None
        logger.error("listener failed on a %s request: %r", kind, error, exc_info=error)

    commands.register(app, services)
    events.register(app, services)
    actions.register(app, services)

    return app
