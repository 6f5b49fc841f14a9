"""The ports between the core and the outside: domain records, repositories, the Chat protocol.

Services depend on these protocols only; `storage/` implements the repositories and each
platform under `handlers/` implements `Chat`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from bot.exercises import Exercise
from bot.leaderboard import BoardEntry
from bot.schedules import ScheduleSpec

# ---- domain records -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelKey:
    """A channel on one platform: Slack (team id, channel id) or Teams (tenant:team, conversation)."""

    platform: str  # "slack" | "teams"
    team_id: str
    channel_id: str


@dataclass
class ChannelState:
    """Everything the bot keeps per channel."""

    key: ChannelKey
    spec: ScheduleSpec | None = None  # the schedule, kept when turned off so `resume` can restore
    enabled: bool = False  # scheduled nudges on
    paused: bool = False  # paused; see paused_until
    paused_until: datetime | None = None  # None with paused=True: until resumed
    seated_only: bool = False
    weekly_board: bool = True
    next_slot_at: datetime | None = None  # next scheduled nudge (UTC); None when off
    next_board_at: datetime | None = None  # next weekly leaderboard (UTC); None when off
    updated_by: str | None = None

    def tz(self, default: str = "UTC") -> str:
        return self.spec.tz if self.spec else default


class NudgeStatus(StrEnum):
    CLAIMED = "claimed"
    POSTED = "posted"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Nudge:
    id: int
    channel: ChannelKey
    exercise_key: str
    slot_at: datetime | None  # None for ad-hoc `/stretch now` nudges
    status: NudgeStatus
    message_id: str | None = None  # Slack ts / Teams activity id
    posted_at: datetime | None = None


@dataclass(frozen=True)
class BreakChange:
    """Result of adding or removing a mark (reaction or button press) on a nudge."""

    changed: bool  # a break was created / deleted by this call
    breaks_on_nudge: int  # breaks on that nudge after the change


# ---- repositories ---------------------------------------------------------------------------


class ChannelRepository(Protocol):
    async def get(self, key: ChannelKey) -> ChannelState | None: ...

    async def save(self, state: ChannelState) -> None:
        """Insert or update the channel (keyed by `state.key`)."""
        ...

    async def due_for_nudge(
        self, *, now: datetime, limit: int, platforms: Sequence[str] | None = None
    ) -> list[ChannelState]:
        """Enabled channels whose `next_slot_at <= now`, oldest first; only `platforms` if given
        (a replica claims only slots it can post)."""
        ...

    async def due_for_board(
        self, *, now: datetime, limit: int, platforms: Sequence[str] | None = None
    ) -> list[ChannelState]:
        """Channels whose `next_board_at <= now`, oldest first; only `platforms` if given."""
        ...

    async def set_next_board(
        self, key: ChannelKey, *, expected: datetime, next_board_at: datetime | None
    ) -> bool:
        """Advance `next_board_at` from `expected`; False if another worker already moved it."""
        ...

    async def disable(self, key: ChannelKey, *, reason: str) -> None:
        """Turn the channel's schedule and weekly board off (archived / deleted channel)."""
        ...


class NudgeRepository(Protocol):
    async def claim_slot(
        self,
        *,
        channel: ChannelKey,
        slot_at: datetime,
        exercise_key: str,
        next_slot_at: datetime | None,
        expected_slot_at: datetime,
    ) -> Nudge | None:
        """Atomically insert the (channel, slot) claim and move the channel's `next_slot_at`
        from `expected_slot_at` to `next_slot_at`. None when the slot was already claimed or
        the channel's `next_slot_at` is no longer `expected_slot_at` (another worker won)."""
        ...

    async def skip_slots(
        self, *, channel: ChannelKey, expected_slot_at: datetime, next_slot_at: datetime | None
    ) -> bool:
        """Move `next_slot_at` on without posting (stale or paused slots); False if lost a race."""
        ...

    async def create_adhoc(self, *, channel: ChannelKey, exercise_key: str) -> Nudge: ...

    async def mark_posted(self, nudge_id: int, *, message_id: str, posted_at: datetime) -> None: ...

    async def mark_failed(self, nudge_id: int, *, reason: str) -> None: ...

    async def find_by_message(self, *, channel: ChannelKey, message_id: str) -> Nudge | None: ...

    async def recent_exercise_keys(self, *, channel: ChannelKey, limit: int) -> list[str]:
        """Exercise keys of the channel's latest posted/claimed nudges, most recent first."""
        ...


class BreakRepository(Protocol):
    async def add_mark(
        self, *, nudge_id: int, person_id: str, mark: str, at: datetime
    ) -> BreakChange:
        """Record a mark (`reaction:white_check_mark`, `button`); the first mark makes the break.
        Idempotent: the same mark twice changes nothing, even when two calls race."""
        ...

    async def remove_mark(self, *, nudge_id: int, person_id: str, mark: str) -> BreakChange:
        """Remove a mark; removing the last one deletes the break."""
        ...

    async def counts(
        self, *, channel: ChannelKey, since: datetime | None, until: datetime | None = None
    ) -> dict[str, int]:
        """Breaks per person in the channel with `since <= logged_at < until`."""
        ...

    async def break_times(
        self, *, channel: ChannelKey, since: datetime, person_ids: list[str] | None = None
    ) -> list[tuple[str, datetime]]:
        """(person, logged_at) for the channel's breaks since `since` (for streaks)."""
        ...


class BoardRepository(Protocol):
    async def claim_board(self, *, channel: ChannelKey, period_key: str) -> bool:
        """Claim posting the board for this period ('2026-W47'); False if already claimed."""
        ...


class Storage(Protocol):
    channels: ChannelRepository
    nudges: NudgeRepository
    breaks: BreakRepository
    boards: BoardRepository


# ---- the Chat port --------------------------------------------------------------------------


class PostError(StrEnum):
    """Why a post failed, in platform-neutral terms."""

    CHANNEL_GONE = "channel_gone"  # archived or deleted: turn the schedule off
    NOT_IN_CHANNEL = "not_in_channel"  # private channel the bot is not in
    AUTH = "auth"  # token revoked / invalid
    RATE_LIMITED = "rate_limited"  # still limited after retries
    OTHER = "other"


@dataclass(frozen=True)
class PostResult:
    message_id: str | None = None
    error: PostError | None = None
    detail: str = ""  # the platform's error code, for logs

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Board:
    title: str  # "This week"
    entries: list[BoardEntry] = field(default_factory=list)
    period_start: date | None = None


class Chat(Protocol):
    """What services need from a chat platform."""

    platform: str

    async def post_nudge(self, channel: ChannelKey, exercise: Exercise) -> PostResult: ...

    async def post_board(self, channel: ChannelKey, board: Board) -> PostResult: ...

    async def post_text(self, channel: ChannelKey, text: str) -> PostResult: ...

    async def ensure_member(self, channel: ChannelKey) -> PostResult:
        """Join a public channel if needed; NOT_IN_CHANNEL if private and the bot is not in it."""
        ...

    async def user_timezone(self, team_id: str, user_id: str) -> str | None:
        """The person's IANA timezone as the platform knows it, or None."""
        ...
