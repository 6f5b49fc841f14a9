"""Socket Mode start-up and health as an operator sees them: a refused app token stops the bot
with one line, SIGTERM while starting exits cleanly, and /healthz tells the truth about the
Socket Mode connection."""

from __future__ import annotations

import aiohttp

from tests.e2e.conftest import (
    BotFactory,
    eventually,
    http_mode_env,
    nonempty_lines,
    socket_mode_env,
)
from tests.fakes.slack_api import FakeSlack


async def test_a_refused_app_token_stops_the_bot_with_one_line(
    start_bot: BotFactory, slack: FakeSlack, sqlite_url: str
) -> None:
    slack.fail_with_error("apps.connections.open", "invalid_auth", times=100)
    bot = await start_bot(socket_mode_env(slack, sqlite_url), wait=False)
    code = await bot.wait_exit(timeout=15.0)
    assert code == 1, bot.describe()
    [line] = nonempty_lines(bot.stderr())
    assert "SLACK_APP_TOKEN" in line and "invalid_auth" in line, line
    assert len(slack.calls_to("apps.connections.open")) == 1


async def test_sigterm_while_starting_exits_cleanly(
    start_bot: BotFactory, slack: FakeSlack, sqlite_url: str
) -> None:
    slack.latency = 3.0  # auth.test is slow: the bot is still starting when SIGTERM comes
    bot = await start_bot(http_mode_env(slack, sqlite_url), wait=False)
    await eventually(
        lambda: slack.calls_to("auth.test"), timeout=15.0, what="start-up to reach Slack"
    )
    code = await bot.terminate(timeout=15.0)
    assert code == 0, bot.describe()
    assert "Traceback" not in bot.stderr(), bot.describe()


async def test_healthz_is_503_while_the_socket_is_down(
    start_bot: BotFactory, slack: FakeSlack, sqlite_url: str, http: aiohttp.ClientSession
) -> None:
    bot = await start_bot(socket_mode_env(slack, sqlite_url))
    await slack.wait_for_socket_client()

    async def health() -> int:
        async with http.get(f"{bot.base_url}/healthz") as response:
            return response.status

    assert await health() == 200
    await slack.drop_sockets(refuse_reconnects=True)
    await eventually(lambda: _is(health, 503), timeout=5.0, what="/healthz to report 503")
    slack.accept_sockets()
    await eventually(lambda: _is(health, 200), timeout=20.0, what="/healthz back to 200")


async def _is(probe: object, status: int) -> bool:
    return await probe() == status  # type: ignore[operator]
