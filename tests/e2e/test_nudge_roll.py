"""The real `stretchbot run` (HTTP mode): a nudge shows who moved. Two people react ✅, one
presses Done, one takes their ✅ back; the nudge is edited in place (same ts) at most once per
3 s and ends with the exact roll. The nudge's menu gives a seated version only to the presser
and skips the channel's next nudge, which `/stretch status` then shows."""

from __future__ import annotations

import itertools

import pytest

from tests.e2e.conftest import (
    CHANNEL,
    TEAM,
    USER,
    BotFactory,
    SlackClient,
    eventually,
    http_mode_env,
)
from tests.fakes import slack_payloads as payloads
from tests.fakes.block_kit import message_problems
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e


def roll(message: dict | None) -> str | None:
    for block in (message or {}).get("blocks") or []:
        if block.get("block_id") == "stretch_roll":
            return str(block["elements"][0]["text"])
    return None


async def test_a_nudge_shows_who_moved_and_its_menu_works(
    slack: FakeSlack, slack_client: SlackClient, start_bot: BotFactory, sqlite_url: str
) -> None:
    bot = await start_bot(http_mode_env(slack, sqlite_url))
    reply, name = await slack_client.command(bot, "every 45m 09:00-17:00 weekdays")
    await slack_client.response(name)
    reply, name = await slack_client.command(bot, "now")
    assert reply.status == 200

    def nudge() -> dict | None:
        found = [m for m in slack.messages_in(CHANNEL) if m["text"].startswith("Movement break")]
        return found[0] if found else None

    ts = (await eventually(nudge, timeout=10, what="the nudge"))["ts"]
    await slack_client.event(
        bot,
        payloads.reaction_added_event(
            user="U0101", reaction="white_check_mark", channel=CHANNEL, ts=ts
        ),
    )
    await slack_client.event(
        bot,
        payloads.reaction_added_event(
            user="U0102", reaction="heavy_check_mark", channel=CHANNEL, ts=ts
        ),
    )
    done = payloads.block_actions_body(
        action_id="stretch_done",
        value="x",
        user_id="U0103",
        channel_id=CHANNEL,
        message_ts=ts,
        team_id=TEAM,
        response_url=slack.response_url("done"),
    )
    assert (await slack_client.post(bot, done)).status == 200
    await slack_client.event(
        bot,
        payloads.reaction_removed_event(
            user="U0102", reaction="heavy_check_mark", channel=CHANNEL, ts=ts
        ),
    )

    def final() -> str | None:
        line = roll(slack.find_message(CHANNEL, ts))
        return line if line == "✅ 2 moved: <@U0101> <@U0103>" else None

    await eventually(final, timeout=15, what="the exact roll")
    message = slack.find_message(CHANNEL, ts)
    assert message is not None and not message_problems(message)
    edits = [c for c in slack.calls if c.method == "chat.update" and c.params.get("ts") == ts]
    assert all(c.status == 200 for c in edits)
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(edits)]
    assert all(gap >= 2.9 for gap in gaps), gaps
    assert len([m for m in slack.messages_in(CHANNEL) if m["ts"] == ts]) == 1

    # The menu: a seated version only to the presser; skip the next nudge, seen in status.
    for value, response in (("seated", "seated"), ("skip", "skip")):
        body = payloads.overflow_body(
            action_id="stretch_nudge_menu",
            value=value,
            user_id=USER,
            channel_id=CHANNEL,
            message_ts=ts,
            team_id=TEAM,
            response_url=slack.response_url(response),
        )
        assert (await slack_client.post(bot, body)).status == 200
    seated = await slack_client.response("seated", timeout=10)
    assert seated["response_type"] == "ephemeral" and seated["text"].startswith("Seated version")
    skipped = await slack_client.response("skip", timeout=10)
    assert skipped["response_type"] == "in_channel"
    assert "skipped the next movement break" in skipped["text"]
    reply, name = await slack_client.command(bot, "status")
    status = await slack_client.answer(reply, name)
    assert "Skipped: " in status["text"]
