"""The slide rules of personal reminders (bot/reminders.py) and Slack's presence answers read
as busy or free (handlers/slack/presence.py), on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.reminders import Busy, BusyStatus, ReminderDecision, SlideRules, decide, window_end
from bot.schedules import ScheduleSpec, next_slot_after
from handlers.slack.presence import dnd_busy, profile_busy

SPEC = ScheduleSpec(
    interval=timedelta(hours=1),
    tz="Europe/Berlin",
    window_start=time(9, 0),
    window_end=time(17, 0),
)
# Monday 2026-11-23, Berlin = UTC+1: slots 09:00 ... 15:00 UTC, window end 16:00 UTC.
SLOT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LAST = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
END = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def at(
    slot: datetime, busy: Busy | None, *, slid: bool = False, now: datetime | None = None
) -> ReminderDecision:
    now = now or slot
    return decide(
        spec=SPEC,
        slot=slot,
        now=now,
        busy=busy,
        already_slid=slid,
        next_slot=next_slot_after(SPEC, now),
    )


def test_window_end_is_that_days_end_in_the_schedules_zone() -> None:
    assert window_end(SPEC, SLOT) == END
    assert window_end(SPEC, LAST) == END


def test_free_or_unknown_posts() -> None:
    assert at(SLOT, None).action == "post"


def test_dnd_ending_inside_the_window_slides_once_to_a_few_minutes_after() -> None:
    decision = at(SLOT, Busy("dnd", SLOT + timedelta(minutes=20)))
    assert (decision.action, decision.at, decision.reason) == (
        "slide",
        SLOT + timedelta(minutes=23),
        "busy_dnd",
    )
    # At the slid time they are busy again: skipped, never slid twice.
    again = at(SLOT, Busy("dnd", SLOT + timedelta(minutes=50)), slid=True, now=decision.at)
    assert (again.action, again.reason) == ("skip", "busy_dnd")


def test_dnd_ending_after_the_window_skips() -> None:
    decision = at(LAST, Busy("dnd", END + timedelta(minutes=30)))
    assert (decision.action, decision.at) == ("skip", None)


def test_dnd_ending_just_before_the_window_end_but_too_late_for_the_margin_skips() -> None:
    assert at(LAST, Busy("dnd", END - timedelta(minutes=2))).action == "skip"
    assert at(LAST, Busy("dnd", END - timedelta(minutes=4))).action == "slide"


def test_a_slide_never_passes_the_next_slot_which_is_checked_on_its_own() -> None:
    decision = at(SLOT, Busy("dnd", SLOT + timedelta(minutes=59)))
    assert decision.action == "skip"


def test_status_or_huddle_without_an_end_retries_after_the_retry_time() -> None:
    decision = at(SLOT, Busy("status"))
    assert (decision.action, decision.at) == ("slide", SLOT + timedelta(minutes=15))
    shorter = decide(
        spec=SPEC,
        slot=SLOT,
        now=SLOT,
        busy=Busy("huddle"),
        already_slid=False,
        next_slot=None,
        rules=SlideRules(retry=timedelta(minutes=5)),
    )
    assert shorter.at == SLOT + timedelta(minutes=5)
    assert at(LAST + timedelta(minutes=50), Busy("huddle")).action == "skip"


def test_an_end_already_past_still_slides_to_the_future() -> None:
    decision = at(SLOT, Busy("dnd", SLOT - timedelta(minutes=10)), now=SLOT + timedelta(seconds=5))
    assert decision.action == "slide" and decision.at is not None
    assert decision.at > SLOT + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("emoji", "text", "busy"),
    [
        (":calendar:", "", True),
        (":spiral_calendar_pad:", "Lunch", True),
        (":headphones:", "", True),
        ("", "In a meeting", True),
        ("", "on a CALL with Ana", True),
        (":palm_tree:", "Vacationing", False),
        ("", "", False),
    ],
)
def test_busy_status_defaults(emoji: str, text: str, busy: bool) -> None:
    assert BusyStatus().says_busy(emoji, text) is busy


def test_busy_status_is_configurable() -> None:
    status = BusyStatus.of(["deep_work", ":rocket:"], ["Heads down"])
    assert status.says_busy(":deep_work:", "") and status.says_busy(":ROCKET:", "")
    assert status.says_busy("", "heads down till 3")
    assert not status.says_busy(":calendar:", "in a meeting")


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TS = NOW.timestamp()


def test_dnd_info_inside_the_scheduled_window_is_busy_until_its_end() -> None:
    answer = {"dnd_enabled": True, "next_dnd_start_ts": TS - 60, "next_dnd_end_ts": TS + 600}
    assert dnd_busy(answer, NOW) == Busy("dnd", NOW + timedelta(seconds=600))


def test_dnd_info_outside_the_window_or_disabled_is_free() -> None:
    later = {"dnd_enabled": True, "next_dnd_start_ts": TS + 60, "next_dnd_end_ts": TS + 600}
    assert dnd_busy(later, NOW) is None
    off = {"dnd_enabled": False, "next_dnd_start_ts": TS - 60, "next_dnd_end_ts": TS + 600}
    assert dnd_busy(off, NOW) is None
    assert dnd_busy({"ok": True}, NOW) is None
    assert dnd_busy({"dnd_enabled": True, "next_dnd_start_ts": "x"}, NOW) is None


def test_a_snooze_is_busy_until_the_later_end() -> None:
    answer = {
        "dnd_enabled": True,
        "next_dnd_start_ts": TS - 60,
        "next_dnd_end_ts": TS + 600,
        "snooze_enabled": True,
        "snooze_endtime": TS + 1200,
    }
    assert dnd_busy(answer, NOW) == Busy("snooze", NOW + timedelta(seconds=1200))


def test_profile_huddle_and_meeting_status() -> None:
    status = BusyStatus()
    assert profile_busy({"huddle_state": "in_a_huddle"}, NOW, status) == Busy("huddle")
    assert profile_busy({"huddle_state": "default_unset"}, NOW, status) is None
    meeting = {"status_emoji": ":calendar:", "status_text": "", "status_expiration": 0}
    assert profile_busy(meeting, NOW, status) == Busy("status")
    expired = {**meeting, "status_expiration": int(TS) - 60}
    assert profile_busy(expired, NOW, status) is None


def test_busy_status_and_retry_come_from_settings() -> None:
    from bot.config import load_settings

    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "signing"}
    default = load_settings(base, env_file=None).busy_status()
    assert default == BusyStatus()
    custom = load_settings(
        {**base, "BUSY_STATUS_EMOJI": "rocket, :deep_work:", "BUSY_STATUS_WORDS": "Heads down"},
        env_file=None,
    ).busy_status()
    assert custom.says_busy(":rocket:", "") and custom.says_busy("", "heads down")
    assert not custom.says_busy(":calendar:", "in a meeting")
    assert load_settings({**base, "BUSY_STATUS_WORDS": "x"}, env_file=None).busy_status().emoji
    with pytest.raises(Exception, match="REMINDER_RETRY_MINUTES"):
        load_settings({**base, "REMINDER_RETRY_MINUTES": "0"}, env_file=None)
