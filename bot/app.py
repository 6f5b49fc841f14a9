"""Wiring: engine, repositories, services, scheduler, platform adapters and the web server.

The only module that knows every layer.
"""

from __future__ import annotations

import asyncio
import fcntl
import gc
import logging
import signal
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.metrics import Metrics
from bot.ports import Chat
from bot.scheduler import NudgeScheduler
from bot.services import Clock, StretchService
from handlers.slack.app import build_bolt_app
from handlers.slack.chat import SlackChat, make_client
from handlers.slack.edge import events_handler
from handlers.slack.oauth import (
    STATE_SECONDS,
    StretchOAuthFlow,
    add_oauth_routes,
    build_oauth_flow,
)
from handlers.slack.tokens import BotTokens
from storage.engine import create_engine, run_migrations
from storage.installations import (
    EncryptedInstallationStore,
    PrunedOAuthStateStore,
    TokenCipher,
    check_tokens,
)
from storage.sql import SqlStorage, SqlTenancy

if TYPE_CHECKING:
    from handlers.teams.app import TeamsBot

logger = logging.getLogger("stretchbot")


class StartupError(Exception):
    """The bot cannot start; the message is one line that says why and what to do."""


@dataclass
class Health:
    """Mutable readiness flag (aiohttp freezes app state once the server runs)."""

    ready: bool = False


HEALTH = web.AppKey("health", Health)
METRICS = web.AppKey("metrics", Metrics)


