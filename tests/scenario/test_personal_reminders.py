"""Personal reminders over real HTTP against the fake Slack: `/stretch me every ...` schedules
DMs for the person, Done on one counts on their stats and on no channel board, and a reminder
slides past Do Not Disturb (or a meeting status) once, or is skipped when its window closes.

The clock is injected (Monday 2026-11-23 08:00 UTC, 09:00 in U0001's Berlin); the scheduler is
driven by calling `run_due_nudges` at the times under test, never by sleeping.
"""

from __future__ import annotations

import asyncio
import collections
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.nudging import NudgeOutcome
from tests.fakes.block_kit import message_problems, view_problems
from tests.scenario.conftest import BotDriver, key
from tests.scenario.surfaces import USER, answer_in, dm, open_home, press_in_home, texts

# Berlin is UTC+1 in November: `every 1h 09:00-17:00` is due at 09:00, 10:00 ... 15:00 UTC.
TEN_BERLIN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LAST_SLOT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 16:00 Berlin
WINDOW_END = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 17:00 Berlin


def decisions(outcomes: list[NudgeOutcome]) -> list[tuple[str, str, datetime | None]]:
    return [(o.channel.channel_id, o.decision, o.slot_at) for o in outcomes]


async def set_me(bot: BotDriver, text: str = "me every 1h 09:00-17:00") -> str:
    """`/stretch <text>` in #general; returns the person's DM id."""
    answer = await bot.command(text)
    assert answer is not None
    assert answer.get("response_type") != "in_channel", answer  # only the person sees it
    assert "I'll remind you by direct message" in answer["text"], answer
    return bot.slack.surfaces.ims[USER]


def skipped_busy(bot: BotDriver) -> float:
    value: float = bot.services.metrics.nudges_skipped.labels("busy")._value.get()
    return value


async def test_me_every_schedules_private_reminders_in_the_persons_dm(bot: BotDriver) -> None:
    im = await set_me(bot)
    assert [c.params["users"] for c in bot.slack.calls_to("conversations.open")] == [USER]
    state = await bot.services.storage.channels.get(key(im))
    assert state is not None and state.personal_for == USER and state.enabled
    assert state.next_slot_at == TEN_BERLIN and not state.weekly_board
    assert state.next_board_at is None  # no board ever posts into a DM
    shown = await bot.command("me")
    assert shown is not None and "every hour" in shown["text"].lower(), shown
    assert "Next reminder" in shown["text"]

    bot.clock.set(TEN_BERLIN)
    outcomes = await bot.services.nudging.run_due_nudges()
    assert decisions(outcomes) == [(im, "posted", TEN_BERLIN)]
    [reminder] = bot.posts(im)
    assert message_problems(reminder) == []
    buttons = [b for b in reminder["blocks"] if b["type"] == "actions"]
    assert buttons, reminder  # the same Done button as a channel nudge
    assert bot.posts("C0001") == []  # nothing in the channel where it was typed

    off = await bot.command("me off")
    assert off is not None and "Personal reminders off" in off["text"]
    bot.clock.set(TEN_BERLIN + timedelta(hours=1))
    assert await bot.services.nudging.run_due_nudges() == []


async def test_done_on_a_reminder_counts_on_stats_but_on_no_channel_board(
    bot: BotDriver,
) -> None:
    bot.slack.channels["C0001"].is_member = True
    await bot.command("every 45m", channel="C0001")
    im = await set_me(bot)
    bot.clock.set(TEN_BERLIN)
    await bot.services.nudging.run_due_nudges()
    [reminder] = bot.posts(im)
    await bot.press_done(user=USER, ts=reminder["ts"], channel=im)
    assert await bot.breaks(im) == {USER: 1}
    assert await bot.breaks("C0001") == {}

    await dm(bot, "stats")
    answers = await answer_in(bot, im, count=2)
    assert "This week: 1 break" in answers[-1]["text"], answers[-1]["text"]
    assert f"<#{im}>" not in answers[-1]["text"]  # the DM is no channel of theirs

    board = await bot.command("leaderboard", channel="C0001")
    posted = [m for m in bot.posts("C0001") if "leaderboard" in m.get("text", "").lower()]
    text = (board or {}).get("text", "") + " ".join(m.get("text", "") for m in posted)
    assert f"<@{USER}>" not in text


