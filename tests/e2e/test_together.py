"""End to end: the real `stretchbot run` posts a `/stretch together` card, two people join,
one presses Done, and both are credited a break (once each).

The process keeps real time and the card's start is a minute ahead; instead of waiting for it,
the test moves the stored start into the past (the bot reads it on every press), so nothing
sleeps for a schedule.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp

from handlers.slack.together_card import DONE_ACTION_ID, JOIN_ACTION_ID
from tests.e2e.conftest import (
    CHANNEL,
    TEAM,
    BotFactory,
    BotProcess,
    SlackClient,
    eventually,
    http_mode_env,
)
from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import FakeSlack


async def press(
    client: SlackClient, bot: BotProcess, action_id: str, *, user: str, ts: str
) -> dict[str, Any]:
    name = client.next_response_name()
    body = payloads.block_actions_body(
        action_id=action_id,
        value="1",
        user_id=user,
        channel_id=CHANNEL,
        message_ts=ts,
        team_id=TEAM,
        response_url=client.slack.response_url(name),
    )
    reply = await client.post(bot, body)
    assert reply.status == 200, reply.text
    return await client.response(name)


def breaks(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT person_id, count(*) FROM breaks GROUP BY person_id"))


async def test_together_two_joiners_done_both_credited(
    start_bot: BotFactory,
    slack: FakeSlack,
    slack_client: SlackClient,
    sqlite_url: str,
    http: aiohttp.ClientSession,
) -> None:
    bot = await start_bot(http_mode_env(slack, sqlite_url))
    db_path = Path(sqlite_url.split(":///", 1)[1])
    reply, _name = await slack_client.command(bot, "together 2m")
    assert reply.status == 200
    card = await eventually(
        lambda: slack.messages_in(CHANNEL)[-1] if slack.messages_in(CHANNEL) else None,
        what="the group break card",
    )
    ts = card["ts"]
    assert "Group break: 2 minutes together" in json.dumps(card["blocks"])

    def stored() -> bool:
        with sqlite3.connect(db_path) as db:
            return (
                db.execute(
                    "SELECT count(*) FROM group_breaks WHERE message_id = ?", (ts,)
                ).fetchone()[0]
                == 1
            )

    await eventually(stored, what="the card's ts stored")
    for user in ("U0002", "U0003"):
        answer = await press(slack_client, bot, JOIN_ACTION_ID, user=user, ts=ts)
        assert "You're in" in answer["text"]

    def roll_call() -> bool:
        shown = json.dumps(slack.find_message(CHANNEL, ts) or {})
        return "*In (2):* <@U0002>, <@U0003>" in shown

    await eventually(roll_call, timeout=10, what="the roll call on the card")
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE group_breaks SET starts_at = '2000-01-01 00:00:00.000000'")
    done = await press(slack_client, bot, DONE_ACTION_ID, user="U0002", ts=ts)
    assert "each of the 2 people who joined" in done["text"]
    await eventually(lambda: breaks(db_path) == {"U0002": 1, "U0003": 1}, what="both credited")
    again = await press(slack_client, bot, DONE_ACTION_ID, user="U0003", ts=ts)
    assert "Already done" in again["text"]

    def final() -> bool:
        blocks = json.dumps((slack.find_message(CHANNEL, ts) or {}).get("blocks"))
        return "2 people moved together" in blocks and JOIN_ACTION_ID not in blocks

    await eventually(final, timeout=10, what="the card's final state")
    assert breaks(db_path) == {"U0002": 1, "U0003": 1}
    assert await bot.terminate() == 0
