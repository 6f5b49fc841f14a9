"""The real Bolt app over HTTP with Slack-signed payloads, against the fake Slack Web API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.app import StartupError, start
from bot.commands import REGISTRY
from bot.schedules import next_slots
from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import (
    BotDriver,
    FakeClock,
    assert_no_repeat_of_the_last_three,
    blocks_text,
    bot_settings,
    eventually,
    key,
)


async def schedule(bot: BotDriver, text: str = "every 45m 09:00-17:00 weekdays", **kw: str) -> dict:
    reply = await bot.command(text, **kw)
    assert reply is not None
    return reply


async def post_due(bot: BotDriver, at: datetime) -> list:
    bot.clock.set(at)
    return await bot.services.nudging.run_due_nudges(at)


# ---- /stretch now --------------------------------------------------------------------------


async def test_stretch_posts_a_nudge_joining_a_public_channel(bot: BotDriver) -> None:
    await bot.command("", wait_reply=False)
    await bot.slack.wait_for("chat.postMessage", count=2)  # not_in_channel, join, retry
    assert [c.method for c in bot.slack.calls if c.method not in ("auth.test", "users.info")] == [
        "chat.postMessage",
        "conversations.join",
        "chat.postMessage",
    ]
    [message] = bot.posts()
    text = blocks_text(message)
    assert "Movement break" in text
    assert '"action_id": "stretch_done"' in text
    assert "React with ✅" in text
    assert "<!channel>" not in text and "<!here>" not in text


async def test_command_is_acked_fast_even_when_slack_is_slow(bot: BotDriver) -> None:
    bot.slack.latency = 1.0
    body = payloads.slash_command_body(
        text="now", team_id="T0001", channel_id="C0001", response_url=bot.slack.response_url("slow")
    )
    reply = await bot.post(body)
    assert reply.status == 200
    assert reply.elapsed < 0.9  # the ack does not wait for Slack API calls
    await bot.slack.wait_for("chat.postMessage", count=2, timeout=10)


async def test_now_in_a_private_channel_the_bot_is_not_in_says_to_invite(bot: BotDriver) -> None:
    bot.slack.add_channel("G0001", name="secret", private=True)
    reply = await bot.command("now", channel="G0001")
    assert reply is not None
    assert "/invite @stretchbot" in reply["text"]
    assert reply["response_type"] == "ephemeral"


async def test_rate_limited_post_is_retried_after_retry_after(bot: BotDriver) -> None:
    bot.slack.add_channel("C0009", member=True)
    bot.slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    await bot.command("now", channel="C0009", wait_reply=False)
    calls = await bot.slack.wait_for("chat.postMessage", count=2, timeout=10)
    assert [c.status for c in calls] == [429, 200]
    assert len(bot.posts("C0009")) == 1


async def test_server_errors_are_retried(bot: BotDriver) -> None:
    bot.slack.add_channel("C0009", member=True)
    bot.slack.fail_with_status("chat.postMessage", status=503, times=1)
    await bot.command("now", channel="C0009", wait_reply=False)
    await bot.slack.wait_for("chat.postMessage", count=2, timeout=10)
    assert len(bot.posts("C0009")) == 1


# ---- scheduling -----------------------------------------------------------------------------


async def test_schedule_uses_the_typing_persons_timezone_and_joins(bot: BotDriver) -> None:
    reply = await schedule(bot)
    assert reply["response_type"] == "in_channel"
    assert "every 45 minutes" in reply["text"] and "Europe/Berlin" in reply["text"]
    assert bot.slack.calls_to("conversations.join")
    assert bot.slack.calls_to("users.info")[0].params["user"] == "U0001"


async def test_status_shows_the_same_slots_as_preview(bot: BotDriver) -> None:
    await schedule(bot, "every 90m 10:00-16:00 mon,wed,fri tz America/Chicago")
    status = await bot.command("status")
    assert status is not None and status["response_type"] == "ephemeral"
    command = REGISTRY.parse("every 90m 10:00-16:00 mon,wed,fri tz America/Chicago")
    spec = command.to_spec("UTC")  # type: ignore[union-attr]
    expected = next_slots(spec, bot.clock(), 5)
    assert "Next nudges:" in status["text"]
    zone = ZoneInfo(spec.tz)
    shown = status["text"].split("Next nudges:", 1)[1]
    for slot in expected:
        assert slot.astimezone(zone).strftime("%H:%M") in shown


async def test_scheduled_slot_is_posted_once(bot: BotDriver) -> None:
    await schedule(bot)  # Berlin: Monday 09:00 local is 08:00 UTC; first slot 09:45 local
    first = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)
    assert await post_due(bot, first - timedelta(seconds=1)) == []
    outcomes = await post_due(bot, first + timedelta(seconds=5))
    assert [o.decision for o in outcomes] == ["posted"]
    assert await post_due(bot, first + timedelta(seconds=10)) == []
    assert len(bot.posts()) == 1
    # the next one comes 45 minutes later
    outcomes = await post_due(bot, first + timedelta(minutes=45))
    assert [o.decision for o in outcomes] == ["posted"]
    assert len(bot.posts()) == 2


async def test_picks_never_repeat_the_last_three(bot: BotDriver) -> None:
    await schedule(bot, "every 15m 09:00-17:00 daily")
    at = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
    for _ in range(12):
        await post_due(bot, at)
        at += timedelta(minutes=15)
    assert_no_repeat_of_the_last_three(bot, 12)


async def test_seated_only_channel_gets_seated_exercises(bot: BotDriver) -> None:
    from bot.exercises import find_exercise

    await schedule(bot, "every 15m 09:00-17:00 daily")
    await bot.command("seated on")
    at = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
    for _ in range(8):
        await post_due(bot, at)
        at += timedelta(minutes=15)
    keys = [
        b["elements"][0]["value"]
        for m in bot.posts()
        for b in m["blocks"]
        if b["type"] == "actions"
    ]
    assert {find_exercise(k).position for k in keys} == {"seated"}  # type: ignore[union-attr]


async def test_missed_slot_within_grace_is_posted_late_once_and_older_dropped(
    bot: BotDriver,
) -> None:
    await schedule(bot)
    first = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)
    outcomes = await post_due(bot, first + timedelta(minutes=9))  # within the 10 minute grace
    assert [o.decision for o in outcomes] == ["posted"]
    second = first + timedelta(minutes=45)
    outcomes = await post_due(bot, second + timedelta(minutes=30))  # too late: dropped
    assert [o.decision for o in outcomes] == ["skipped_stale"]
    assert len(bot.posts()) == 1
    third = second + timedelta(minutes=45)
    outcomes = await post_due(bot, third)
    assert [o.decision for o in outcomes] == ["posted"]


async def test_pause_resume_and_off(bot: BotDriver) -> None:
    await schedule(bot)
    reply = await bot.command("pause 2h")
    assert (
        reply is not None and "paused" in reply["text"] and reply["response_type"] == "in_channel"
    )
    first = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)
    outcomes = await post_due(bot, first)
    assert [o.decision for o in outcomes] == ["skipped_paused"]
    outcomes = await post_due(
        bot, first + timedelta(minutes=90)
    )  # 11:15 Berlin, pause over at 11:00
    assert [o.decision for o in outcomes] == ["posted"]
    await bot.command("pause")
    status = await bot.command("status")
    assert status is not None and "resume" in status["text"]
    await bot.command("resume")
    outcomes = await post_due(bot, first + timedelta(minutes=135))
    assert [o.decision for o in outcomes] == ["posted"]
    off = await bot.command("off")
    assert off is not None and "off" in off["text"]
    assert await post_due(bot, first + timedelta(minutes=180)) == []
    status = await bot.command("status")
    assert status is not None and "off" in status["text"]


async def test_one_failing_channel_never_stops_the_others(bot: BotDriver) -> None:
    for channel in ("C0001", "C0002", "C0003"):
        bot.slack.add_channel(channel, name=channel.lower())
        await schedule(bot, channel=channel)
    bot.slack.channels["C0002"].is_archived = True
    bot.slack.channels.pop("C0003")  # deleted
    outcomes = await post_due(bot, datetime(2026, 11, 23, 8, 45, tzinfo=UTC))
    decisions = {o.channel.channel_id: o.decision for o in outcomes}
    assert decisions == {"C0001": "posted", "C0002": "failed", "C0003": "failed"}
    for channel in ("C0002", "C0003"):
        state = await bot.services.storage.channels.get(key(channel))
        assert state is not None and not state.enabled  # archived / deleted: schedule turned off
    outcomes = await post_due(bot, datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    assert {o.channel.channel_id for o in outcomes} == {"C0001"}


async def test_channel_archive_event_turns_the_schedule_off(bot: BotDriver) -> None:
    await schedule(bot)
    await bot.event(payloads.channel_archive_event(channel="C0001"))

    async def disabled() -> bool:
        state = await bot.services.storage.channels.get(key())
        return state is not None and not state.enabled

    await eventually(disabled, what="the schedule to be turned off")


async def test_schedule_in_private_channel_asks_for_an_invite(bot: BotDriver) -> None:
    bot.slack.add_channel("G0002", name="private", private=True)
    reply = await schedule(bot, channel="G0002")
    assert "/invite @stretchbot" in reply["text"]


async def test_bad_command_text_gets_a_friendly_usage(bot: BotDriver) -> None:
    for text in (
        "every 5m",
        "evry 45m",
        "pause until blursday",
        "leaderboard yesterday",
        "x" * 3000,
    ):
        reply = await bot.command(text)
        assert reply is not None and reply["response_type"] == "ephemeral"
        assert "/stretch help" in reply["text"]


async def test_help_has_the_health_note(bot: BotDriver) -> None:
    reply = await bot.command("help")
    assert reply is not None and "doctor" in reply["text"] and "/stretch every" in reply["text"]


# ---- breaks -------------------------------------------------------------------------------------


async def nudge_ts(bot: BotDriver, channel: str = "C0001") -> str:
    before = len(bot.posts(channel))
    await bot.command("now", channel=channel, wait_reply=False)

    async def posted() -> bool:
        return len(bot.posts(channel)) > before

    await eventually(posted, what="a nudge")

    async def recorded() -> bool:
        nudge = await bot.services.storage.nudges.find_by_message(
            channel=key(channel), message_id=bot.posts(channel)[-1]["ts"]
        )
        return nudge is not None

    await eventually(recorded, what="the nudge to be stored")
    return str(bot.posts(channel)[-1]["ts"])


async def breaks_become(bot: BotDriver, expected: dict[str, int]) -> None:
    async def matches() -> bool:
        return await bot.breaks() == expected

    try:
        await eventually(matches, timeout=3, what=f"breaks == {expected}")
    except AssertionError:
        raise AssertionError(f"breaks are {await bot.breaks()}, expected {expected}") from None


async def test_reactions_log_once_and_removal_takes_back(bot: BotDriver) -> None:
    ts = await nudge_ts(bot)
    await bot.react(user="U0001", ts=ts, event_id="Ev1")
    await breaks_become(bot, {"U0001": 1})
    await bot.react(user="U0001", ts=ts, event_id="Ev1", retry_num=1)  # Slack's retry
    await bot.react(user="U0001", ts=ts, event_id="Ev2")  # a repeat delivery
    await bot.react(user="U0001", ts=ts, reaction="heavy_check_mark")
    await bot.react(user="U0002", ts=ts, reaction="ballot_box_with_check")
    await breaks_become(bot, {"U0001": 1, "U0002": 1})
    await bot.react(user="U0001", ts=ts, removed=True)  # heavy_check_mark still there
    await breaks_become(bot, {"U0001": 1, "U0002": 1})
    await bot.react(user="U0001", ts=ts, reaction="heavy_check_mark", removed=True)
    await breaks_become(bot, {"U0002": 1})


async def test_reactions_that_do_not_count(bot: BotDriver) -> None:
    ts = await nudge_ts(bot)
    await bot.react(user="UBOT", ts=ts)  # the bot's own reaction
    await bot.react(user="U0001", ts=ts, reaction="tada")  # other emoji
    await bot.react(user="U0001", ts="1600000000.000001")  # not a nudge
    await bot.react(user="U0003", ts=ts, reaction="white_check_mark::skin-tone-3")  # counts
    await breaks_become(bot, {"U0003": 1})


async def test_done_button_logs_a_break_once(bot: BotDriver) -> None:
    ts = await nudge_ts(bot)
    first = await bot.press_done(user="U0001", ts=ts)
    assert "logged" in first["text"] and first["response_type"] == "ephemeral"
    second = await bot.press_done(user="U0001", ts=ts)
    assert "Already counted" in second["text"]
    await bot.react(user="U0001", ts=ts)
    await bot.react(user="U0001", ts=ts, removed=True)  # the button press still counts
    await breaks_become(bot, {"U0001": 1})


# ---- leaderboards --------------------------------------------------------------------------


async def test_leaderboard_ranks_by_breaks_then_streak_with_shared_ranks(bot: BotDriver) -> None:
    first, second = await nudge_ts(bot), await nudge_ts(bot)
    for user in ("U0001", "U0002"):
        for ts in (first, second):
            await bot.react(user=user, ts=ts)
    await bot.react(user="U0003", ts=first)
    await breaks_become(bot, {"U0001": 2, "U0002": 2, "U0003": 1})
    posted_before = len(bot.posts())
    await bot.command("leaderboard", wait_reply=False)

    async def board() -> bool:
        return len(bot.posts()) > posted_before

    await eventually(board, what="the leaderboard")
    text = bot.posts()[-1]["text"]
    assert "1. <@U0001> 2 breaks, 1-day streak" in text
    assert "1. <@U0002> 2 breaks, 1-day streak" in text
    assert "3. <@U0003> 1 break, 1-day streak" in text


async def test_empty_leaderboard_is_a_private_hint(bot: BotDriver) -> None:
    reply = await bot.command("leaderboard month")
    assert reply is not None and reply["response_type"] == "ephemeral"
    assert "No breaks" in reply["text"]


async def test_stats_are_private(bot: BotDriver) -> None:
    ts = await nudge_ts(bot)
    await bot.react(user="U0001", ts=ts)
    await breaks_become(bot, {"U0001": 1})
    reply = await bot.command("stats")
    assert reply is not None and reply["response_type"] == "ephemeral"
    assert "1 break this week" in reply["text"]


async def test_weekly_board_posts_itself_once_on_friday(bot: BotDriver) -> None:
    await schedule(bot)
    ts = await nudge_ts(bot)
    await bot.react(user="U0002", ts=ts)
    await breaks_become(bot, {"U0002": 1})
    friday_16_berlin = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    bot.clock.set(friday_16_berlin - timedelta(seconds=1))
    assert await bot.services.boards.run_due_boards(bot.clock()) == []
    bot.clock.set(friday_16_berlin + timedelta(seconds=3))
    outcomes = await bot.services.boards.run_due_boards(bot.clock())
    assert [o.decision for o in outcomes] == ["posted"]
    assert await bot.services.boards.run_due_boards(bot.clock()) == []
    assert "1. <@U0002> 1 break" in bot.posts()[-1]["text"]
    reply = await bot.command("leaderboard weekly off")
    assert reply is not None and "off" in reply["text"]
    state = await bot.services.storage.channels.get(key())
    assert state is not None and state.next_board_at is None


# ---- the HTTP edge -------------------------------------------------------------------------


async def test_bad_signatures_are_rejected(bot: BotDriver) -> None:
    body = payloads.slash_command_body(text="now")
    assert (await bot.post(body, secret="wrong-secret")).status == 401
    old = int(datetime.now(UTC).timestamp()) - 3600
    assert (await bot.post(body, timestamp=old)).status == 401  # replayed
    assert (
        await bot.post(body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    ).status == 401
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_malformed_signed_bodies_get_4xx_and_the_bot_goes_on(bot: BotDriver) -> None:
    bad = [
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback", "event": ', "application/json"),
        ("[1, 2]", "application/json"),
        ("hello", "text/plain"),
        ("a=1&b=2", "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ]
    for body, content_type in bad:
        reply = await bot.post(body, content_type=content_type)
        assert 400 <= reply.status < 500, (body, reply.status, reply.text)
    async with bot.http.get(bot.url.replace("/slack/events", "/healthz")) as resp:
        assert resp.status == 200
    await nudge_ts(bot)  # still serving


async def test_weird_but_valid_payloads_never_get_5xx(bot: BotDriver) -> None:
    odd = [
        json.dumps(
            {"type": "event_callback", "team_id": "T0001", "event": {"type": "reaction_added"}}
        ),
        json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0001",
                "event": {
                    "type": "reaction_added",
                    "user": "U1",
                    "reaction": "white_check_mark",
                    "item": {"type": "message"},
                },
            }
        ),
        json.dumps({"type": "block_actions", "team": {"id": "T0001"}, "actions": []}),
    ]
    for body in odd:
        reply = await bot.post(body, content_type="application/json")
        assert reply.status < 500, (body, reply.status)
    form = "payload=" + aiohttp.helpers.quote(
        json.dumps(
            {
                "type": "block_actions",
                "team": {"id": "T0001"},
                "user": {"id": "U1"},
                "actions": [{"action_id": "stretch_done"}],
            }
        )
    )
    reply = await bot.post(form, content_type="application/x-www-form-urlencoded")
    assert reply.status < 500


async def test_url_verification_challenge(bot: BotDriver) -> None:
    reply = await bot.post(
        payloads.url_verification_body("abc123"), content_type="application/json"
    )
    assert reply.status == 200 and "abc123" in reply.text


# ---- restart --------------------------------------------------------------------------------


async def test_restart_keeps_schedules_nudges_and_breaks(
    slack: FakeSlack, clock: FakeClock, sqlite_url: str
) -> None:
    runtime = await start(bot_settings(slack, sqlite_url), clock=clock, scheduler_on=False)
    async with aiohttp.ClientSession() as http:
        bot = BotDriver(runtime, slack, clock, http)
        await schedule(bot)
        ts = await nudge_ts(bot)
        await bot.react(user="U0001", ts=ts)
        await breaks_become(bot, {"U0001": 1})
    await runtime.stop()

    runtime = await start(bot_settings(slack, sqlite_url), clock=clock, scheduler_on=False)
    try:
        async with aiohttp.ClientSession() as http:
            bot = BotDriver(runtime, slack, clock, http)
            bot._responses = 100
            status = await bot.command("status")
            assert status is not None and "every 45 minutes" in status["text"]
            assert await bot.breaks() == {"U0001": 1}
            await bot.react(user="U0002", ts=ts)  # a nudge from before the restart still counts
            await breaks_become(bot, {"U0001": 1, "U0002": 1})
            outcomes = await post_due(bot, datetime(2026, 11, 23, 8, 45, tzinfo=UTC))
            assert [o.decision for o in outcomes] == ["posted"]
    finally:
        await runtime.stop()


async def test_metrics_count_posts_429s_breaks_and_lateness(bot: BotDriver) -> None:
    bot.slack.add_channel("C0009", member=True)
    bot.slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    await schedule(bot, channel="C0009")
    outcomes = await post_due(bot, datetime(2026, 11, 23, 8, 45, 7, tzinfo=UTC))
    assert [o.decision for o in outcomes] == ["posted"]
    ts = bot.posts("C0009")[-1]["ts"]
    await bot.react(user="U0001", ts=ts, channel="C0009")

    async def metrics() -> str:
        async with bot.http.get(bot.url.replace("/slack/events", "/metrics")) as resp:
            assert resp.status == 200
            return await resp.text()

    async def break_counted() -> bool:
        return 'stretchbot_breaks_logged_total{platform="slack"} 1.0' in await metrics()

    await eventually(break_counted, what="the break in /metrics")
    text = await metrics()
    assert 'stretchbot_nudges_posted_total{kind="scheduled",platform="slack"} 1.0' in text
    assert (
        'stretchbot_chat_api_rate_limited_total{method="chat.postMessage",platform="slack"} 1.0'
        in text
    )
    assert "stretchbot_slot_lateness_seconds_count 1.0" in text
    assert 'stretchbot_slot_lateness_seconds_bucket{le="10.0"} 1.0' in text
    assert 'stretchbot_chat_api_seconds_count{method="chat.postMessage",platform="slack"}' in text


async def test_a_second_bot_on_the_same_sqlite_file_is_refused(
    bot: BotDriver, slack: FakeSlack, clock: FakeClock, sqlite_url: str
) -> None:
    with pytest.raises(StartupError, match="another stretchbot process is already running"):
        await start(bot_settings(slack, sqlite_url), clock=clock, scheduler_on=False)
    await nudge_ts(bot)  # the first one is unharmed


async def test_status_preview_and_the_bot_agree_on_a_week_of_slots(
    bot: BotDriver, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    text = "every 90m 10:00-16:00 weekdays tz America/New_York holidays US"
    await schedule(bot, text)
    assert main(["preview", text, "--start", "2026-11-23", "--days", "5"]) == 0
    previewed = [datetime.fromisoformat(line) for line in capsys.readouterr().out.split()]
    assert len(previewed) == 12  # Mon, Tue, Wed, Fri x 3 slots; Thanksgiving is off

    status = await bot.command("status")
    assert status is not None
    shown = status["text"].split("Next nudges:", 1)[1]
    zone = ZoneInfo("America/New_York")
    for slot in previewed[:5]:
        assert slot.astimezone(zone).strftime("%H:%M") in shown

    posted = []
    end = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
    while True:
        state = await bot.services.storage.channels.get(key())
        if state.next_slot_at is None or state.next_slot_at >= end:
            break
        outcomes = await post_due(bot, state.next_slot_at + timedelta(seconds=2))
        posted += [o.slot_at for o in outcomes if o.decision == "posted"]
    assert posted == previewed
    assert len(bot.posts()) == 12
