"""`POST /api/messages` with tokens the Agents SDK would crash on, and bodies cut off mid-way
(issue 9, item 11). The token check is on (anonymous mode off), as in production."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot import logs
from bot.app import start
from bot.logs import LogLimiter
from handlers.teams.app import names_a_signing_key
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import FakeClock
from tests.teams import payloads
from tests.teams.conftest import TeamsDriver, teams_settings
from tests.teams.fake_connector import FakeConnector

REFUSED = {"error": "Invalid token or authentication failed."}
CLAIMS = {
    "aud": payloads.APP_ID,
    "iss": "https://api.botframework.com",
    "serviceurl": "https://smba.trafficmanager.net/emea/",
    "exp": 4102444800,
}


def unsigned_token(header: dict[str, Any], claims: dict[str, Any] = CLAIMS) -> str:
    """A well-formed JWT with a made-up signature."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}.c2lnbmF0dXJl"


@pytest.fixture
def limiter(monkeypatch: pytest.MonkeyPatch) -> LogLimiter:
    """A fresh process-wide log limiter, so earlier tests' lines do not count here."""
    fresh = LogLimiter()
    monkeypatch.setattr(logs, "LIMITER", fresh)
    return fresh


@pytest.fixture
async def checked(
    slack: FakeSlack, connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> AsyncIterator[TeamsDriver]:
    """The bot with Teams on and the SDK's token check enforced."""
    runtime = await start(
        teams_settings(slack, sqlite_url), clock=clock, scheduler_on=False, teams_anonymous=False
    )
    try:
        async with aiohttp.ClientSession() as http:
            yield TeamsDriver(runtime, connector, clock, http)
    finally:
        await runtime.stop()


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "RS256", "typ": "JWT"},
        {"alg": "none"},
        {"alg": "RS256", "kid": ""},
        {"alg": "RS256", "kid": None},
        {"alg": "RS256", "kid": ["key-1"]},
    ],
)
async def test_a_token_without_a_key_id_gets_401_not_500(
    checked: TeamsDriver,
    limiter: LogLimiter,
    caplog: pytest.LogCaptureFixture,
    header: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    activity = payloads.message("status", service_url=checked.service_url)
    token = unsigned_token(header)
    for authorization in (f"Bearer {token}", f"bearer {token}  "):
        answer = await checked.send(activity, headers={"Authorization": authorization})
        assert (answer.status, answer.body) == (401, REFUSED)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    # One WARNING (ours, or the SDK's when PyJWT itself rejects the `kid`), then held back.
    assert [r.levelno for r in caplog.records if r.levelno >= logging.WARNING] == [logging.WARNING]
    assert checked.connector.calls == []  # nothing was answered or done


async def test_other_refused_tokens_still_get_the_sdks_401_and_few_lines(
    checked: TeamsDriver, limiter: LogLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    activity = payloads.message("status", service_url=checked.service_url)
    for authorization in ("Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c") * 20:
        answer = await checked.send(activity, headers={"Authorization": authorization})
        assert answer.status == 401, authorization
    answer = await checked.send(activity)  # no token at all
    assert answer.status == 401
    sdk_lines = [
        r
        for r in caplog.records
        if r.name.startswith("microsoft_agents") and r.levelno >= logging.WARNING
    ]
    assert 1 <= len(sdk_lines) <= 2  # one per kind of SDK warning, then held for a minute
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


def test_which_tokens_reach_the_sdk() -> None:
    assert names_a_signing_key(None)  # the SDK refuses it, or lets it in anonymous mode
    assert names_a_signing_key("Basic abc")  # the SDK refuses other schemes itself
    assert names_a_signing_key("Bearer not-a-jwt")  # the SDK refuses unreadable tokens itself
    assert names_a_signing_key("Bearer " + unsigned_token({"alg": "RS256", "kid": "k1"}))
    assert not names_a_signing_key("Bearer " + unsigned_token({"alg": "RS256"}))
    assert not names_a_signing_key("Bearer " + unsigned_token({"alg": "none"}))
    # PyJWT refuses a `kid` that is not a string when reading the header: the SDK's 401.
    assert names_a_signing_key("Bearer " + unsigned_token({"alg": "RS256", "kid": 1}))


async def test_a_body_cut_off_mid_way_logs_no_traceback(
    teams: TeamsDriver, limiter: LogLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    """Anonymous mode (the fixture), so the request gets past the token check to its body."""
    caplog.set_level(logging.DEBUG)
    port = teams.runtime.port
    for _ in range(50):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /api/messages HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"type": "message", "text": "' + b"x" * 400
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    # The bot is still up and answers the next request.
    await teams.install()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
