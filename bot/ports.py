"""The ports between the core and the outside: domain records, repositories, the Chat protocol.

Services depend on these protocols only; `storage/` implements the repositories and each
platform under `handlers/` implements `Chat`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.exercises import Exercise
from bot.leaderboard import BoardEntry
from bot.schedules import ScheduleSpec
from bot.teamgoal import TeamExtras

if TYPE_CHECKING:
    from bot.custom_exercises import ExerciseRepository
    from bot.reminders import ReminderRepository
    from bot.team_ports import GroupBreakRepository, SlotOutcomeRepository

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
    # Keys of the latest picks, most recent first; None: not known (read the latest nudges).
    # Written by the storage with each claim, never by `save`.
    recent_exercises: tuple[str, ...] | None = None
    # The team goal in percent of the people who moved in the last two weeks (0: off), and
    # the streak freezes each person gets per calendar week (bot.teamgoal has the defaults).
    team_goal: int = 50
    streak_freezes: int = 1
    # A personal reminder schedule: the person whose DM with the bot this is (None: a team's
    # channel). Boards and channel lists leave personal channels out.
    personal_for: str | None = None
    # The slot a personal reminder slid from while its person was busy; `next_slot_at` then
    # is the later time it goes out (bot/reminders.py). Written with slot moves, never by `save`.
    slid_from: datetime | None = None
    # The language texts to the channel are written in (a bot.i18n catalog locale); None: not
    # chosen, so the language of whoever set the schedule (see bot.locales).
    language: str | None = None

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
class SlotMove:
    """Move a channel's `next_slot_at` on from `expected_slot_at` to `next_slot_at`.

    With `exercise_key`, the move claims `slot_at` for a nudge of that exercise and stores
    `recent_exercises` (the picks including this one) on the channel; without, the slot is
    skipped (stale or paused) and nothing is posted; with `skipped_reason` and `slot_at`, the
    skip is recorded as a skipped nudge (a personal reminder whose person stayed busy).
    """

    channel: ChannelKey
    expected_slot_at: datetime
    next_slot_at: datetime | None
    slot_at: datetime | None = None
    exercise_key: str | None = None
    recent_exercises: tuple[str, ...] | None = None
    # A personal reminder sliding past a busy time: the slot it slid from, kept on the channel
    # while `next_slot_at` is the later time (None: the channel slides no more).
    slid_from: datetime | None = None
    # A slot skipped while its person was busy: recorded as a skipped nudge of `slot_at` with
    # this reason (the skip counts, once, whoever records it); None: nothing recorded.
    skipped_reason: str | None = None


@dataclass(frozen=True)
class Lease:
    """Who holds a claim and until when: past `until`, a claim that never started sending
    may be taken over by another process (its holder is presumed dead)."""

    owner: str  # one id per running NudgeService
    until: datetime


@dataclass(frozen=True)
class TakenOver:
    """Claims whose holder's lease ran out before they started sending (`take_over`)."""

    claims: list[Nudge]  # now held by the caller: post them
    stale: list[Nudge]  # too old to post (past the grace period): marked skipped


@dataclass(frozen=True)
class PostedNudge:
    """A nudge that went out: the platform's message id (for reactions) and when."""

    nudge_id: int
    message_id: str
    posted_at: datetime


@dataclass(frozen=True)
class BreakChange:
    """Result of adding or removing a mark (reaction or button press) on a nudge."""

    changed: bool  # a break was created / deleted by this call
    breaks_on_nudge: int  # breaks on that nudge after the change


@dataclass(frozen=True, slots=True)
class MarkChange:
    """A mark (reaction or button press) put on or taken off a message, found by its id."""

    channel: ChannelKey
    message_id: str  # Slack ts / Teams activity id of the nudge
    person_id: str
    mark: str  # `reaction:white_check_mark`, `button`
    added: bool  # True: put on; False: taken off
    at: datetime  # when it happened; a break made by this mark is logged at this time


