"""Builds the Microsoft 365 Agents SDK application and mounts `POST /api/messages`.

Configuration comes in the SDK's own keys (`CONNECTIONS__SERVICE_CONNECTION__SETTINGS__...`),
read by `bot.config` and handed to the SDK's loader as a dict. The route is JWT-checked on its
own: a global middleware would also guard `/slack/events`, `/healthz` and `/metrics`. Tokens
the SDK's check would crash on are refused before it (401), and its one-line-per-request
warnings about refused tokens go through the process's log limiter.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import jwt
from aiohttp import web
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_decorator,
    start_agent_process,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    AgentAuthConfiguration,
    ApplicationOptions,
    MemoryStorage,
    OutboundHostValidator,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.msteams import TeamsAgentExtension
from pydantic import ValidationError

from bot.i18n import set_locale
from bot.logs import limited_filter, warn_limited
from bot.metrics import Metrics
from bot.ports import ConversationStore
from bot.services import Services
from handlers.teams import actions, events, messages, settings, together
from handlers.teams.chat import TeamsChat
from handlers.teams.directory import TeamsDirectory

logger = logging.getLogger("stretchbot.teams")

MESSAGES_PATH = "/api/messages"
# The key the SDK's JWT check reads its configuration from (`request.app[...]`).
AGENT_CONFIGURATION = "agent_configuration"
REFUSED_TOKEN = {"error": "Invalid token or authentication failed."}  # the SDK's own 401 body
# The SDK warns once per refused token; anyone can send those, so they are rate-limited.
SDK_TOKEN_LOGGERS = (
    "microsoft_agents.hosting.core.authorization.jwt._authorize_request",
    "microsoft_agents.hosting.aiohttp.jwt_authorization_middleware",
)
_SDK_TOKEN_WARNINGS = limited_filter("refused Teams tokens (Agents SDK warnings)")


@dataclass
class TeamsBot:
    """The Teams side of the process: the SDK application and adapter, and the Chat port."""

    agent: AgentApplication[TurnState]
    teams: TeamsAgentExtension[TurnState]
    adapter: CloudAdapter
    auth_config: AgentAuthConfiguration
    chat: TeamsChat

    def mount(self, web_app: web.Application, services: Services) -> None:
        """Register the listeners and add the JWT-checked `POST /api/messages` route."""
        register_listeners(self.agent, self.teams, services, self.chat)

        with warnings.catch_warnings():
            # The SDK looks the configuration up by this plain string key.
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            web_app[AGENT_CONFIGURATION] = self.auth_config

        agent, adapter = self.agent, self.adapter

        async def api_messages(request: web.Request) -> web.StreamResponse:
            try:
                response = await start_agent_process(request, agent, adapter)
            except ValidationError:
                return web.json_response({"error": "not a valid activity"}, status=400)
            return response if response is not None else web.Response(status=202)

        checked = jwt_authorization_decorator(api_messages)  # type: ignore[no-untyped-call]

        async def api_messages_checked(request: web.Request) -> web.StreamResponse:
            if not names_a_signing_key(request.headers.get("Authorization")):
                warn_limited(
                    logger,
                    "Teams tokens without a key id",
                    "refused a request to %s: its token names no signing key (kid)",
                    MESSAGES_PATH,
                )
                return web.json_response(REFUSED_TOKEN, status=401)
            response: web.StreamResponse = await checked(request)
            return response

        web_app.router.add_post(MESSAGES_PATH, api_messages_checked)


def names_a_signing_key(authorization: str | None) -> bool:
    """False for a bearer token whose header has no usable `kid`.

    The SDK looks the signing key up with `header["kid"]` unguarded: without one it raises
    KeyError (a 500 and a traceback). A token without a key id cannot be verified, so it is
    refused here; anything else (no header, another scheme, an unreadable token) is the SDK's
    to judge, and it answers those itself.
    """
    if authorization is None:
        return True
    parts = authorization.split(maxsplit=1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return True
    try:
        header = jwt.get_unverified_header(parts[1].strip())
    except (jwt.PyJWTError, ValueError):  # e.g. not UTF-8: the SDK refuses it (401)
        return True
    kid = header.get("kid")
    return isinstance(kid, str) and bool(kid)


def register_listeners(
    agent: AgentApplication[TurnState],
    teams: TeamsAgentExtension[TurnState],
    services: Services,
    chat: TeamsChat,
) -> None:
    """Every Teams listener, registered in one place."""
    messages.register(teams, services, chat)
    events.register(teams, services, chat)
    actions.register(agent, services, chat)
    together.register(agent, services, chat)
    settings.register(agent, services, chat)


def build_teams(
    sdk_settings: Mapping[str, str],
    *,
    conversations: ConversationStore,
    metrics: Metrics,
    anonymous: bool = False,
) -> TeamsBot:
    """The Teams adapter from the SDK's configuration keys.

    Args:
        sdk_settings: `CONNECTIONS__SERVICE_CONNECTION__SETTINGS__*` keys and values.
        conversations: where conversation references and display names are kept.
        metrics: the process's metrics.
        anonymous: accept requests without a token and post without one. Tests only: there are
            no Entra tokens for the fake Bot Connector.
    """
    # The SDK's JWT check stores its result under a plain string key: aiohttp's advice, not ours.
    warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=r"microsoft_agents\.")
    for name in SDK_TOKEN_LOGGERS:
        logging.getLogger(name).addFilter(_SDK_TOKEN_WARNINGS)
    config = load_configuration_from_env(sdk_settings)
    connections = MsalConnectionManager(**config)
    auth_config = connections.get_default_connection_configuration()
    auth_config.ANONYMOUS_ALLOWED = anonymous
    # Activities must come from Microsoft's Bot Connector hosts: their serviceUrl is where our
    # token-bearing replies and proactive posts go. (The fake connector in tests is local.)
    adapter = CloudAdapter(
        connection_manager=connections, host_validator=OutboundHostValidator(enabled=not anonymous)
    )
    adapter.on_turn_error = _log_turn_error

    # Our state lives in our database; the SDK insists on a store for its (unused) turn state.
    agent = AgentApplication[TurnState](
        ApplicationOptions(storage=MemoryStorage(), start_typing_timer=False),
        connection_manager=connections,
    )
    teams = TeamsAgentExtension[TurnState](agent)
    directory = TeamsDirectory(conversations)

    async def observe(context: TurnContext, state: TurnState) -> bool:
        # Every answer in this turn is in the sender's locale (the activity says it); the
        # command runner switches to the channel's language for what the channel reads.
        set_locale(context.activity.locale if isinstance(context.activity.locale, str) else None)
        await directory.observe(context)
        return True

    agent.before_turn(observe)
    agent.error(_log_app_error)
    chat = TeamsChat(adapter, directory, metrics=metrics)
    return TeamsBot(agent, teams, adapter, auth_config, chat)


async def _log_app_error(context: TurnContext, error: Exception) -> None:
    activity = context.activity
    logger.error(
        "teams turn failed type=%s conversation=%s",
        activity.type,
        activity.conversation.id if activity.conversation else None,
        exc_info=error,
    )


async def _log_turn_error(context: TurnContext, error: Exception) -> None:
    # Replaces the SDK default, which posts the exception text into the conversation.
    logger.error("teams adapter error: %r", error, exc_info=error)
