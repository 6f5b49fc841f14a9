"""Where /stretch answers arrive: quick private answers in the ack body, the rest (writes and
public posts) through the response_url, over one shared HTTP session, with bounded work."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from handlers.slack import commands
from tests.fakes import slack_payloads as payloads
from tests.scenario.conftest import BotDriver, eventually, key


def command_body(bot: BotDriver, text: str, name: str, *, user: str = "U0001") -> str:
    return payloads.slash_command_body(
        text=text,
        user_id=user,
        channel_id="C0001",
        team_id="T0001",
        response_url=bot.slack.response_url(name),
    )


def posted_to(bot: BotDriver, name: str) -> list[dict[str, Any]]:
    return [item.body for item in bot.slack.responses if item.name == name]


async def test_private_reads_are_answered_in_the_ack(bot: BotDriver) -> None:
    await bot.command("every 45m 09:00-17:00 weekdays")
    for text, expected in (
        ("status", "Movement breaks here: every 45 minutes"),
        ("stats", "Your breaks in this channel"),
        ("help", "talk to a doctor"),
        ("admins-only", "can change a channel's schedule"),
        ("every 5m", "Try: `/stretch every"),  # a parse error
    ):
        reply = await bot.post(command_body(bot, text, f"ack-{text}"))
        assert reply.status == 200, reply.text
        answer = payloads.ack_answer(reply.text)
        assert answer is not None, (text, reply.text)
        assert expected in answer["text"], (text, answer)
        assert answer["response_type"] == "ephemeral", answer
    # The answer came with the ack; nothing was (or will be) posted to those response_urls
    # (the handler's work for a command is over once it acked with the answer).
    assert not [item for item in bot.slack.responses if item.name.startswith("ack-")]


async def test_a_rate_limit_refusal_is_answered_in_the_ack(bot: BotDriver) -> None:
    for n in range(10):
        assert await bot.command("status", user="U0042") is not None, n
    reply = await bot.post(command_body(bot, "now", "limited", user="U0042"))
    answer = payloads.ack_answer(reply.text)
    assert answer is not None and "Easy there" in answer["text"], reply.text
    assert not bot.posts()  # `now` was refused before doing anything


async def test_writes_are_acked_empty_and_announced_through_the_response_url(
    bot: BotDriver,
) -> None:
    reply = await bot.post(command_body(bot, "every 45m 09:00-17:00 weekdays", "schedule"))
    assert reply.status == 200
    assert payloads.ack_answer(reply.text) is None, reply.text
    announced = await bot.response("schedule")
    assert announced["response_type"] == "in_channel", announced
    assert "scheduled movement breaks here" in announced["text"], announced


async def test_a_slow_database_falls_back_to_the_response_url(
    bot: BotDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the ack budget, status acks empty (well within Slack's 3 s) and its answer, from
    the same read, follows through the response_url."""
    await bot.command("every 45m 09:00-17:00 weekdays")
    monkeypatch.setattr(commands, "ACK_BUDGET_SECONDS", 0.05)
    workspaces = bot.services.tenancy.workspaces
    read = workspaces.get_with_channel
    released = asyncio.Event()
    reads = 0

    async def slow_read(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        await released.wait()
        return await read(*args, **kwargs)

    monkeypatch.setattr(workspaces, "get_with_channel", slow_read)
    reply = await bot.post(command_body(bot, "status", "slow"))
    assert reply.status == 200
    assert payloads.ack_answer(reply.text) is None, reply.text
    assert reply.elapsed < 1.0, reply
    assert not posted_to(bot, "slow")
    released.set()
    answer = await bot.response("slow")
    assert answer["response_type"] == "ephemeral", answer
    assert "Movement breaks here: every 45 minutes" in answer["text"], answer
    assert reads == 1  # the work went on after the ack; it was not run twice


async def test_response_url_answers_share_the_bots_http_session(
    bot: BotDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bolt's `respond` opens an aiohttp session (and a TCP connection) per answer; the bot
    posts every answer over the session it already holds."""
    opened: list[aiohttp.ClientSession] = []
    real = aiohttp.ClientSession

    def counting(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(aiohttp, "ClientSession", counting)
    names = [f"write{n}" for n in range(4)]
    for n, name in enumerate(names):
        text = "seated on" if n % 2 == 0 else "seated off"
        reply = await bot.post(command_body(bot, text, name, user=f"U01{n}"))
        assert reply.status == 200
    for name in names:
        assert "exercises" in (await bot.response(name))["text"]
    monkeypatch.undo()
    for session in opened:
        await session.close()
    assert opened == [], f"{len(opened)} HTTP sessions opened to answer {len(names)} commands"


async def test_a_burst_of_commands_is_acked_while_their_work_waits_its_turn(
    bot: BotDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Command work runs at most COMMAND_WORKERS at a time; the rest waits in memory and
    every request is still acked at once."""
    services = bot.services
    execute = services.commands.execute
    released = asyncio.Event()
    running = peak = 0

    async def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            await released.wait()
            return await execute(*args, **kwargs)
        finally:
            running -= 1

    monkeypatch.setattr(services.commands, "execute", held)
    burst = commands.COMMAND_WORKERS + 4
    names = [f"burst{n}" for n in range(burst)]
    replies = await asyncio.gather(
        *(
            bot.post(command_body(bot, "seated on", name, user=f"U02{n:02d}"))
            for n, name in enumerate(names)
        )
    )
    assert all(reply.status == 200 for reply in replies), replies
    assert max(reply.elapsed for reply in replies) < 1.0, replies
    await eventually(lambda: _true(running == commands.COMMAND_WORKERS), what="a full pool")
    assert peak == commands.COMMAND_WORKERS
    released.set()
    for name in names:
        assert "sitting down" in (await bot.response(name))["text"]
    assert peak == commands.COMMAND_WORKERS


async def _true(value: bool) -> bool:
    return value


async def test_status_records_a_new_workspace_and_brings_an_uninstalled_one_back(
    bot: BotDriver,
) -> None:
    """`status` reads the workspace along with the channel; a command can only come from an
    installed app, so one from a workspace marked uninstalled restarts its schedules (the
    answer shows them running), and a workspace seen for the first time is recorded."""
    workspaces = bot.services.tenancy.workspaces
    assert await workspaces.get(platform="slack", team_id="T0001") is None
    first = await bot.command("status")
    assert first is not None and "No schedule in this channel yet" in first["text"]
    assert await workspaces.get(platform="slack", team_id="T0001") is not None

    await bot.command("every 45m 09:00-17:00 weekdays")
    await bot.services.installs.workspace_uninstalled(platform="slack", team_id="T0001")
    stopped = await bot.services.storage.channels.get(key())
    assert stopped is not None and not stopped.enabled

    status = await bot.command("status")
    assert status is not None and "Movement breaks here: every 45 minutes" in status["text"]
    workspace = await workspaces.get(platform="slack", team_id="T0001")
    assert workspace is not None and workspace.installed
