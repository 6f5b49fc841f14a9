"""End-to-end fixtures: the real `stretchbot` console script as a subprocess.

Every test gets its own FakeSlack (Web API + Socket Mode + response_url endpoints on a random
port), a SQLite file in `tmp_path` (`sqlite_url`, from tests/conftest.py), a free port and a
clean environment: no SLACK_* / DATABASE_URL / other setting leaks in from the developer's
shell, and the working directory is `tmp_path`, so no stray `.env` is read. The bot's
stdout/stderr go to files in `tmp_path` and are attached to the report of a failing test. Every
process a test starts is killed in teardown.

All waits are bounded; nothing sleeps waiting for a schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import pytest

from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import FakeSlack

TEAM = "T0001"
CHANNEL = "C0001"
USER = "U0001"
BOT_TOKEN = "xoxb-e2e"
APP_TOKEN = "xapp-1-e2e"
SECRET = "e2e-signing-secret"

STARTUP_TIMEOUT = 20.0  # a cold interpreter importing Bolt, SQLAlchemy and Alembic
STOP_TIMEOUT = 10.0
EXIT_TIMEOUT = 10.0  # config errors: the process must give up on its own, quickly

# Every setting the bot reads (bot/config.py); none may leak in from the outer environment.
SETTING_NAMES = (
    "DATABASE_URL",
    "LOG_LEVEL",
    "HOST",
    "PORT",
    "NUDGE_GRACE_MINUTES",
    "SCHEDULER_POLL_SECONDS",
    "POST_CONCURRENCY",
    "DEFAULT_TIMEZONE",
    "STRETCHBOT_ENCRYPTION_KEY",
    "DATA_RETENTION_DAYS",
    "NOW_COOLDOWN_MINUTES",
    "COMMANDS_PER_MINUTE",
)

_LOGS_KEY = pytest.StashKey[list["BotProcess"]]()


# ---------------------------------------------------------------------------------------------
# Finding and running the console script


def stretchbot_command() -> list[str]:
    """`stretchbot` next to this interpreter (what `pip install` made), else `python -m bot.cli`."""
    script = Path(sys.executable).parent / "stretchbot"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bot.cli"]


def clean_environ() -> dict[str, str]:
    """os.environ without anything that configures the bot."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "CONNECTIONS__")) and name not in SETTING_NAMES
    }


