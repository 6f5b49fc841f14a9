"""Signed payloads whose ids have the wrong type or shape change nothing, and get the same
answer on SQLite and PostgreSQL: no person stored as a Python repr, no schedule switched by an
empty user, no DataError from NUL bytes or 4,000-character ids."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from sqlalchemy import text

from bot.app import start
from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import TEAM, BotDriver, FakeClock, bot_settings, eventually, key

BAD_IDS: list[Any] = [
    {"id": "UMAL022"},
    ["U0001"],
    "",
    None,
    "U00\x0001",
    "U" + "A" * 4000,
    "<@U0001>",
    "*bold*",
    "u0001",
    17,
]
TABLES = ("workspaces", "channels", "nudges", "breaks", "break_marks", "people")


@pytest.fixture
async def bot(slack: FakeSlack, clock: FakeClock, database_url: str) -> AsyncIterator[BotDriver]:
    runtime = await start(bot_settings(slack, database_url), clock=clock, scheduler_on=False)
    try:
        async with aiohttp.ClientSession() as http:
            yield BotDriver(runtime, slack, clock, http)
    finally:
        await runtime.stop()


async def snapshot(bot: BotDriver) -> dict[str, list[tuple[Any, ...]]]:
    async with bot.runtime.engine.connect() as conn:
        return {
            table: sorted(
                tuple(str(v) for v in row)
                for row in await conn.execute(text(f"SELECT * FROM {table}"))
            )
            for table in TABLES
        }


async def a_nudge(bot: BotDriver) -> str:
    await bot.command("every 45m")
    await bot.command("now", wait_reply=False)
    posted = await eventually(lambda: _posts(bot), what="a nudge")
    ts = str(posted[-1]["ts"])

    async def recorded() -> bool:
        nudge = await bot.services.storage.nudges.find_by_message(channel=key(), message_id=ts)
        return nudge is not None

    await eventually(recorded, what="the nudge's ts")
    return ts


async def _posts(bot: BotDriver) -> list[dict[str, Any]]:
    return bot.posts()


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
async def test_reactions_and_presses_with_bad_ids_store_nothing(bot: BotDriver, bad: Any) -> None:
    ts = await a_nudge(bot)
    before = await snapshot(bot)
    events = [
        {
            **payloads.reaction_added_event(
                user="U0001", reaction="white_check_mark", channel="C0001", ts=ts
            ),
            "user": bad,
        },
        {
            **payloads.reaction_added_event(
                user="U0001", reaction="white_check_mark", channel="C0001", ts=ts
            ),
            "item": {"type": "message", "channel": bad, "ts": ts},
        },
        {
            **payloads.reaction_added_event(
                user="U0001", reaction="white_check_mark", channel="C0001", ts=ts
            ),
            "item": {"type": "message", "channel": "C0001", "ts": bad},
        },
    ]
    for event in events:
        reply = await bot.post(payloads.event_callback_body(event, team_id=TEAM))
        assert reply.status < 500, reply
    press = payloads.block_actions_payload(
        action_id="stretch_done",
        value="x",
        user_id="U0001",
        channel_id="C0001",
        message_ts=ts,
        team_id=TEAM,
        response_url=bot.slack.response_url("press"),
    )
    press["user"] = {"id": bad}
    reply = await bot.post("payload=" + quote(json.dumps(press)))
    assert reply.status < 500, reply
    await asyncio.sleep(0.3)  # marks are written in batches a few ms after the ack
    assert await snapshot(bot) == before


@pytest.mark.parametrize("field", ["user_id", "channel_id"])
@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
async def test_commands_with_bad_ids_change_nothing(bot: BotDriver, field: str, bad: Any) -> None:
    await bot.command("every 45m")
    before = await snapshot(bot)
    for words in ("off", "every 15m", "optout", "seated on"):
        fields = payloads.slash_command_payload(
            text=words,
            team_id=TEAM,
            user_id="U0001",
            channel_id="C0001",
            response_url=bot.slack.response_url("bad"),
        )
        if bad is None:
            del fields[field]
        elif isinstance(bad, str):
            fields[field] = bad
        else:
            fields[field] = json.dumps(bad)
        reply = await bot.post(urlencode(fields))
        assert reply.status < 500, reply
        if reply.status == 200 and reply.text:
            assert "couldn't tell who sent this" in reply.text
    await asyncio.sleep(0.2)
    assert await snapshot(bot) == before