@dataclass(frozen=True, slots=True)
class MarkOutcome:
    """What one `MarkChange` did."""

    nudge_id: int | None  # None: nothing stored (not a nudge's message, or opted out)
    change: BreakChange  # the break it made or took back, and the nudge's breaks after it
    opted_out: bool = False  # an added mark ignored because its person opted out


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
    async def move_slots(
        self, moves: Sequence[SlotMove], *, lease: Lease | None = None
    ) -> dict[ChannelKey, Nudge | None]:
        """Apply many moves (one per channel) in one transaction, each a compare-and-set.

        Returns the channels whose move won: with the claimed nudge, or None for a skip.
        A channel left out lost: another worker moved it first (or holds it right now), it is
        disabled or unknown, or its slot was claimed already (its cursor then stays put).
        The claimed nudges carry `lease` (None: no lease, never taken over).
        """
        ...

    async def start_sending(self, nudge_ids: Sequence[int], *, owner: str) -> set[int]:
        """Mark claims as being sent, just before their requests, in one transaction: each
        only while `owner` still holds it and it is not sending yet. Returns the ids marked:
        only those may be posted (the others were taken over)."""
        ...

    async def take_over(
        self,
        *,
        now: datetime,
        lease: Lease,
        oldest_slot: datetime,
        limit: int,
        platforms: Sequence[str] | None = None,
    ) -> TakenOver:
        """Claims whose lease ended before `now` and that never started sending: those with
        a slot at or after `oldest_slot` now held under `lease`; older ones marked skipped."""
        ...

    async def end_leases(self, nudge_ids: Sequence[int], *, owner: str) -> None:
        """Shutting down: end `owner`'s leases on these unsent claims at once, so another
        process takes them over at its next pass."""
        ...

    async def release_claims(self, claims: Sequence[tuple[Nudge, SlotMove]]) -> int:
        """Give back claimed, unposted nudges (shutting down): delete each and move its
        channel's cursor back to the slot, unless the cursor moved meanwhile. Returns how many
        slots are due again."""
        ...

    async def create_adhoc(self, *, channel: ChannelKey, exercise_key: str) -> Nudge: ...

    async def mark_posted(self, nudge_id: int, *, message_id: str, posted_at: datetime) -> None: ...

    async def mark_posted_many(self, posted: Sequence[PostedNudge]) -> None:
        """`mark_posted` for many nudges in one transaction."""
        ...

    async def mark_failed(self, nudge_id: int, *, reason: str) -> None: ...

    async def mark_skipped(self, nudge_id: int, *, reason: str) -> None:
        """Record that the claimed slot was not posted (e.g. still rate-limited when its
        grace period ran out); like a failure, it is not retried."""
        ...

    async def find_by_message(self, *, channel: ChannelKey, message_id: str) -> Nudge | None: ...

    async def recent_exercise_keys(self, *, channel: ChannelKey, limit: int) -> list[str]:
        """Exercise keys of the channel's latest posted/claimed nudges, most recent first."""
        ...

    async def recent_exercise_keys_many(
        self, *, channels: Sequence[ChannelKey], limit: int
    ) -> dict[ChannelKey, list[str]]:
        """`recent_exercise_keys` for many channels at once (each one in the result)."""
        ...


class BreakRepository(Protocol):
    async def apply_marks(
        self, changes: Sequence[MarkChange], *, opt_outs: bool = True
    ) -> list[MarkOutcome]:
        """Apply the changes in one transaction, as if one after the other in order; one
        outcome per change, in order. Each acts on the nudge posted as `message_id` in
        `channel`; a message that is no nudge changes nothing. An added mark
        (`reaction:white_check_mark`, `button`) is recorded, and a person's first mark on the
        nudge makes their break, logged at its `at`; a removed mark is deleted, and removing a
        person's last mark deletes their break. With `opt_outs`, an added mark of a person who
        opted out in the channel's workspace stores nothing. Idempotent: the same mark twice
        changes nothing, also when two calls race."""
        ...

    async def counts(
        self, *, channel: ChannelKey, since: datetime | None, until: datetime | None = None
    ) -> dict[str, int]:
        """Breaks per person in the channel with `since <= logged_at < until`."""
        ...

    async def person_counts(
        self, *, channel: ChannelKey, person_id: str, since: tuple[datetime, datetime]
    ) -> tuple[int, int, int]:
        """One person's breaks in the channel since each of two instants, and in all."""
        ...

    async def break_times(
        self, *, channel: ChannelKey, since: datetime, person_ids: list[str] | None = None
    ) -> list[tuple[str, datetime]]:
        """(person, logged_at) for the channel's breaks since `since` (for streaks)."""
        ...

    async def movers(self, *, nudge_id: int) -> list[str]:
        """People with a break on the nudge, first mover first (its who-moved line)."""
        ...

    async def nudges_moved_on(
        self, *, platform: str, team_id: str, person_id: str, since: datetime
    ) -> list[tuple[ChannelKey, str]]:
        """(channel, message id) of the workspace's posted nudges the person has a break on,
        logged since `since` (whose who-moved lines name them)."""
        ...