async def test_a_reminder_slides_past_do_not_disturb_and_goes_out_once(bot: BotDriver) -> None:
    im = await set_me(bot)
    # Do Not Disturb from 09:30 to 10:20 Berlin: the 10:00 reminder waits until 10:23.
    dnd_end = TEN_BERLIN + timedelta(minutes=20)
    bot.slack.presence.set_dnd(
        USER, (TEN_BERLIN - timedelta(minutes=30)).timestamp(), dnd_end.timestamp()
    )
    bot.clock.set(TEN_BERLIN)
    [slid] = await bot.services.nudging.run_due_nudges()
    assert (slid.decision, slid.slot_at) == ("slid", TEN_BERLIN)
    assert slid.detail == (dnd_end + timedelta(minutes=3)).isoformat()
    assert bot.posts(im) == []
    shown = await bot.command("me")
    assert shown is not None and "moved to" in shown["text"], shown

    bot.clock.set(dnd_end + timedelta(minutes=1))  # still waiting
    assert await bot.services.nudging.run_due_nudges() == []
    bot.clock.set(dnd_end + timedelta(minutes=3))
    outcomes = await bot.services.nudging.run_due_nudges()
    assert decisions(outcomes) == [(im, "posted", TEN_BERLIN)]  # still the 10:00 reminder
    assert len(bot.posts(im)) == 1
    assert await bot.services.nudging.run_due_nudges() == []

    # The next slot is back on the hour.
    state = await bot.services.storage.channels.get(key(im))
    assert state is not None and state.next_slot_at == TEN_BERLIN + timedelta(hours=1)
    assert state.slid_from is None
    assert bot.services.metrics.reminders_slid._value.get() == 1


async def test_a_reminder_is_skipped_when_the_window_closes_before_they_are_free(
    bot: BotDriver,
) -> None:
    im = await set_me(bot)
    state = await bot.services.storage.channels.get(key(im))
    assert state is not None
    # Jump to the day's last slot (16:00 Berlin); DND runs past the window's end at 17:00.
    bot.clock.set(LAST_SLOT - timedelta(minutes=1))
    await bot.services.storage.channels.save(
        type(state)(**{**state.__dict__, "next_slot_at": LAST_SLOT})
    )
    bot.slack.presence.set_dnd(
        USER,
        (LAST_SLOT - timedelta(minutes=5)).timestamp(),
        (WINDOW_END + timedelta(minutes=30)).timestamp(),
    )
    bot.clock.set(LAST_SLOT)
    [skipped] = await bot.services.nudging.run_due_nudges()
    assert (skipped.decision, skipped.slot_at, skipped.detail) == (
        "skipped_busy",
        LAST_SLOT,
        "busy_dnd",
    )
    assert bot.posts(im) == []
    assert skipped_busy(bot) == 1
    state = await bot.services.storage.channels.get(key(im))
    assert state is not None and state.next_slot_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    shown = await bot.command("me")
    assert shown is not None
    assert "This week 1 reminder was skipped while you were busy." in shown["text"], shown


async def test_a_meeting_status_slides_once_then_skips(bot: BotDriver) -> None:
    im = await set_me(bot)
    bot.slack.presence.set_status(USER, "In a meeting", ":spiral_calendar_pad:")
    bot.clock.set(TEN_BERLIN)
    [slid] = await bot.services.nudging.run_due_nudges()
    assert (
        slid.decision == "slid" and slid.detail == (TEN_BERLIN + timedelta(minutes=15)).isoformat()
    )
    bot.clock.set(TEN_BERLIN + timedelta(minutes=15))  # still in the meeting: once is enough
    [skipped] = await bot.services.nudging.run_due_nudges()
    assert (skipped.decision, skipped.slot_at) == ("skipped_busy", TEN_BERLIN)
    bot.slack.presence.set_status(USER)  # the meeting is over
    bot.clock.set(TEN_BERLIN + timedelta(hours=1))
    [posted] = await bot.services.nudging.run_due_nudges()
    assert posted.decision == "posted" and len(bot.posts(im)) == 1


