"""OAuth-mode fixtures: the real bot (Bolt OAuth flow, aiohttp, SQLite or Postgres) in process,
against a `FakeSlackGrid` of several workspaces that collide in channel and user ids.

Requests go over real HTTP both ways: installs through GET /slack/install and the redirect URL
(state cookie included), commands and events signed like Slack's. Time is injected; scheduled
work is run by calling the due-slot functions directly.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.app import Runtime, start
from bot.config import Settings
from bot.ports import ChannelKey
from tests.fakes import slack_payloads as payloads
from tests.oauth.slack_grid import FakeSlackGrid
from tests.scenario.conftest import SECRET, FakeClock, eventually

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-for-tests"
KEY = Fernet.generate_key().decode()
COOKIE = "slack-app-oauth-state"
T1, T2 = "T0001", "T0002"  # two independent workspaces with colliding ids inside


def oauth_settings(grid: FakeSlackGrid, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": grid.api_url,
        "STRETCHBOT_ENCRYPTION_KEY": KEY,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": 0,
        "LOG_LEVEL": "DEBUG",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Page:
    status: int
    text: str
    headers: dict[str, str]


@dataclass
class OAuthBot:
    """Drives a started OAuth-mode bot the way browsers and Slack would."""

    runtime: Runtime
    grid: FakeSlackGrid
    clock: FakeClock
    http: aiohttp.ClientSession
    _responses: int = field(default=0)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.runtime.port}"

    @property
    def services(self) -> Any:
        return self.runtime.services

    # -- the install link ------------------------------------------------------------------

    async def start_install(self, query: str = "") -> tuple[Page, str, str]:
        """GET /slack/install: the page, the state cookie's value and the `state` in Location."""
        async with self.http.get(
            f"{self.base_url}/slack/install{query}", allow_redirects=False
        ) as resp:
            page = Page(resp.status, await resp.text(), dict(resp.headers))
            cookie = resp.cookies.get(COOKIE)
        location = page.headers.get("Location", "")
        state = parse_qs(urlsplit(location).query).get("state", [""])[0]
        return page, cookie.value if cookie is not None else "", state

    async def finish_install(
        self, *, code: str | None, state: str | None, cookie: str | None, **extra: str
    ) -> Page:
        """GET /slack/oauth_redirect as the browser comes back from Slack."""
        query = {k: v for k, v in {"code": code, "state": state, **extra}.items() if v is not None}
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie is not None else {}
        async with self.http.get(
            f"{self.base_url}/slack/oauth_redirect?{urlencode(query)}",
            headers=headers,
            allow_redirects=False,
        ) as resp:
            return Page(resp.status, await resp.text(), dict(resp.headers))

    async def install(self, team_id: str) -> Page:
        """The whole round trip for one workspace; asserts it worked."""
        _, cookie, state = await self.start_install()
        page = await self.finish_install(
            code=self.grid.install_code(team_id), state=state, cookie=cookie
        )
        assert page.status == 200, page.text
        return page

    async def install_org(self, enterprise_id: str) -> Page:
        _, cookie, state = await self.start_install()
        page = await self.finish_install(
            code=self.grid.org_install_code(enterprise_id), state=state, cookie=cookie
        )
        assert page.status == 200, page.text
        return page

    # -- what Slack sends --------------------------------------------------------------------

    async def post(self, body: str, *, content_type: str | None = None) -> tuple[int, str]:
        headers = payloads.signed_headers(SECRET, body, content_type=content_type)
        async with self.http.post(
            f"{self.base_url}/slack/events", data=body.encode(), headers=headers
        ) as resp:
            return resp.status, await resp.text()

    async def command(
        self,
        team: str,
        text: str,
        *,
        user: str = "U0001",
        channel: str = "C0001",
        enterprise_id: str | None = None,
        org_wide: bool = False,
        wait_reply: bool = True,
    ) -> dict[str, Any] | None:
        """`/stretch <text>` in `team`; the answer, wherever it arrives: the ack body (quick
        private answers), else the body posted to its response_url (None with `wait_reply`
        off, or when the ack carried none)."""
        self._responses += 1
        name = f"r{self._responses}"
        fields = payloads.slash_command_payload(
            text=text,
            team_id=team,
            channel_id=channel,
            user_id=user,
            response_url=self.grid.response_url(name),
            enterprise_id=enterprise_id,
        )
        fields["is_enterprise_install"] = "true" if org_wide else "false"
        status, body = await self.post(urlencode(fields))
        assert status == 200, body
        answered = payloads.ack_answer(body)
        if answered is not None or not wait_reply:
            return answered
        return await self.response(name)

    async def response(self, name: str, timeout: float = 5.0) -> dict[str, Any]:
        async def posted() -> dict[str, Any] | None:
            for item in self.grid.responses:
                if item.name == name:
                    return item.body
            return None

        return await eventually(posted, timeout=timeout, what=f"a response_url post {name}")

    async def event(
        self,
        team: str | None,
        event: dict[str, Any],
        *,
        enterprise_id: str | None = None,
        org_wide: bool = False,
        envelope_team: str | None = None,
    ) -> None:
        envelope = payloads.event_callback(event, team_id=team or envelope_team or "")
        envelope["team_id"] = envelope_team or team
        envelope["enterprise_id"] = enterprise_id
        envelope["context_enterprise_id"] = enterprise_id
        envelope["authorizations"] = [
            {
                "enterprise_id": enterprise_id,
                "team_id": None if org_wide else team,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ]
        status, body = await self.post(json.dumps(envelope))
        assert status == 200, body

    async def uninstall(
        self, team: str | None, *, enterprise_id: str | None = None, org_wide: bool = False
    ) -> None:
        """What Slack sends when the app is removed: tokens_revoked, then app_uninstalled;
        returns once the bot has acted on both (it acks first, then works)."""
        for event in (
            payloads.tokens_revoked_event(bot=["UBOT"]),
            payloads.app_uninstalled_event(),
        ):
            await self.event(team, event, enterprise_id=enterprise_id, org_wide=org_wide)
        teams = (
            [team]
            if team
            else [t for t, e in self.grid.enterprise_of.items() if e == enterprise_id]
        )

        async def done() -> bool:
            tokens_left = (
                await self.count("slack_bots", "team_id = :t", t=team)
                if team
                else await self.count(
                    "slack_bots", "enterprise_id = :e AND team_id IS NULL", e=enterprise_id
                )
            )
            if tokens_left:
                return False
            for t in teams:
                workspace = await self.services.tenancy.workspaces.get(platform="slack", team_id=t)
                if workspace is None or workspace.installed:
                    return False
            return True

        await settle(done, f"the uninstall of {team or enterprise_id} to take effect")

    async def react(
        self, team: str, *, ts: str, user: str = "U0001", removed: bool = False
    ) -> None:
        build = payloads.reaction_removed_event if removed else payloads.reaction_added_event
        await self.event(
            team, build(user=user, reaction="white_check_mark", channel="C0001", ts=ts)
        )

    # -- looking inside ----------------------------------------------------------------------

    async def breaks(self, team: str, channel: str = "C0001") -> dict[str, int]:
        return dict(
            await self.services.storage.breaks.counts(
                channel=ChannelKey("slack", team, channel), since=None
            )
        )

    async def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.runtime.engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(sql), params)]

    async def count(self, table: str, where: str = "1=1", **params: Any) -> int:
        [(n,)] = await self.rows(f"SELECT count(*) FROM {table} WHERE {where}", **params)
        return int(n)


