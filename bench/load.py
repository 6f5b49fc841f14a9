"""Signed Slack requests over real HTTP at a fixed concurrency, and a bare-ack Bolt baseline."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult

from tests.fakes import slack_payloads as payloads

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
TEAM = "T0001"


@dataclass
class LoadResult:
    """Latencies (seconds) and HTTP statuses of one load run."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # wall time from the first request to the last answer

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    def add(self, other: LoadResult) -> None:
        """Fold another run (a later round) into this one."""
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)
        self.seconds += other.seconds


async def fire(
    http: aiohttp.ClientSession,
    url: str,
    bodies: Sequence[str],
    *,
    concurrency: int,
    secret: str = SECRET,
    answers: list[str] | None = None,
) -> LoadResult:
    """POST every body (signed now, as Slack would) with `concurrency` requests in flight.

    `answers`, when given, collects the non-empty bodies of the 200 answers (a slash command
    answered in its ack)."""
    result = LoadResult()
    queue = list(reversed(bodies))

    async def worker() -> None:
        while queue:
            body = queue.pop()
            headers = payloads.signed_headers(secret, body)
            started = time.perf_counter()
            try:
                async with http.post(url, data=body.encode(), headers=headers) as response:
                    answer = await response.read()
                    result.statuses[response.status] += 1
                    if answers is not None and answer and response.status == 200:
                        answers.append(answer.decode())
            except (aiohttp.ClientError, TimeoutError) as exc:
                result.errors[type(exc).__name__] += 1
                continue
            result.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def client_session(concurrency: int) -> aiohttp.ClientSession:
    """The load generator's HTTP client: keep-alive, `concurrency` connections, 30 s timeout."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=30),
    )


def bare_bolt_app(*, bot_user_id: str = "UBOT") -> AsyncApp:
    """A Bolt AsyncApp with the bot's request settings whose listeners only ack."""
    authorized = AuthorizeResult(
        enterprise_id=None,
        team_id=TEAM,
        bot_user_id=bot_user_id,
        bot_id="BBOT",
        bot_token=TOKEN,
    )

    async def authorize() -> AuthorizeResult:
        return authorized

    app = AsyncApp(
        authorize=authorize,
        signing_secret=SECRET,
        process_before_response=False,
    )

    @app.command("/stretch")
    async def stretch(ack: AsyncAck) -> None:
        await ack()

    @app.event("reaction_added")
    async def reaction_added(ack: AsyncAck) -> None:
        await ack()

    return app


class BareServer:
    """`bare_bolt_app()` served by Bolt's own aiohttp adapter on 127.0.0.1 (any free port)."""

    def __init__(self) -> None:
        self.app = bare_bolt_app()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def __aenter__(self) -> BareServer:
        self._runner = web.AppRunner(self.app.web_app(path="/slack/events"), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def wait_until(
    probe: Callable[[], Awaitable[Any]], *, within: float, interval: float = 0.1
) -> tuple[Any, float]:
    """Poll `probe` until truthy or `within` seconds; return (last value, seconds waited)."""
    started = time.perf_counter()
    while True:
        value = await probe()
        waited = time.perf_counter() - started
        if value or waited > within:
            return value, waited
        await asyncio.sleep(interval)
