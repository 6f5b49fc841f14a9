"""The composition root: settings in, a running bot out. Engine, repositories, services,
scheduler, the Slack and Teams adapters and the web server are built here and only here, and
torn down in reverse order by one exit stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

import aiohttp
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import MaintenanceSettings, Settings
from bot.metrics import Metrics
from bot.pictures import PictureLinks
from bot.ports import Chat, Storage
from bot.reminders import SlideRules
from bot.scheduler import NudgeScheduler
from bot.services import Clock, Services
from bot.startup import StartupError
from bot.workspaces import Tenancy
from handlers import pictures
from handlers.slack.app import SlackBot, SlackSettings, build_slack
from handlers.slack.pictures import SlackPictures
from storage.db import Database
from storage.engine import create_engine, run_migrations
from storage.exercises import SqlExerciseRepository
from storage.sql import SqlStorage, SqlTenancy

if TYPE_CHECKING:
    from handlers.slack.app import OAuthStores
    from handlers.slack.tokens import BotTokens
    from handlers.teams.app import TeamsBot

__all__ = ["Runtime", "StartupError", "open_services", "run", "start"]

logger = logging.getLogger("stretchbot")

SHUTDOWN_GRACE_SECONDS = 5.0  # posts under way and queued breaks get this long at shutdown
COMMANDS_GRACE_SECONDS = 8.0  # acked commands get this long to finish at shutdown
# Pending who-moved edits get this long at shutdown; edits still waiting for their turn under
# the per-workspace budget (a burst) are given up then.
ROLLS_GRACE_SECONDS = 2.0


@dataclass
class Health:
    """What `/healthz` reports (aiohttp freezes app state once the server runs)."""

    ready: bool = False
    slack: SlackBot | None = None  # Socket Mode: down while its connection is down

    async def ok(self) -> bool:
        return self.ready and (self.slack is None or await self.slack.connected())


HEALTH = web.AppKey("health", Health)
METRICS = web.AppKey("metrics", Metrics)


@dataclass
class Runtime:
    """A started bot; `stop()` undoes `start()` in reverse order."""

    settings: Settings
    engine: AsyncEngine
    storage: Storage
    tenancy: Tenancy
    services: Services
    scheduler: NudgeScheduler
    slack: SlackBot
    web_app: web.Application
    runner: web.AppRunner
    exits: AsyncExitStack
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
        self.services.nudging.stop_claiming()
        self.slack.chat.gate.stop()  # posts waiting out a 429 give up and are given back
        await self.exits.aclose()
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


def _unlock(handle: IO[bytes]) -> None:
    if not handle.closed:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


async def healthz(request: web.Request) -> web.Response:
    if await request.app[HEALTH].ok():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "starting"}, status=503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    return web.Response(body=metrics.render(), headers={"Content-Type": metrics.content_type})


async def _open_database(exits: AsyncExitStack, database_url: str) -> AsyncEngine:
    """The engine, schema at head, disposed when `exits` closes."""
    engine = create_engine(database_url)
    exits.push_async_callback(engine.dispose)
    try:
        await run_migrations(engine)
    except (OSError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        raise StartupError(
            f"DATABASE_URL: could not open or migrate the database ({reason}): check the URL, "
            "that the server runs and that the user may create tables"
        ) from None
    return engine


def slack_settings(settings: Settings) -> SlackSettings:
    return SlackSettings(
        api_url=settings.SLACK_API_URL,
        bot_token=settings.SLACK_BOT_TOKEN,
        signing_secret=settings.SLACK_SIGNING_SECRET,
        app_token=settings.SLACK_APP_TOKEN,
        workspace_concurrency=settings.SLACK_WORKSPACE_CONCURRENCY,
        client_id=settings.SLACK_CLIENT_ID,
        client_secret=settings.SLACK_CLIENT_SECRET,
        authorize_url=settings.SLACK_AUTHORIZE_URL,
        redirect_uri=settings.SLACK_REDIRECT_URI,
        busy_status=settings.busy_status(),
    )


async def start(
    settings: Settings,
    *,
    clock: Clock | None = None,
    scheduler_on: bool = True,
    teams_anonymous: bool = False,
) -> Runtime:
    """Bring the bot up: schema, services, web server, Slack connection, scheduler.

    Tests pass `clock` (and may leave the scheduler off to call the due-slot functions directly),
    and `teams_anonymous` for the Agents SDK's anonymous mode (no Entra tokens with a fake Bot
    Connector); it is not a setting, so a deployment cannot turn it on. Whatever was built is
    torn down again when start-up fails or is cancelled.
    """
    exits = AsyncExitStack()
    try:
        return await _start(exits, settings, clock, scheduler_on, teams_anonymous)
    except BaseException:
        await exits.aclose()
        raise


async def _start(
    exits: AsyncExitStack,
    settings: Settings,
    clock: Clock | None,
    scheduler_on: bool,
    teams_anonymous: bool,
) -> Runtime:
    metrics = Metrics()
    http = aiohttp.ClientSession()
    exits.push_async_callback(http.close)
    slack_config = slack_settings(settings)
    slack: SlackBot | None = None
    if not settings.oauth_mode:  # a refused token is told before the database is touched
        slack = await build_slack(slack_config, http=http, metrics=metrics)
    if settings.sqlite_path:
        exits.callback(_unlock, _lock_sqlite(settings.sqlite_path))
    engine = await _open_database(exits, settings.DATABASE_URL)
    storage, tenancy = SqlStorage(engine), SqlTenancy(engine)
    if slack is None:
        tokens, oauth = await _oauth(settings, engine, tenancy, metrics)
        slack = await build_slack(
            slack_config, http=http, metrics=metrics, tokens=tokens, oauth=oauth
        )
    chats: dict[str, Chat] = {slack.chat.platform: slack.chat}
    teams = _teams(settings, engine, metrics, teams_anonymous) if settings.teams_enabled else None
    if teams is not None:
        chats[teams.chat.platform] = teams.chat
    services = Services.create(
        storage,
        tenancy,
        chats,
        grace=timedelta(minutes=settings.NUDGE_GRACE_MINUTES),
        default_tz=settings.DEFAULT_TIMEZONE,
        post_concurrency=settings.POST_CONCURRENCY,
        clock=clock,
        metrics=metrics,
        now_cooldown=timedelta(minutes=settings.NOW_COOLDOWN_MINUTES),
        commands_per_minute=settings.COMMANDS_PER_MINUTE,
        retention=timedelta(days=settings.DATA_RETENTION_DAYS),
        slide_rules=SlideRules(retry=timedelta(minutes=settings.REMINDER_RETRY_MINUTES)),
    )
    # Torn down after the web server: the ✅ marks of events acked already are written, and
    # before that the commands acked already finish (or are answered "try again").
    # (Exits run last first: the rolls' edits are drained after the breaks that touch them.)
    exits.push_async_callback(_finish_rolls, services)
    exits.push_async_callback(_flush_breaks, services)
    exits.push_async_callback(_finish_cards, services)
    exits.push_async_callback(slack.chat.charts.close)  # the chart-drawing child, if one runs
    exits.push_async_callback(slack.finish_work, COMMANDS_GRACE_SECONDS)

    web_app = web.Application()
    web_app[HEALTH] = Health(slack=slack if settings.socket_mode else None)
    web_app[METRICS] = metrics
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_endpoint)
    links = _pictures(settings, engine, slack, teams)
    if links.enabled:
        pictures.mount(web_app)  # GET /pictures/<key>-<version>.png
    slack.mount(web_app, services)
    if teams is not None:
        teams.mount(web_app, services)  # POST /api/messages, JWT-checked on that route only
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    exits.push_async_callback(runner.cleanup)
    try:
        await web.TCPSite(runner, settings.HOST, settings.PORT).start()
    except socket.gaierror as exc:
        raise StartupError(
            f"HOST: cannot find the address {settings.HOST!r} ({exc.strerror}): set HOST to "
            "an address of this machine, e.g. 0.0.0.0 or 127.0.0.1"
        ) from None
    except OSError as exc:
        raise StartupError(
            f"PORT: cannot listen on {settings.HOST}:{settings.PORT} ({exc.strerror}): "
            "set PORT (and HOST) to a free address"
        ) from None

    scheduler = NudgeScheduler(services, poll_seconds=settings.SCHEDULER_POLL_SECONDS, clock=clock)
    exits.push_async_callback(_stop_scheduler, scheduler, services)
    exits.push_async_callback(slack.close)
    await slack.connect()
    if scheduler_on:
        scheduler.start()
    # What start-up built lives as long as the process: keep it out of the collector's way, so
    # full collections under load walk only what requests allocate (shorter pauses).
    gc.collect()
    gc.freeze()
    exits.callback(gc.unfreeze)  # several runtimes in one process (tests): let it go at stop
    web_app[HEALTH].ready = True
    runtime = Runtime(
        settings, engine, storage, tenancy, services, scheduler, slack, web_app, runner, exits
    )
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode, POST /slack/events"
    if settings.oauth_mode:
        mode += "; OAuth mode, install from GET /slack/install"
    if teams is not None:
        mode += "; Microsoft Teams on POST /api/messages"
    logger.info("stretchbot ready (%s) on http://%s:%s", mode, settings.HOST, runtime.port)
    return runtime


def _pictures(
    settings: Settings, engine: AsyncEngine, slack: SlackBot, teams: TeamsBot | None
) -> PictureLinks:
    """Nudge pictures: linked from PUBLIC_URL when set; else, in Socket Mode, uploaded to each
    Slack workspace once (Teams shows only linked ones); HTTP mode without PUBLIC_URL shows
    built-in pictures nowhere (custom exercises' own https pictures still show).
    EXERCISE_PICTURES=off: none."""
    links = PictureLinks(enabled=settings.EXERCISE_PICTURES, public_url=settings.PUBLIC_URL)
    uploads = links.enabled and not links.public_url and settings.socket_mode
    if links.enabled and not links.public_url and not settings.socket_mode:
        logger.info("exercise pictures: set PUBLIC_URL to show the built-in ones in nudges")
    slack.chat.pictures = SlackPictures(
        links,
        slack.chat.client,
        files=SqlExerciseRepository(Database.shared(engine)) if uploads else None,
    )
    if teams is not None:
        teams.chat.pictures = links
    return links


async def _stop_scheduler(scheduler: NudgeScheduler, services: Services) -> None:
    """No new passes; the pass under way finishes its posts (claimed, unposted slots go back)."""
    services.nudging.stop_claiming()
    await scheduler.stop()
    if not await services.nudging.drain(grace_seconds=SHUTDOWN_GRACE_SECONDS):
        logger.warning("posts were still under way after %.0fs at shutdown", SHUTDOWN_GRACE_SECONDS)


async def _flush_breaks(services: Services) -> None:
    if not await services.breaks.flush(grace_seconds=SHUTDOWN_GRACE_SECONDS):
        logger.warning(
            "breaks were still being written after %.0fs at shutdown", SHUTDOWN_GRACE_SECONDS
        )


async def _finish_cards(services: Services) -> None:
    """Group break cards show their last roll call (a pending coalesced update) before exit."""
    if not await services.group_breaks.cards.drain(grace_seconds=SHUTDOWN_GRACE_SECONDS):
        logger.warning("group break cards were still being updated at shutdown")


async def _finish_rolls(services: Services) -> None:
    """Nudges show their last who-moved line (a pending coalesced edit) before exit."""
    await services.who_moved.drain(grace_seconds=ROLLS_GRACE_SECONDS)  # logs what it drops


def _teams(settings: Settings, engine: AsyncEngine, metrics: Metrics, anonymous: bool) -> TeamsBot:
    # Imported here: the Agents SDK takes seconds to import and is only needed with Teams on.
    from handlers.teams.app import build_teams
    from storage.conversations import SqlConversationRepository

    return build_teams(
        settings.teams_sdk_settings(),
        conversations=SqlConversationRepository(engine),
        metrics=metrics,
        anonymous=anonymous,
    )


async def _oauth(
    settings: Settings, engine: AsyncEngine, tenancy: SqlTenancy, metrics: Metrics
) -> tuple[BotTokens, OAuthStores]:
    """OAuth mode: workspace tokens from the installation store, checked against the key, and
    the install-state store."""
    from handlers.slack.app import OAuthStores
    from handlers.slack.oauth import STATE_SECONDS
    from handlers.slack.tokens import BotTokens
    from storage.installations import (
        EncryptedInstallationStore,
        PrunedOAuthStateStore,
        TokenCipher,
        check_tokens,
    )

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
    tokens = BotTokens(
        installs,
        tenancy.workspaces,
        base_url=settings.SLACK_API_URL,
        on_429=lambda method: metrics.rate_limited.labels("slack", method).inc(),
    )
    states = PrunedOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine, logger=logger)
    return tokens, OAuthStores(installations=installs, states=states)


@contextlib.asynccontextmanager
async def open_services(settings: MaintenanceSettings) -> AsyncIterator[Services]:
    """The services on the configured database (schema brought up to date) with no chat
    platform attached: for the operator commands (`stretchbot purge`, `export`, ...)."""
    async with AsyncExitStack() as exits:
        engine = await _open_database(exits, settings.DATABASE_URL)
        yield Services.create(
            SqlStorage(engine),
            SqlTenancy(engine),
            {},
            retention=timedelta(days=settings.DATA_RETENTION_DAYS),
        )


async def run(settings: Settings, *, stop_requested: Callable[[], bool] = lambda: False) -> None:
    """Run until SIGTERM or SIGINT, then shut down cleanly (also when one arrives during
    start-up: what was built so far is torn down). `stop_requested`: a SIGTERM that came
    before this loop took the signals over (while the process was importing)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if stop_requested():
        logger.info("stretchbot stopping before start-up")
        return
    starting = asyncio.ensure_future(start(settings))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        logger.info("stretchbot stopping during start-up")
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        return
    stopping.cancel()
    runtime = starting.result()
    try:
        await stop.wait()
        logger.info("stretchbot shutting down")
    finally:
        await runtime.stop()
