"""The team mechanics in Slack, over real HTTP against the fake Slack: the team goal, freezes,
status with slot insights, `/stretch together` (roll call, coalesced updates, Done), and the
Friday board with its chart uploaded through Slack's current upload API."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from bot.charts import HEIGHT_PX, WIDTH_PX
from handlers.slack.together_card import DONE_ACTION_ID, JOIN_ACTION_ID
from tests.fakes import slack_payloads as payloads
from tests.scenario.conftest import TEAM, BotDriver, eventually, key
from tests.scenario.test_slack_bot import breaks_become, nudge_ts, schedule

MONDAY_10_BERLIN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def press(bot: BotDriver, action_id: str, *, user: str, ts: str) -> dict[str, Any]:
    bot._responses += 1
    name = f"r{bot._responses}"
    body = payloads.block_actions_body(
        action_id=action_id,
        value="1",
        user_id=user,
        channel_id="C0001",
        message_ts=ts,
        team_id=TEAM,
        response_url=bot.slack.response_url(name),
    )
    reply = await bot.post(body)
    assert reply.status == 200, reply.text
    return await bot.response(name)


# ---- the team goal and freezes ------------------------------------------------------------------


async def test_goal_shows_sets_and_refuses_nonsense(bot: BotDriver) -> None:
    reply = await bot.command("goal")
    assert reply is not None and reply["response_type"] == "ephemeral"
    assert "Team goal: 50%" in reply["text"]
    reply = await bot.command("goal 70%")
    assert reply is not None and reply["response_type"] == "in_channel"
    assert "70%" in reply["text"]
    state = await bot.services.storage.channels.get(key())
    assert state is not None and state.team_goal == 70
    for nonsense in ("goal 5%", "goal 150", "goal lots", "goal <!channel>"):
        reply = await bot.command(nonsense)
        assert reply is not None and reply["response_type"] == "ephemeral", nonsense
        assert "<!channel>" not in reply["text"]
    state = await bot.services.storage.channels.get(key())
    assert state is not None and state.team_goal == 70
    reply = await bot.command("goal off")
    assert reply is not None and "off" in reply["text"]
    reply = await bot.command("goal")
    assert reply is not None and "No team goal here" in reply["text"]


async def test_freezes_setting(bot: BotDriver) -> None:
    reply = await bot.command("freezes")
    assert reply is not None and "1 streak freeze per person per week" in reply["text"]
    reply = await bot.command("freezes 2")
    assert reply is not None and reply["response_type"] == "in_channel"
    state = await bot.services.storage.channels.get(key())
    assert state is not None and state.streak_freezes == 2
    reply = await bot.command("freezes 9")
    assert reply is not None and "freezes 0" in reply["text"]
    state = await bot.services.storage.channels.get(key())
    assert state is not None and state.streak_freezes == 2


async def test_status_shows_the_goal_today_freezes_and_slot_insights(bot: BotDriver) -> None:
    await schedule(bot, "every 2h 09:00-17:00 weekdays tz Europe/Berlin")
    # Monday: the 11:00 and 13:00 nudges go out; two people answer the first, nobody the second.
    first = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 11:00 Berlin
    for at in (first, first + timedelta(hours=2)):
        bot.clock.set(at)
        outcomes = await bot.services.nudging.run_due_nudges(at)
        assert [o.decision for o in outcomes] == ["posted"]
    eleven, one = (m["ts"] for m in bot.posts()[-2:])

    async def recorded() -> bool:
        nudge = await bot.services.storage.nudges.find_by_message(channel=key(), message_id=one)
        return nudge is not None

    await eventually(recorded, what="the posted nudges' ids")
    await bot.react(user="U0001", ts=eleven)
    await bot.react(user="U0002", ts=eleven)
    await breaks_become(bot, {"U0001": 1, "U0002": 1})
    bot.clock.set(first + timedelta(hours=3))
    reply = await bot.command("status")
    assert reply is not None
    text = reply["text"]
    # By hand: 2 movers today, 2 active in the fortnight, 50% of 2 = 1 needed: met.
    assert "Today: 2 of 2 recent movers have moved (the goal needs 1) ✅" in text
    assert "Team streak: 1 scheduled day in a row at the goal." in text
    assert "1 streak freeze per person per week" in text
    # 11:00 answered 1 of 1, 13:00 0 of 1, 15:00 none posted; average 1 of 2.
    assert "Nudges with a break, last 4 weeks: 11:00 100%, 13:00 0%, 15:00 – (average 50%)." in text


# ---- /stretch together ---------------------------------------------------------------------------


async def test_together_card_roll_call_and_done_credit_every_joiner_once(bot: BotDriver) -> None:
    bot.services.group_breaks.cards.interval = 0.3  # coalescing window, short for the test
    bot.clock.set(MONDAY_10_BERLIN)
    await bot.command("together 2m", wait_reply=False)
    await eventually(lambda: _async(bool(bot.posts())), what="the group break card")
    card = bot.posts()[-1]
    ts = card["ts"]
    blocks = json.dumps(card["blocks"], ensure_ascii=False)
    assert "Group break: 2 minutes together" in blocks and "<!date^" in blocks
    assert JOIN_ACTION_ID in blocks and DONE_ACTION_ID in blocks

    async def stored() -> bool:
        return (
            await bot.services.storage.group_breaks.find(channel=key(), message_id=ts) is not None
        )

    await eventually(stored, what="the card's ts")
    # Two people join in quick succession: the card is updated at once, then once more.
    first = await press(bot, JOIN_ACTION_ID, user="U0002", ts=ts)
    second = await press(bot, JOIN_ACTION_ID, user="U0003", ts=ts)
    again = await press(bot, JOIN_ACTION_ID, user="U0003", ts=ts)
    assert first["response_type"] == "ephemeral" and "You're in" in first["text"]
    assert "You're in" in second["text"] and "already in" in again["text"]

    async def roll_call_shown() -> bool:
        shown = json.dumps(bot.slack.find_message("C0001", ts) or {})
        return "*In (2):* <@U0002>, <@U0003>" in shown

    await eventually(roll_call_shown, what="the roll call on the card")
    updates = bot.slack.calls_to("chat.update")
    assert 1 <= len(updates) <= 2  # three presses, coalesced
    # A passer-by cannot finish it; a joiner cannot before the start.
    refused = await press(bot, DONE_ACTION_ID, user="U0009", ts=ts)
    assert "I'm in* first" in refused["text"]
    early = await press(bot, DONE_ACTION_ID, user="U0002", ts=ts)
    assert "We start" in early["text"]
    assert await bot.breaks() == {}
    bot.clock.advance(minutes=4)
    done = await press(bot, DONE_ACTION_ID, user="U0003", ts=ts)
    assert "each of the 2 people who joined" in done["text"]
    await breaks_become(bot, {"U0002": 1, "U0003": 1})
    twice = await press(bot, DONE_ACTION_ID, user="U0002", ts=ts)
    assert "Already done" in twice["text"]
    late = await press(bot, JOIN_ACTION_ID, user="U0004", ts=ts)
    assert "over" in late["text"]
    opted = await bot.command("optout", user="U0005")
    assert opted is not None and "opted out" in opted["text"], opted
    hidden = await press(bot, JOIN_ACTION_ID, user="U0005", ts=ts)
    assert "opted out" in hidden["text"]

    async def final() -> bool:
        shown = bot.slack.find_message("C0001", ts) or {}
        text = json.dumps(shown.get("blocks"), ensure_ascii=False)
        return "2 people moved together" in text and JOIN_ACTION_ID not in text

    await eventually(final, what="the card's final state")
    assert await bot.breaks() == {"U0002": 1, "U0003": 1}
    assert len(bot.slack.calls_to("chat.update")) <= 4


async def test_together_refuses_bad_lengths_without_posting(bot: BotDriver) -> None:
    for text in ("together 30s", "together 11m", "together soon"):
        reply = await bot.command(text)
        assert reply is not None and reply["response_type"] == "ephemeral", text
        assert "/stretch together" in reply["text"]
    assert bot.posts() == []


# ---- the Friday board and its chart ------------------------------------------------------------


async def test_friday_board_has_team_lines_and_one_chart_upload(bot: BotDriver) -> None:
    await schedule(bot)
    ts = await nudge_ts(bot)
    await bot.react(user="U0002", ts=ts)
    await breaks_become(bot, {"U0002": 1})
    friday_16_berlin = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    bot.clock.set(friday_16_berlin + timedelta(seconds=3))
    outcomes = await bot.services.boards.run_due_boards(bot.clock())
    assert [(o.decision, o.detail) for o in outcomes] == [("posted", "")]
    assert await bot.services.boards.run_due_boards(bot.clock()) == []
    board = bot.posts()[-1]
    assert "1. <@U0002> 1 break" in board["text"]  # the text board stays for screen readers
    # By hand: one mover on Monday, one active: the 50% goal met on 1 of 5 scheduled days.
    assert "Team goal (50%) met on 1 of 5 scheduled days this week" in board["text"]
    # Nobody moved last week: U0002's gain is their 1 break; one day is short of the 3 needed.
    assert "Most improved: <@U0002> (+1 break on last week)" in board["text"]
    assert "Moved on 3+ days" not in board["text"]
    [upload_call] = bot.slack.calls_to("files.getUploadURLExternal")
    [complete_call] = bot.slack.calls_to("files.completeUploadExternal")
    assert complete_call.params["channel_id"] == "C0001"
    assert bot.slack.calls_to("files.upload") == []
    [shared] = bot.slack.files_in("C0001")
    assert shared.alt_txt is not None and "Mon 23: 1" in shared.alt_txt
    assert shared.title == "Movement breaks, week of Mon 23"
    assert upload_call.params["length"] in (len(shared.data or b""), str(len(shared.data or b"")))
    image = Image.open(io.BytesIO(shared.data or b""))
    assert image.size == (WIDTH_PX, HEIGHT_PX)


async def test_a_refused_upload_keeps_the_board_and_is_not_retried(bot: BotDriver) -> None:
    await schedule(bot)
    ts = await nudge_ts(bot)
    await bot.react(user="U0002", ts=ts)
    await breaks_become(bot, {"U0002": 1})
    bot.slack.fail_with_error("files.getUploadURLExternal", "file_uploads_disabled")
    bot.clock.set(datetime(2026, 11, 27, 15, 0, 3, tzinfo=UTC))
    outcomes = await bot.services.boards.run_due_boards(bot.clock())
    assert [(o.decision, o.detail) for o in outcomes] == [("posted", "chart_failed")]
    assert await bot.services.boards.run_due_boards(bot.clock()) == []
    assert bot.slack.files_in("C0001") == []
    assert "1. <@U0002> 1 break" in bot.posts()[-1]["text"]


async def _async(value: bool) -> bool:
    return value


async def test_stats_say_how_many_freezes_the_streak_used(bot: BotDriver) -> None:
    await schedule(bot, "every 2h 09:00-17:00 weekdays tz Europe/Berlin")
    # Breaks on Monday and Wednesday; Tuesday missed (bridged by the week's freeze).
    for day in (23, 25):
        at = datetime(2026, 11, day, 10, 0, tzinfo=UTC)  # 11:00 Berlin
        bot.clock.set(at)
        outcomes = await bot.services.nudging.run_due_nudges(at)
        assert [o.decision for o in outcomes] == ["posted"]
        ts = bot.posts()[-1]["ts"]

        async def recorded(ts: str = ts) -> bool:
            found = await bot.services.storage.nudges.find_by_message(channel=key(), message_id=ts)
            return found is not None

        await eventually(recorded, what="the nudge's id")
        await bot.react(user="U0001", ts=ts)
    await breaks_become(bot, {"U0001": 2})
    reply = await bot.command("stats")
    assert reply is not None
    assert "Current streak: 2 scheduled days in a row (1 freeze used)." in reply["text"]
    await bot.command("freezes 0")
    reply = await bot.command("stats")
    assert reply is not None and "Current streak: 1 scheduled day in a row." in reply["text"]