async def settle(condition: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Wait (bounded) for work the bot does after acking."""
    return await eventually(condition, timeout=5.0, what=what)


@pytest.fixture
async def grid() -> AsyncIterator[FakeSlackGrid]:
    async with FakeSlackGrid() as fake:
        fake.add_workspace(T1, name="Acme")
        fake.add_workspace(T2, name="Globex")
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    from datetime import UTC, datetime

    # Monday 2026-11-23 08:00 UTC = 09:00 in Berlin (U0001's timezone in every workspace)
    return FakeClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))


StartBot = Callable[..., Awaitable[OAuthBot]]


@pytest.fixture
async def start_oauth_bot(
    grid: FakeSlackGrid, clock: FakeClock, database_url: str
) -> AsyncIterator[StartBot]:
    """`await start_oauth_bot(**settings)`: an OAuth-mode bot (scheduler off); stopped after."""
    started: list[Runtime] = []
    async with aiohttp.ClientSession() as http:

        async def factory(**overrides: Any) -> OAuthBot:
            runtime = await start(
                oauth_settings(grid, database_url, **overrides), clock=clock, scheduler_on=False
            )
            started.append(runtime)
            return OAuthBot(runtime, grid, clock, http)

        try:
            yield factory
        finally:
            for runtime in reversed(started):
                await runtime.stop()
            await asyncio.sleep(0)


@pytest.fixture
async def oauth_bot(start_oauth_bot: StartBot) -> OAuthBot:
    return await start_oauth_bot()
