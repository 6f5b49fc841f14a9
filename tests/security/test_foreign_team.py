"""Token mode serves the one workspace its bot token belongs to: a correctly signed request that
names another team gets a polite refusal and changes nothing (no post, no join, no schedule,
no break), as in OAuth mode."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tests.fakes import slack_payloads as payloads
from tests.scenario.conftest import BotDriver, eventually

EVIL = "T0EVIL"


async def _tables(bot: BotDriver) -> dict[str, int]:
    async with bot.runtime.engine.connect() as conn:
        return {
            table: int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
            for table in ("workspaces", "channels", "nudges", "breaks", "people")
        }


async def test_a_command_from_another_team_is_refused_and_changes_nothing(bot: BotDriver) -> None:
    before = await _tables(bot)
    for number, text_ in enumerate(("now", "every 15m", "optout", "seated on")):
        name = f"evil{number}"
        body = payloads.slash_command_body(
            text=text_,
            user_id="U0EVIL",
            channel_id="C0EVILONLY",
            team_id=EVIL,
            response_url=bot.slack.response_url(name),
        )
        reply = await bot.post(body)
        assert reply.status == 200
        answer = payloads.ack_answer(reply.text) or await bot.response(name)
        assert "isn't installed in your workspace" in str(answer)
    await asyncio.sleep(0.2)  # work after an ack would have started by now
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.calls_to("conversations.join") == []
    assert await _tables(bot) == before


async def test_events_and_presses_from_another_team_count_nothing(bot: BotDriver) -> None:
    await bot.command("now", wait_reply=False)
    [nudge] = await eventually(lambda: _posts(bot), what="the nudge")
    before = await _tables(bot)
    body = payloads.event_callback_body(
        payloads.reaction_added_event(
            user="U0EVIL", reaction="white_check_mark", channel="C0001", ts=nudge["ts"]
        ),
        team_id=EVIL,
    )
    assert (await bot.post(body)).status == 200
    press = payloads.block_actions_body(
        action_id="stretch_done",
        value="x",
        user_id="U0EVIL",
        channel_id="C0001",
        message_ts=nudge["ts"],
        team_id=EVIL,
        response_url=bot.slack.response_url("evil-press"),
    )
    assert (await bot.post(press)).status == 200
    await asyncio.sleep(0.2)
    assert await _tables(bot) == before
    assert await bot.breaks() == {}


async def _posts(bot: BotDriver) -> list[dict[str, object]]:
    return bot.posts()