def free_port() -> int:
    """A port nobody listens on right now (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run a short-lived `stretchbot ...` command to completion (for sync tests)."""
    return subprocess.run(
        [*stretchbot_command(), *args],
        cwd=cwd,
        env={**clean_environ(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def nonempty_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# A running `stretchbot run`


@dataclass
class BotProcess:
    """One `stretchbot run` subprocess and the files its output goes to."""

    name: str
    env: dict[str, str]
    cwd: Path
    port: int
    stdout_path: Path
    stderr_path: Path
    proc: asyncio.subprocess.Process | None = None
    _files: list[TextIO] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/slack/events"

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    async def spawn(self) -> None:
        stdout = self.stdout_path.open("w", encoding="utf-8")
        stderr = self.stderr_path.open("w", encoding="utf-8")
        self._files = [stdout, stderr]
        self.proc = await asyncio.create_subprocess_exec(
            *stretchbot_command(),
            "run",
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def describe(self) -> str:
        """Exit status and output, for assertion messages and failure reports."""
        return (
            f"--- {self.name}: pid={getattr(self.proc, 'pid', None)} "
            f"returncode={self.returncode}\n"
            f"--- stdout ({self.stdout_path})\n{self.stdout()}"
            f"--- stderr ({self.stderr_path})\n{self.stderr()}"
        )

    async def wait_exit(self, timeout: float = EXIT_TIMEOUT) -> int:
        """Wait (bounded) for the process to exit on its own; return its exit code."""
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.name} did not exit within {timeout}s\n{self.describe()}"
            ) from None

    async def wait_healthy(
        self,
        http: aiohttp.ClientSession,
        timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        """Poll GET /healthz until 200; fail early if the process dies."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last = "no answer yet"
        while loop.time() < deadline:
            if self.returncode is not None:
                raise AssertionError(f"{self.name} exited during startup\n{self.describe()}")
            try:
                async with http.get(
                    f"{self.base_url}/healthz", timeout=aiohttp.ClientTimeout(total=2)
                ) as resp:
                    if resp.status == 200:
                        return
                    last = f"HTTP {resp.status}: {await resp.text()}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.1)
        raise AssertionError(
            f"{self.name}: /healthz not 200 within {timeout}s (last: {last})\n{self.describe()}"
        )

    async def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait (bounded) for the exit code."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.name} did not exit within {timeout}s of SIGTERM\n{self.describe()}"
            ) from None

    async def kill(self) -> None:
        """Teardown: make sure the process is gone and the log files are closed."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 5.0)
        for file in self._files:
            file.close()
        self._files = []


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    elapsed: float


@dataclass
class SlackClient:
    """Sends what Slack would send to an HTTP-mode bot: signed POSTs to /slack/events."""

    http: aiohttp.ClientSession
    slack: FakeSlack
    secret: str = SECRET
    _responses: int = 0

    async def post(
        self,
        bot: BotProcess,
        body: str,
        *,
        content_type: str | None = None,
        secret: str | None = None,
    ) -> Reply:
        headers = payloads.signed_headers(
            self.secret if secret is None else secret, body, content_type=content_type
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with self.http.post(
            bot.events_url,
            data=body.encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as resp:
            text = await resp.text()
        return Reply(resp.status, text, loop.time() - started)

    def next_response_name(self) -> str:
        self._responses += 1
        return f"r{self._responses}"

    async def command(
        self, bot: BotProcess, text: str, *, user: str = USER, channel: str = CHANNEL
    ) -> tuple[Reply, str]:
        """Send `/stretch <text>`; return the HTTP reply and the response_url name it carries."""
        name = self.next_response_name()
        body = payloads.slash_command_body(
            text=text,
            user_id=user,
            channel_id=channel,
            team_id=TEAM,
            response_url=self.slack.response_url(name),
        )
        return await self.post(bot, body), name

    async def answer(self, reply: Reply, name: str, timeout: float = 5.0) -> dict[str, Any]:
        """A command's answer, wherever it arrives: its ack body, else response_url `name`."""
        return payloads.ack_answer(reply.text) or await self.response(name, timeout)

    def responded(self, name: str) -> bool:
        return any(item.name == name for item in self.slack.responses)

    async def response(self, name: str, timeout: float = 5.0) -> dict[str, Any]:
        """The body the bot posted to response_url `name` (bounded wait)."""

        def posted() -> dict[str, Any] | None:
            for item in self.slack.responses:
                if item.name == name:
                    return item.body
            return None

        return await eventually(posted, timeout=timeout, what=f"a response_url post {name!r}")

    async def event(self, bot: BotProcess, event: dict[str, Any]) -> Reply:
        return await self.post(bot, payloads.event_callback_body(event, team_id=TEAM))


async def eventually(
    probe: Callable[[], Any | Awaitable[Any]],
    *,
    timeout: float = 5.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> Any:
    """Poll `probe` (sync or async) until it returns something truthy; bounded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = probe()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(team_id=TEAM) as fake:
        fake.add_channel(CHANNEL, name="general", member=True)
        fake.set_user(USER, tz="Europe/Berlin")
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def slack_client(http: aiohttp.ClientSession, slack: FakeSlack) -> SlackClient:
    return SlackClient(http, slack)


def http_mode_env(slack: FakeSlack, database_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
    }


def socket_mode_env(slack: FakeSlack, database_url: str) -> dict[str, str]:
    return {
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
    }


BotFactory = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
async def start_bot(
    request: pytest.FixtureRequest, tmp_path: Path, http: aiohttp.ClientSession
) -> AsyncIterator[BotFactory]:
    """`await start_bot(env, wait=True)`: spawn `stretchbot run` in tmp_path with a clean env.

    `env` is added to the clean environment (HOST/PORT/SCHEDULER_POLL_SECONDS/LOG_LEVEL are
    preset; a key mapped to None is removed). With `wait`, returns once /healthz answers 200.
    """
    started: list[BotProcess] = []
    request.node.stash[_LOGS_KEY] = started

    async def factory(
        env: Mapping[str, str | None] | None = None, *, wait: bool = True
    ) -> BotProcess:
        index = len(started) + 1
        port = free_port()
        full: dict[str, str] = {
            **clean_environ(),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SCHEDULER_POLL_SECONDS": "0.5",
            "LOG_LEVEL": "INFO",
        }
        for name, value in (env or {}).items():
            if value is None:
                full.pop(name, None)
            else:
                full[name] = value
        bot = BotProcess(
            name=f"stretchbot#{index}",
            env=full,
            cwd=tmp_path,
            port=port,
            stdout_path=tmp_path / f"bot{index}.stdout.log",
            stderr_path=tmp_path / f"bot{index}.stderr.log",
        )
        started.append(bot)
        await bot.spawn()
        if wait:
            await bot.wait_healthy(http)
        return bot

    try:
        yield factory
    finally:
        for bot in started:
            await bot.kill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Attach every bot's exit status, stdout and stderr to the report of a failing test."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for bot in item.stash.get(_LOGS_KEY, []):
        with contextlib.suppress(OSError):
            report.sections.append((f"{bot.name} output ({report.when})", bot.describe()))
