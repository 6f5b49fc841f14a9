"""The ports of the team mechanics: group break records and their repository, slot outcomes
for insights, and what a chat platform needs to show a group break card or a weekly chart.

Services depend on these protocols only; `storage/` implements the repositories and each
platform under `handlers/` the chat extensions (a platform without one gets plain text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.charts import WeekChart
from bot.ports import ChannelKey, PostResult
from bot.together import Routine

# The message id a group break's nudge is stored under: not the card's own id, so a ✅ on the
# card or a nudge updater never mistakes the card for a nudge; Done credits through it.
GROUP_BREAK_MARK = "together"


def credit_message_id(card_message_id: str) -> str:
    """The nudge message id that joiners' breaks are logged on, for a posted card."""
    return f"together:{card_message_id}"


@dataclass(frozen=True)
class GroupBreak:
    """A `/stretch together` card: its routine, start, roll call and whether it is done."""

    id: int
    channel: ChannelKey
    started_by: str
    routine: Routine
    starts_at: datetime
    tz: str  # the channel's timezone when it was called
    message_id: str | None  # the card's Slack ts / Teams activity id, once posted
    joiners: tuple[str, ...]  # in the order they pressed "I'm in"
    done_at: datetime | None = None
    done_by: str | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class JoinOutcome:
    """What pressing "I'm in" did."""

    group: GroupBreak | None  # None: no group break is posted as that message
    joined: bool  # the person was added now (False: already in, or it is over)


@dataclass(frozen=True)
class FinishOutcome:
    """What pressing Done did."""

    group: GroupBreak | None  # None: no group break is posted as that message
    finished: bool  # this press finished it (False: already done)


class GroupBreakRepository(Protocol):
    async def create(
        self,
        *,
        channel: ChannelKey,
        started_by: str,
        routine: Routine,
        starts_at: datetime,
        tz: str,
    ) -> GroupBreak:
        """Store a new group break and the nudge its joiners' breaks will be logged on."""
        ...

    async def mark_posted(self, group_id: int, *, message_id: str, posted_at: datetime) -> None:
        """The card went out as `message_id` (its nudge is posted as `credit_message_id`)."""
        ...

    async def mark_failed(self, group_id: int, *, reason: str) -> None: ...

    async def find(self, *, channel: ChannelKey, message_id: str) -> GroupBreak | None:
        """The group break posted as `message_id` in `channel`, with its joiners."""
        ...

    async def join(
        self, *, channel: ChannelKey, message_id: str, person_id: str, at: datetime
    ) -> JoinOutcome:
        """Add the person to the roll call (once) unless the group break is done."""
        ...

    async def finish(
        self, *, channel: ChannelKey, message_id: str, person_id: str, at: datetime
    ) -> FinishOutcome:
        """Mark it done by `person_id`, once (compare-and-set); the group with its joiners."""
        ...


class SlotOutcomeRepository(Protocol):
    async def slot_outcomes(
        self, *, channel: ChannelKey, since: datetime, until: datetime
    ) -> list[tuple[datetime, bool]]:
        """(slot_at, answered) of the channel's posted scheduled nudges with slot_at in
        [since, until): answered when at least one break is logged on it."""
        ...


@runtime_checkable
class GroupBreakChat(Protocol):
    """A platform that shows group break cards."""

    async def post_group_break(self, group: GroupBreak, *, now: datetime) -> PostResult: ...

    async def update_group_break(self, group: GroupBreak, *, now: datetime) -> PostResult:
        """Show the card's current roll call (or its final state) in place."""
        ...


@runtime_checkable
class ChartChat(Protocol):
    """A platform that shows the weekly chart (Slack: an uploaded PNG; Teams: card charts)."""

    async def post_week_chart(self, channel: ChannelKey, chart: WeekChart) -> PostResult: ...