async def test_a_huddle_slides_and_a_failed_read_never_blocks(bot: BotDriver) -> None:
    im = await set_me(bot)
    bot.slack.presence.set_huddle(USER, True)
    bot.clock.set(TEN_BERLIN)
    [slid] = await bot.services.nudging.run_due_nudges()
    assert slid.decision == "slid"
    bot.slack.presence.set_huddle(USER, False)
    bot.clock.set(TEN_BERLIN + timedelta(minutes=15))
    [posted] = await bot.services.nudging.run_due_nudges()
    assert posted.decision == "posted"
    # Slack errors on both reads at the next slot: the reminder goes out as scheduled.
    bot.slack.fail_with_error("dnd.info", "ratelimited")
    bot.slack.fail_with_error("users.profile.get", "internal_error")
    bot.clock.set(TEN_BERLIN + timedelta(hours=1))
    [posted] = await bot.services.nudging.run_due_nudges()
    assert posted.decision == "posted" and len(bot.posts(im)) == 2


async def test_channel_nudges_post_as_scheduled_whatever_the_status(bot: BotDriver) -> None:
    bot.slack.channels["C0001"].is_member = True
    await bot.command("every 1h 09:00-17:00", channel="C0001")
    bot.slack.presence.set_dnd(USER, 0, (TEN_BERLIN + timedelta(hours=2)).timestamp())
    bot.clock.set(TEN_BERLIN)
    [posted] = await bot.services.nudging.run_due_nudges()
    assert posted.decision == "posted"
    assert bot.slack.calls_to("dnd.info") == []  # channels never read anyone's presence


async def test_presence_reads_are_cached_briefly(bot: BotDriver) -> None:
    await set_me(bot, "me every 15m 09:00-17:00")
    bot.slack.presence.set_status(USER, "on a call")
    bot.clock.set(datetime(2026, 11, 23, 8, 15, tzinfo=UTC))
    await bot.services.nudging.run_due_nudges()
    bot.clock.advance(minutes=1)
    # A second person-read inside the cache time asks Slack nothing new.
    before = len(bot.slack.calls_to("users.profile.get"))
    chat: Any = bot.services.chats["slack"]
    assert await chat.busy("T0001", USER, now=bot.clock()) is not None
    assert len(bot.slack.calls_to("users.profile.get")) == before


async def test_bad_me_input_gets_a_clear_answer_and_stores_nothing(bot: BotDriver) -> None:
    for text, words in [
        ("me every 5m", "15m to 8h"),
        ("me every 1h 17:00-09:00", ""),
        ("me every 1h tz Mars/Olympus", "timezone"),
        ("me sometimes", "Start with `every`"),
        ("me off now", "takes nothing after it"),
        ("me every " + "9" * 3000, ""),
    ]:
        answer = await bot.command(text)
        assert answer is not None, text
        assert "/stretch me every 1h" in answer["text"] or "too long" in answer["text"], answer
        assert words in answer["text"], (text, answer["text"])
    assert bot.slack.calls_to("conversations.open") == []
    assert bot.slack.surfaces.ims == {}


async def test_over_the_rate_budget_the_reminder_goes_out_unchecked(bot: BotDriver) -> None:
    im = await set_me(bot)
    presence: Any = bot.services.chats["slack"].presence
    presence.budget.per_minute.update({"dnd.info": 0, "users.profile.get": 0})
    bot.slack.presence.set_dnd(USER, 0, (TEN_BERLIN + timedelta(hours=1)).timestamp())
    bot.clock.set(TEN_BERLIN)
    async with asyncio.timeout(5):  # without the read's own timeout: 30 s and more
        [posted] = await bot.services.nudging.run_due_nudges()
    assert posted.decision == "posted" and len(bot.posts(im)) == 1
    assert bot.slack.calls_to("dnd.info") == []  # Slack was not asked past the budget


async def test_the_home_tab_starts_and_stops_personal_reminders(bot: BotDriver) -> None:
    view = await open_home(bot)
    assert view_problems(view) == []
    assert "Reminders just for you" in texts(view)
    view = await press_in_home(bot, view, "stretch_home_run_me")
    assert view_problems(view) == []
    assert "I'll remind you by direct message" in texts(view)  # the answer, on top
    assert "Your reminders by direct message" in texts(view)
    im = bot.slack.surfaces.ims[USER]
    state = await bot.services.storage.channels.get(key(im))
    assert state is not None and state.personal_for == USER and state.enabled
    assert f"<#{im}>" not in texts(view)  # not listed among their channels

    view = await press_in_home(bot, view, "stretch_home_run_me")
    assert "Personal reminders off" in texts(view)
    assert "Reminders just for you" in texts(view)
    state = await bot.services.storage.channels.get(key(im))
    assert state is not None and not state.enabled


