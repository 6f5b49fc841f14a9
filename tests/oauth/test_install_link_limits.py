"""The public install link stays cheap, over real HTTP (issue 9, item 10): `/slack/install` is
rate-limited per client address, and expired states are deleted at most once a minute, not on
every visit."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import event, text

from handlers.slack.oauth import INSTALL_LIMITER, INSTALLS_PER_MINUTE, OAUTH_FLOW
from storage.installations import PrunedOAuthStateStore
from tests.oauth.conftest import T1, OAuthBot


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


async def test_install_link_is_rate_limited_per_address(oauth_bot: OAuthBot) -> None:
    bot = oauth_bot
    statuses: list[int] = []
    refused: list[tuple[dict[str, str], str]] = []
    for _ in range(300):
        async with bot.http.get(f"{bot.base_url}/slack/install", allow_redirects=False) as response:
            statuses.append(response.status)
            if response.status == 429:
                refused.append((dict(response.headers), await response.text()))

    assert statuses == [302] * INSTALLS_PER_MINUTE + [429] * (300 - INSTALLS_PER_MINUTE)
    assert await bot.count("slack_oauth_states") == INSTALLS_PER_MINUTE
    headers, page = refused[0]
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert headers["Content-Type"].startswith("text/html")
    assert "Too many install attempts" in page and "try again" in page
    assert "Set-Cookie" not in headers

    # Another address has its own budget (Linux routes all of 127/8 to loopback).
    async with (
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        ) as elsewhere,
        elsewhere.get(f"{bot.base_url}/slack/install", allow_redirects=False) as response,
    ):
        assert response.status == 302

    # A minute later the first address may start again.
    limiter = bot.runtime.web_app[INSTALL_LIMITER]
    clock = Clock()
    clock.now = time.monotonic() + 3600  # the hits above were stamped on the real clock
    limiter.monotonic = clock
    page, cookie, state = await bot.start_install()
    assert page.status == 302 and cookie == state


async def test_expired_states_are_deleted_once_a_minute_not_per_visit(
    oauth_bot: OAuthBot,
) -> None:
    bot = oauth_bot
    store = bot.runtime.web_app[OAUTH_FLOW].settings.state_store
    assert isinstance(store, PrunedOAuthStateStore)
    clock = Clock()
    store.monotonic = clock
    deletes: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM SLACK_OAUTH_STATES"):
            deletes.append(statement)

    sync_engine = bot.runtime.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        for _ in range(5):
            await bot.start_install()
            clock.now += 5
        assert len(deletes) == 1  # the first visit pruned; the next four within the minute not
        assert await bot.count("slack_oauth_states") == 5

        # Ten minutes on, those states have expired; the next visit after the minute prunes.
        past = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
        async with bot.runtime.engine.begin() as conn:
            await conn.execute(text("UPDATE slack_oauth_states SET expire_at = :t"), {"t": past})
        clock.now += 60
        _, cookie, state = await bot.start_install()
        assert len(deletes) == 2
        assert await bot.count("slack_oauth_states") == 1  # only the one just issued
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)

    page = await bot.finish_install(code=bot.grid.install_code(T1), state=state, cookie=cookie)
    assert page.status == 200, page.text