@dataclass
class Runtime:
    """A started bot; `stop()` undoes `start()` in reverse order."""

    settings: Settings
    engine: AsyncEngine
    services: StretchService
    scheduler: NudgeScheduler
    bolt: AsyncApp
    web_app: web.Application
    runner: web.AppRunner
    socket: AsyncSocketModeHandler | None = None
    lock: IO[bytes] | None = None  # the SQLite single-process lock, held while running
    http: aiohttp.ClientSession | None = None  # the Slack client's connection pool
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def port(self) -> int:
        """The port the web server listens on (useful with PORT=0)."""
        for site in self.runner.sites:
            server = getattr(site, "_server", None)
            if server is not None and server.sockets:
                return int(server.sockets[0].getsockname()[1])
        return self.settings.PORT

    async def stop(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        self.web_app[HEALTH].ready = False
        self.services.stop_claiming()
        await self.scheduler.stop()
        if not await self.services.drain(grace_seconds=5.0):
            logger.warning("posts were still under way after 5s at shutdown")
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        await self.runner.cleanup()
        # No more events come in; write the ✅ marks of the ones already acked.
        if not await self.services.flush_breaks(grace_seconds=5.0):
            logger.warning("breaks were still being written after 5s at shutdown")
        await self.engine.dispose()
        if self.http is not None:
            await self.http.close()
        gc.unfreeze()  # what start-up built may go now (several runtimes in one process: tests)
        _unlock(self.lock)
        logger.info("stretchbot stopped")


def _lock_sqlite(path: Path) -> IO[bytes]:
    """Hold an exclusive lock next to the SQLite file for the life of the process.

    SQLite serves one bot process: two schedulers on one file would race for slots through a
    database that serialises every writer. PostgreSQL is the store for several replicas.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path.with_name(path.name + ".lock"), "a+b")  # noqa: SIM115 - held until stop
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StartupError(
            f"DATABASE_URL: another stretchbot process is already running on {path}. SQLite "
            "supports one process: stop the other one, or use PostgreSQL to run several replicas"
        ) from None
    return handle


def _unlock(handle: IO[bytes] | None) -> None:
    if handle is not None and not handle.closed:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


async def healthz(request: web.Request) -> web.Response:
    if request.app[HEALTH].ready:
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "starting"}, status=503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    return web.Response(body=metrics.render(), headers={"Content-Type": metrics.content_type})


async def start(
    settings: Settings,
    *,
    clock: Clock | None = None,
    scheduler_on: bool = True,
    teams_anonymous: bool = False,
) -> Runtime:
    """Bring the bot up: schema, services, web server, Slack connection, scheduler.

    See `_start`; this owns the Slack client's HTTP session and closes it if start-up fails.
    """
    http = aiohttp.ClientSession()
    try:
        runtime = await _start(
            settings, http, clock=clock, scheduler_on=scheduler_on, teams_anonymous=teams_anonymous
        )
    except BaseException:
        await http.close()
        raise
    runtime.http = http
    return runtime


async def _start(
    settings: Settings,
    http: aiohttp.ClientSession,
    *,
    clock: Clock | None,
    scheduler_on: bool,
    teams_anonymous: bool,
) -> Runtime:
    """Bring the bot up: schema, services, web server, Slack connection, scheduler.

    Tests pass `clock` (and may leave the scheduler off to call the due-slot functions directly),
    and `teams_anonymous` for the Agents SDK's anonymous mode (no Entra tokens with a fake Bot
    Connector); it is not a setting, so a deployment cannot turn it on.
    """
    metrics = Metrics()
    client = make_client(
        settings.SLACK_BOT_TOKEN,
        base_url=settings.SLACK_API_URL,
        on_429=lambda method: metrics.rate_limited.labels("slack", method).inc(),
        session=http,
    )
    try:
        auth = None if settings.oauth_mode else await client.auth_test()  # OAuth: per workspace
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown")
        raise StartupError(
            f"SLACK_BOT_TOKEN was refused by Slack ({error}): copy the Bot User OAuth Token "
            "(xoxb-...) of the installed app again"
        ) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StartupError(
            f"could not reach Slack at SLACK_API_URL={settings.SLACK_API_URL} ({type(exc).__name__}): "
            "check the network and SLACK_API_URL"
        ) from None
    lock = _lock_sqlite(settings.sqlite_path) if settings.sqlite_path else None
    engine = create_engine(settings.DATABASE_URL)
    try:
        await run_migrations(engine)
    except (OSError, SQLAlchemyError) as exc:
        await engine.dispose()
        _unlock(lock)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        raise StartupError(
            f"DATABASE_URL: could not open or migrate the database ({reason}): check the URL, "
            "that the server runs and that the user may create tables"
        ) from None
    storage = SqlStorage(engine)
    tenancy = SqlTenancy(engine)
    tokens: BotTokens | None = None
    if settings.oauth_mode:
        try:
            tokens = await _bot_tokens(settings, engine, tenancy, metrics)
        except StartupError:
            await engine.dispose()
            _unlock(lock)
            raise

    chat = (
        SlackChat(
            tokens.client_for, metrics=metrics, per_workspace=settings.SLACK_WORKSPACE_CONCURRENCY
        )
        if tokens is not None
        else SlackChat.single_workspace(
            client, metrics=metrics, per_workspace=settings.SLACK_WORKSPACE_CONCURRENCY
        )
    )
    chats: dict[str, Chat] = {chat.platform: chat}
    teams = _teams(settings, engine, metrics, teams_anonymous) if settings.teams_enabled else None
    if teams is not None:
        chats[teams.chat.platform] = teams.chat
    services = StretchService(
        storage,
        chats,
        grace=timedelta(minutes=settings.NUDGE_GRACE_MINUTES),
        default_tz=settings.DEFAULT_TIMEZONE,
        post_concurrency=settings.POST_CONCURRENCY,
        clock=clock,
        metrics=metrics,
        tenancy=tenancy,
        now_cooldown=timedelta(minutes=settings.NOW_COOLDOWN_MINUTES),
        commands_per_minute=settings.COMMANDS_PER_MINUTE,
        retention=timedelta(days=settings.DATA_RETENTION_DAYS),
    )
    oauth_flow = _oauth_flow(settings, engine, services, tokens) if tokens is not None else None
    bolt = build_bolt_app(
        client=client,
        auth=auth,
        signing_secret=settings.SLACK_SIGNING_SECRET,
        services=services,
        socket_mode=settings.socket_mode,
        oauth_flow=oauth_flow,
        tokens=tokens,
        session=http,
    )

    web_app = web.Application()
    web_app[HEALTH] = Health()
    web_app[METRICS] = metrics
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_endpoint)
    if not settings.socket_mode:
        web_app.router.add_post(
            "/slack/events", events_handler(bolt, settings.SLACK_SIGNING_SECRET)
        )
    if oauth_flow is not None:
        add_oauth_routes(web_app, oauth_flow)  # GET /slack/install, GET /slack/oauth_redirect
    if teams is not None:
        teams.mount(web_app, services)  # POST /api/messages, JWT-checked on that route only
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.HOST, settings.PORT).start()
    except OSError as exc:
        await runner.cleanup()
        await engine.dispose()
        _unlock(lock)
        raise StartupError(
            f"PORT: cannot listen on {settings.HOST}:{settings.PORT} ({exc.strerror}): "
            "set PORT (and HOST) to a free address"
        ) from None

    scheduler = NudgeScheduler(services, poll_seconds=settings.SCHEDULER_POLL_SECONDS, clock=clock)
    runtime = Runtime(settings, engine, services, scheduler, bolt, web_app, runner, lock=lock)
    if settings.socket_mode:
        runtime.socket = AsyncSocketModeHandler(bolt, settings.SLACK_APP_TOKEN)
        await runtime.socket.connect_async()  # type: ignore[no-untyped-call]
    if scheduler_on:
        scheduler.start()
    # What start-up built lives as long as the process: keep it out of the collector's way, so
    # full collections under load walk only what requests allocate (shorter pauses).
    gc.collect()
    gc.freeze()
    web_app[HEALTH].ready = True
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode, POST /slack/events"
    if oauth_flow is not None:
        mode += "; OAuth mode, install from GET /slack/install"
    if teams is not None:
        mode += "; Microsoft Teams on POST /api/messages"
    logger.info("stretchbot ready (%s) on http://%s:%s", mode, settings.HOST, runtime.port)
    return runtime


def _teams(settings: Settings, engine: AsyncEngine, metrics: Metrics, anonymous: bool) -> TeamsBot:
    # Imported here: the Agents SDK takes seconds to import and is only needed with Teams on.
    from handlers.teams.app import build_teams

    return build_teams(
        settings.teams_sdk_settings(), engine=engine, metrics=metrics, anonymous=anonymous
    )


async def _bot_tokens(
    settings: Settings, engine: AsyncEngine, tenancy: SqlTenancy, metrics: Metrics
) -> BotTokens:
    """OAuth mode: workspace tokens from the installation store, checked against the key."""
    cipher = TokenCipher.from_setting(settings.STRETCHBOT_ENCRYPTION_KEY)
    check = await check_tokens(engine, cipher)
    if check.unreadable:
        raise StartupError(
            f"STRETCHBOT_ENCRYPTION_KEY: {check.unreadable} stored Slack token(s) cannot be "
            "decrypted with it. Set it to the key they were encrypted with (to rotate: new key "
            "first, old key after a comma, then run `stretchbot rotate-key`)"
        )
    if not cipher.enabled:
        logger.warning(
            "STRETCHBOT_ENCRYPTION_KEY is not set: Slack tokens are stored in the database in "
            "plain text. Set it to a key from `stretchbot keygen` to encrypt them"
        )
    elif check.plain:
        logger.warning(
            "%d Slack token(s) are stored in plain text (saved before the key was set): run "
            "`stretchbot rotate-key` to encrypt them",
            check.plain,
        )
    if settings.SLACK_BOT_TOKEN:
        logger.warning("OAuth mode: SLACK_BOT_TOKEN is ignored (each workspace has its own)")
    installs = EncryptedInstallationStore(
        client_id=settings.SLACK_CLIENT_ID, engine=engine, cipher=cipher
    )
    return BotTokens(
        installs,
        tenancy.workspaces,
        base_url=settings.SLACK_API_URL,
        on_429=lambda method: metrics.rate_limited.labels("slack", method).inc(),
    )


def _oauth_flow(
    settings: Settings, engine: AsyncEngine, services: StretchService, tokens: BotTokens
) -> StretchOAuthFlow:
    async def installed(installation: Installation) -> None:
        org_wide = installation.is_enterprise_install and installation.enterprise_id
        tokens.forget(None if org_wide else installation.team_id)
        if org_wide and installation.enterprise_id:
            await services.enterprise_installed(
                platform="slack", enterprise_id=installation.enterprise_id
            )
        elif installation.team_id:
            await services.workspace_installed(
                platform="slack",
                team_id=installation.team_id,
                enterprise_id=installation.enterprise_id,
            )

    return build_oauth_flow(
        client_id=settings.SLACK_CLIENT_ID,
        client_secret=settings.SLACK_CLIENT_SECRET,
        api_url=settings.SLACK_API_URL,
        authorize_url=settings.SLACK_AUTHORIZE_URL,
        redirect_uri=settings.SLACK_REDIRECT_URI or None,
        installation_store=tokens.installs,
        state_store=PrunedOAuthStateStore(
            expiration_seconds=STATE_SECONDS, engine=engine, logger=logger
        ),
        on_installed=installed,
    )


async def run(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then shut down cleanly."""
    runtime = await start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        logger.info("stretchbot shutting down")
    finally:
        await runtime.stop()