async def test_forget_me_deletes_personal_reminders_too(bot: BotDriver) -> None:
    im = await set_me(bot)
    answer = await bot.command("forget-me confirm")
    assert answer is not None
    assert await bot.services.storage.channels.get(key(im)) is None
    bot.clock.set(TEN_BERLIN)
    assert await bot.services.nudging.run_due_nudges() == []


async def test_me_works_in_the_messages_tab(bot: BotDriver) -> None:
    im = await dm(bot, "me every 2h 08:00-12:00")
    [answer] = await answer_in(bot, im)
    assert "I'll remind you by direct message" in answer["text"]
    await dm(bot, "me")
    answers = await answer_in(bot, im, count=2)
    assert "Your personal reminders: every 2 hours" in answers[1]["text"], answers[1]["text"]


async def test_a_slow_presence_read_never_holds_the_reminder(bot: BotDriver) -> None:
    im = await set_me(bot)
    bot.services.nudging.personal.presence_timeout = 0.2
    bot.slack.rate_limit("dnd.info", times=5, retry_after=30)  # slack_sdk would wait 30 s
    bot.slack.presence.set_dnd(USER, 0, (TEN_BERLIN + timedelta(hours=1)).timestamp())
    bot.clock.set(TEN_BERLIN)
    async with asyncio.timeout(5):  # without the read's own timeout: 30 s and more
        [posted] = await bot.services.nudging.run_due_nudges()
    assert posted.decision == "posted" and len(bot.posts(im)) == 1


async def test_a_pass_of_many_reminders_reads_each_person_once(bot: BotDriver) -> None:
    """200 people's reminders due at one slot against 200 channels' nudges: the presence reads
    (two per person, 8 at a time) are the only extra cost. Prints both times (run with -s)."""
    import time as clock_time

    from bot.ports import ChannelKey, ChannelState
    from bot.schedules import ScheduleSpec

    people = 200
    spec = ScheduleSpec(interval=timedelta(hours=1), tz="UTC")  # 10:00 ... 16:00 UTC
    ten = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    presence: Any = bot.services.chats["slack"].presence
    presence.budget.per_minute.update({"dnd.info": 10_000, "users.profile.get": 10_000})
    storage = bot.services.storage
    for i in range(people):
        dm_id = bot.slack.surfaces.open_im(f"UM{i:04d}").id
        channel = f"CM{i:04d}"
        bot.slack.add_channel(channel, member=True)
        for where, person in ((dm_id, f"UM{i:04d}"), (channel, None)):
            await storage.channels.save(
                ChannelState(
                    key=ChannelKey("slack", "T0001", where),
                    spec=spec,
                    enabled=True,
                    next_slot_at=ten if person else ten + timedelta(hours=1),
                    weekly_board=False,
                    personal_for=person,
                )
            )
    for i in range(0, people, 4):  # a quarter in Do Not Disturb
        bot.slack.presence.set_dnd(f"UM{i:04d}", 0, (ten + timedelta(minutes=10)).timestamp())

    bot.clock.set(ten)
    started = clock_time.perf_counter()
    outcomes = await bot.services.nudging.run_due_nudges()
    personal_seconds = clock_time.perf_counter() - started
    seen = collections.Counter(o.decision for o in outcomes)
    assert seen == {"posted": people * 3 // 4, "slid": people // 4}, seen
    assert len(bot.slack.calls_to("dnd.info")) == people
    assert len(bot.slack.calls_to("users.profile.get")) == people * 3 // 4  # DND answers first

    bot.clock.set(ten + timedelta(minutes=13))  # a few minutes after Do Not Disturb ends
    slid = collections.Counter(o.decision for o in await bot.services.nudging.run_due_nudges())
    assert slid == {"posted": people // 4}, slid
    bot.clock.set(ten + timedelta(hours=1))  # the channels' slot (reminders' next too)
    dnd_calls = len(bot.slack.calls_to("dnd.info"))
    started = clock_time.perf_counter()
    outcomes = await bot.services.nudging.run_due_nudges()
    both_seconds = clock_time.perf_counter() - started
    assert collections.Counter(o.decision for o in outcomes)["posted"] == 2 * people
    assert len(bot.slack.calls_to("dnd.info")) == dnd_calls + people  # cache expired: read again
    print(
        f"\n{people} personal reminders due at one slot: {personal_seconds:.2f}s "
        f"({seen['slid']} slid); then {people} reminders + {people} channel nudges: "
        f"{both_seconds:.2f}s"
    )
