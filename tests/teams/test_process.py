"""`stretchbot run` with Teams configured through the SDK's environment keys (a real process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import BotProcess, clean_environ, free_port, http_mode_env
from tests.fakes.slack_api import FakeSlack
from tests.teams import payloads
from tests.teams.conftest import TEAMS_SETTINGS

pytestmark = pytest.mark.e2e


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for bot in started:
        await bot.kill()


def spawnable(tmp_path: Path, env: dict[str, str], started: list[BotProcess]) -> BotProcess:
    port = free_port()
    base = {k: v for k, v in clean_environ().items() if not k.startswith("CONNECTIONS__")}
    bot = BotProcess(
        name=f"stretchbot-teams#{len(started) + 1}",
        env={**base, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "INFO", **env},
        cwd=tmp_path,
        port=port,
        stdout_path=tmp_path / f"teams{len(started)}.stdout.log",
        stderr_path=tmp_path / f"teams{len(started)}.stderr.log",
    )
    started.append(bot)
    return bot


async def test_run_serves_teams_with_a_token_check(
    slack: FakeSlack, sqlite_url: str, tmp_path: Path, processes: list[BotProcess]
) -> None:
    bot = spawnable(tmp_path, {**http_mode_env(slack, sqlite_url), **TEAMS_SETTINGS}, processes)
    await bot.spawn()
    async with aiohttp.ClientSession() as http:
        await bot.wait_healthy(http, timeout=40)
        activity = payloads.message("status", service_url="https://smba.trafficmanager.net/emea/")
        async with http.post(f"{bot.base_url}/api/messages", json=activity) as response:
            assert response.status == 401, bot.describe()
    assert await bot.terminate() == 0, bot.describe()
    assert "Microsoft Teams on POST /api/messages" in bot.stderr()


async def test_a_partial_teams_setup_stops_with_one_line(
    slack: FakeSlack, sqlite_url: str, tmp_path: Path, processes: list[BotProcess]
) -> None:
    teams = {k: v for k, v in TEAMS_SETTINGS.items() if not k.endswith("CLIENTSECRET")}
    bot = spawnable(tmp_path, {**http_mode_env(slack, sqlite_url), **teams}, processes)
    await bot.spawn()
    assert await bot.wait_exit(timeout=30) != 0
    [line] = [line for line in bot.stderr().splitlines() if line.strip()]
    assert line.startswith(
        "stretchbot: CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET is not set"
    )
