"""SIGTERM never loses acknowledged work: every /stretch command Slack got a 200 for is either
done when the process exits or its person is told to try again (and the log says so)."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlalchemy import text

from storage.engine import create_engine
from tests.e2e.conftest import BotFactory, SlackClient, http_mode_env
from tests.fakes.slack_api import FakeSlack

BURST = 300


def channels(slack: FakeSlack) -> list[str]:
    ids = [f"C{n:05d}" for n in range(BURST)]
    for channel in ids:
        slack.add_channel(channel, member=True)
    return ids


async def scheduled_channels(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT channel_id FROM channels WHERE enabled"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def burst_then_sigterm(
    start_bot: BotFactory, slack: FakeSlack, slack_client: SlackClient, sqlite_url: str
) -> tuple[set[str], dict[str, str], str]:
    """Ack a burst of schedule commands, SIGTERM at once; return the channels scheduled, the
    answers per channel and the bot's log."""
    ids = channels(slack)
    bot = await start_bot(http_mode_env(slack, sqlite_url))
    sent = await asyncio.gather(
        *(
            # one person per command: the per-person command limit is not what this tests
            slack_client.command(
                bot, "every 15m 00:00-23:59 daily tz UTC", channel=channel, user=f"U{n:05d}"
            )
            for n, channel in enumerate(ids)
        )
    )
    assert all(reply.status == 200 for reply, _name in sent)
    code = await bot.terminate(timeout=30.0)
    assert code == 0, bot.describe()
    names = {name: channel for channel, (_reply, name) in zip(ids, sent, strict=True)}
    answers = {
        names[item.name]: str(item.body.get("text", ""))
        for item in slack.responses
        if item.name in names
    }
    return await scheduled_channels(sqlite_url), answers, bot.stderr()


async def test_sigterm_finishes_every_acked_command(
    start_bot: BotFactory, slack: FakeSlack, slack_client: SlackClient, sqlite_url: str
) -> None:
    scheduled, answers, log = await burst_then_sigterm(start_bot, slack, slack_client, sqlite_url)
    assert len(scheduled) == BURST, f"{BURST - len(scheduled)} acked schedules lost\n{log}"
    assert all("scheduled movement breaks here" in answers.get(c, "") for c in scheduled)
    assert "Traceback" not in log


async def test_work_past_the_shutdown_budget_is_answered_try_again(
    start_bot: BotFactory,
    slack: FakeSlack,
    slack_client: SlackClient,
    sqlite_url: str,
    http: aiohttp.ClientSession,
) -> None:
    slack.latency = 0.5  # each command waits on Slack: 300 of them cannot finish in 8 s
    scheduled, answers, log = await burst_then_sigterm(start_bot, slack, slack_client, sqlite_url)
    told = {channel for channel, answer in answers.items() if "try it again" in answer}
    assert told, "expected some commands to be cut short by the budget"
    assert scheduled | told == {f"C{n:05d}" for n in range(BURST)}, "an acked command vanished"
    assert "answered 'try again'" in log
