"""Personal reminders around meetings and focus: when a person is busy (Do Not Disturb, a
huddle, a meeting status) and where their reminder slides to, or whether it is skipped.

Pure rules and the ports they need; the scheduler (bot/nudging.py) applies them to personal
channels, and a platform that can tell (Slack: `dnd.info`, `users.profile.get`) implements
`KnowsPresence`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from bot import schedules
from bot.ports import ChannelKey, ChannelState

# What a status says when its person is in a meeting or on a call (configurable: see
# `BusyStatus`). Emoji are Slack's names with colons; words match anywhere, ignoring case.
DEFAULT_BUSY_EMOJI = (
    ":calendar:",
    ":spiral_calendar_pad:",
    ":date:",
    ":headphones:",
    ":telephone_receiver:",
    ":phone:",
    ":studio_microphone:",
)
DEFAULT_BUSY_WORDS = (
    "in a meeting",
    "meeting",
    "on a call",
    "in a call",
    "presenting",
    "focus time",
)
AFTER_FREE = timedelta(minutes=3)  # a slid reminder comes this long after Do Not Disturb ends
RETRY_BUSY = timedelta(minutes=15)  # ... or this long later when the end is not known


@dataclass(frozen=True)
class Busy:
    """Why a person should not be interrupted now, and until when if the platform says."""

    reason: Literal["dnd", "snooze", "huddle", "status"]
    until: datetime | None = None  # when they are free again (Do Not Disturb's end); None: unknown


@dataclass(frozen=True)
class BusyStatus:
    """Which status emoji and words mean "in a meeting" (configurable, with defaults)."""

    emoji: frozenset[str] = frozenset(DEFAULT_BUSY_EMOJI)
    words: tuple[str, ...] = DEFAULT_BUSY_WORDS

    @classmethod
    def of(cls, emoji: Iterable[str], words: Iterable[str]) -> BusyStatus:
        """From configured lists: emoji with or without colons, words in any case."""
        return cls(
            emoji=frozenset(f":{e.strip().strip(':').lower()}:" for e in emoji if e.strip(": ")),
            words=tuple(w.strip().lower() for w in words if w.strip()),
        )

    def says_busy(self, emoji: str | None, text: str | None) -> bool:
        """True when the status emoji or text says the person is in a meeting or on a call."""
        if emoji and emoji.strip().lower() in self.emoji:
            return True
        lowered = (text or "").lower()
        return any(word in lowered for word in self.words)


@dataclass(frozen=True)
class SlideRules:
    """How far a reminder slides: after Do Not Disturb ends, or a retry when the end is not
    known (a huddle, a meeting status)."""

    after_free: timedelta = AFTER_FREE
    retry: timedelta = RETRY_BUSY


@dataclass(frozen=True)
class ReminderDecision:
    """What to do with a due personal reminder."""

    action: Literal["post", "slide", "skip"]
    at: datetime | None = None  # "slide": when it goes out instead
    reason: str = ""  # "slide"/"skip": why (`busy_dnd`, `busy_status`, ...)


POST = ReminderDecision("post")


def window_end(spec: schedules.ScheduleSpec, slot: datetime) -> datetime:
    """The end of the window `slot` belongs to (that local day's window end), as UTC."""
    day = slot.astimezone(ZoneInfo(spec.tz)).date()
    return schedules.local_time_to_utc(day, spec.window_end, spec.tz)


def decide(
    *,
    spec: schedules.ScheduleSpec,
    slot: datetime,
    now: datetime,
    busy: Busy | None,
    already_slid: bool,
    next_slot: datetime | None,
    rules: SlideRules = SlideRules(),
) -> ReminderDecision:
    """Post the reminder of `slot` now, slide it, or skip it.

    Free (or not known: a read that failed never blocks a reminder): post. Busy: slide to a
    few minutes after they are free (`until` + `after_free`, or `now` + `retry` when the end is
    not known), once: a reminder that slid already and finds them busy again is skipped. The
    slid time must fall inside the slot's window and before the next slot (which is checked
    on its own); otherwise the reminder is skipped.
    """
    if busy is None:
        return POST
    reason = f"busy_{busy.reason}"
    if already_slid:
        return ReminderDecision("skip", reason=reason)
    target = busy.until + rules.after_free if busy.until is not None else now + rules.retry
    target = max(target, now + timedelta(minutes=1)).replace(microsecond=0)
    limit = window_end(spec, slot)
    if next_slot is not None and next_slot < limit:
        limit = next_slot
    if target < limit:
        return ReminderDecision("slide", at=target, reason=reason)
    return ReminderDecision("skip", reason=reason)


# ---- ports ----------------------------------------------------------------------------------


@runtime_checkable
class KnowsPresence(Protocol):
    """A chat platform that can tell whether a person is busy (Slack: Do Not Disturb, huddle,
    status)."""

    async def busy(self, team_id: str, user_id: str, *, now: datetime) -> Busy | None:
        """Why the person is busy at `now`, or None when free or when it cannot tell (never
        raises: a failed read must not block a reminder)."""
        ...


@runtime_checkable
class OpensDirect(Protocol):
    """A chat platform with a one-to-one conversation between the bot and a person."""

    async def open_direct(self, team_id: str, user_id: str) -> str | None:
        """The id of the bot's direct conversation with the person (opened if needed), or
        None when it cannot be opened now."""
        ...


@dataclass(frozen=True)
class ReminderFigures:
    """A person's reminder schedule and what became of its slots this week."""

    state: ChannelState | None
    skipped_this_week: int = 0


class ReminderRepository(Protocol):
    async def find(self, *, platform: str, team_id: str, person_id: str) -> ChannelState | None:
        """The person's personal reminder channel, or None if they never set one."""
        ...

    async def skipped_since(self, channel: ChannelKey, *, since: datetime) -> int:
        """How many of the channel's slots since `since` were skipped while its person was
        busy."""
        ...
