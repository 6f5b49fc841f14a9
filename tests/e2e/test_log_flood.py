"""Nobody can flood the logs (issue 9, item 11): the real `stretchbot run` process, with Slack
over HTTP and Teams with its token check on, takes 300 of each repeatable mistake and logs a
bounded number of one-line WARNINGs, never a traceback or an ERROR."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import quote

import aiohttp
import pytest

from tests.e2e.conftest import SECRET, TEAM, BotFactory, eventually, http_mode_env
from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import FakeSlack
from tests.teams.conftest import TEAMS_SETTINGS

pytestmark = pytest.mark.e2e

ROUNDS = 300
HALF_BODY = "ended before its body was complete"


async def post_half_a_body(port: int, path: str) -> None:
    """Promise 2,000 bytes, send 500, hang up."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        "Content-Length: 2000\r\n\r\n".encode()
        + b"{" * 500
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()


def mistyped_payloads() -> list[tuple[str, str]]:
    """Signed bodies of the wrong shape that make Bolt raise (body, content type)."""
    form = "application/x-www-form-urlencoded"
    return [
        # `event` is not an object: a listener's matcher indexes into it.
        (json.dumps({"type": "event_callback", "team_id": TEAM, "event": "x"}), "application/json"),
        # `authorizations` is not a list: Bolt fails building the request.
        (
            json.dumps(
                {"type": "event_callback", "team_id": TEAM, "authorizations": False, "event": {}}
            ),
            "application/json",
        ),
        # `actions` is a string where Bolt expects a list of objects.
        (
            "payload="
            + quote(
                json.dumps(
                    {
                        "type": "block_actions",
                        "team": {"id": TEAM},
                        "user": {"id": "U1"},
                        "actions": "x",
                    }
                )
            ),
            form,
        ),
    ]


def unsigned_token(header: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part({'aud': 'x', 'iss': 'https://api.botframework.com'})}.c2ln"


async def test_repeatable_mistakes_are_logged_once_a_minute_without_tracebacks(
    start_bot: BotFactory, slack: FakeSlack, sqlite_url: str, http: aiohttp.ClientSession
) -> None:
    bot = await start_bot({**http_mode_env(slack, sqlite_url), **TEAMS_SETTINGS}, wait=False)
    await bot.wait_healthy(http, timeout=40)  # the Agents SDK takes seconds to import
    startup_lines = len(bot.stderr().splitlines())

    for _ in range(ROUNDS):
        await post_half_a_body(bot.port, "/slack/events")
    await eventually(lambda: HALF_BODY in bot.stderr(), what="the half-body warning")

    shapes = mistyped_payloads()
    for n in range(ROUNDS):
        body, content_type = shapes[n % len(shapes)]
        headers = payloads.signed_headers(SECRET, body, content_type=content_type)
        async with http.post(bot.events_url, data=body.encode(), headers=headers) as response:
            assert response.status == 400, await response.text()

    activity = {"type": "message", "text": "status"}
    for n in range(ROUNDS):
        token = unsigned_token({"alg": "RS256"}) if n % 2 else "not-a-jwt"
        async with http.post(
            f"{bot.base_url}/api/messages",
            json=activity,
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert response.status == 401

    async with http.get(f"{bot.base_url}/healthz") as response:
        assert response.status == 200  # and still serving
    assert await bot.terminate() == 0, bot.describe()

    log = bot.stderr()
    assert "Traceback" not in log, bot.describe()
    assert " ERROR " not in log, bot.describe()
    flood = log.splitlines()[startup_lines:]
    warnings = [line for line in flood if " WARNING " in line]
    for words in (
        HALF_BODY,
        "Bolt could not read a signed payload",
        "payload of the wrong shape (type",
        "names no signing key",
        "JWT validation error",
    ):
        assert 1 <= sum(words in line for line in warnings) <= 2, (words, flood)
    # 1,200 hostile requests, a handful of lines (the shutdown lines included).
    assert len(flood) <= 12, "\n".join(flood)