class BoardRepository(Protocol):
    async def claim_board(self, *, channel: ChannelKey, period_key: str) -> bool:
        """Claim posting the board for this period ('2026-W47'); False if already claimed."""
        ...


@dataclass(frozen=True)
class StoredReference:
    """A channel's stored conversation reference (how a platform like Teams posts into it).

    Attributes:
        channel: the channel it reaches.
        service_url: the platform endpoint the reference posts to (Teams: the Bot Connector).
        reference: the platform's own JSON serialisation, opaque to storage.
        active: False once the bot was removed from the conversation.
    """

    channel: ChannelKey
    service_url: str
    reference: str
    active: bool


class ConversationStore(Protocol):
    """Conversation references and display names, for platforms that need them (Teams)."""

    async def remember(self, *, channel: ChannelKey, service_url: str, reference: str) -> bool:
        """Store or refresh the channel's reference and mark it active; True when the bot just
        arrived there (the reference is new or was inactive)."""
        ...

    async def find(self, channel: ChannelKey) -> StoredReference | None: ...

    async def deactivate(self, channel: ChannelKey) -> bool:
        """The bot can no longer post in the channel; True when that changed something."""
        ...

    async def deactivate_team(self, *, platform: str, team_id: str) -> list[ChannelKey]:
        """Every active reference of the workspace made inactive; returns their channels."""
        ...

    async def reactivate_team(self, *, platform: str, team_id: str) -> int:
        """The workspace's references work again; returns how many."""
        ...

    async def set_display_name(
        self, *, platform: str, team_id: str, person_id: str, name: str
    ) -> None: ...

    async def display_names(
        self, *, platform: str, team_id: str, person_ids: Sequence[str]
    ) -> dict[str, str]: ...

    async def people_on_nudge(self, *, channel: ChannelKey, message_id: str) -> list[str]:
        """People with a break on the nudge posted as `message_id`, first mover first."""
        ...


class Storage(Protocol):
    channels: ChannelRepository
    nudges: NudgeRepository
    breaks: BreakRepository
    boards: BoardRepository
    group_breaks: GroupBreakRepository
    slot_outcomes: SlotOutcomeRepository
    reminders: ReminderRepository
    exercises: ExerciseRepository


class InstallationSaveError(Exception):
    """An installation (Slack OAuth) could not be written. Its message names the error class
    and the table only; the database error is deliberately not chained (its text holds the
    tokens)."""


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
    team: TeamExtras | None = None  # the week's board: team goal, most improved, regulars


class Chat(Protocol):
    """What services need from a chat platform."""

    platform: str

    async def post_nudge(
        self, channel: ChannelKey, exercise: Exercise, *, patience: float | None = None
    ) -> PostResult:
        """Post the nudge. `patience`: seconds the post may keep waiting out the platform's
        rate limits (what is left of the slot's grace period) before it answers RATE_LIMITED;
        None: the platform's own few retries."""
        ...

    async def post_board(self, channel: ChannelKey, board: Board) -> PostResult: ...

    async def post_text(self, channel: ChannelKey, text: str) -> PostResult: ...

    async def ensure_member(self, channel: ChannelKey) -> PostResult:
        """Join a public channel if needed; NOT_IN_CHANNEL if private and the bot is not in it."""
        ...

    async def user_timezone(self, team_id: str, user_id: str) -> str | None:
        """The person's IANA timezone as the platform knows it, or None."""
        ...
