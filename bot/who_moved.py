"""Who moved: every nudge shows the count and the people who moved so far, updated in place
after each ✅, its removal or a Done press.

The break writer reports each break it made or took back; the nudge's message is then
refreshed through `UpdateCoalescer` (at most one edit per message every `interval` seconds,
the last one exact, since each refresh reads the nudge's breaks afresh). People who opted out
are counted but never named. A platform shows the line when its chat implements
`NudgeRollChat` (Slack edits the message with `chat.update`; Teams updates its card itself
when Done is pressed).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from bot.coalescing import Sleep, UpdateCoalescer
from bot.exercises import Exercise, find_exercise
from bot.i18n import set_locale, use_locale
from bot.languages import channel_language
from bot.logs import warn_limited
from bot.ports import ChannelKey, Chat, MarkChange, MarkOutcome, PostResult, Storage
from bot.team_ports import GROUP_BREAK_MARK
from bot.workspaces import Tenancy

logger = logging.getLogger("stretchbot.services.who_moved")

ROLL_INTERVAL_SECONDS = 3.0  # at most one edit per nudge message this often
# A person who opts out or is forgotten leaves the lines of their nudges this recent.
RENAME_WINDOW = timedelta(days=2)
MAX_NAMED = 10  # people named on the line; the rest are "and N more"
NOTHING_TO_SHOW = "nothing_to_show"  # `PostResult.detail` when `read` found no nudge to edit


@dataclass(frozen=True)
class NudgeRoll:
    """Who moved on a nudge: how many, and the people who may be named (first first).

    Attributes:
        count: everyone with a break on the nudge, opted-out people included.
        named: the first `MAX_NAMED` of those who did not opt out, in the order they moved.
    """

    count: int
    named: tuple[str, ...]

    @property
    def unnamed(self) -> int:
        """People counted but not named (past the first few, or opted out)."""
        return self.count - len(self.named)


def roll_of(movers: list[str], opted_out: frozenset[str], *, limit: int = MAX_NAMED) -> NudgeRoll:
    """The roll of a nudge from its movers (first first) and who of them opted out."""
    named = tuple(person for person in movers if person not in opted_out)[:limit]
    return NudgeRoll(count=len(movers), named=named)


# The exercise a nudge in a channel was posted with, by its key (built-in or custom).
FindExercise = Callable[[ChannelKey, str], Awaitable[Exercise | None]]
# Reads what a nudge shows now: its exercise and roll, or None when there is nothing to show.
ReadRoll = Callable[[], Awaitable[tuple[Exercise, NudgeRoll] | None]]


@runtime_checkable
class NudgeRollChat(Protocol):
    """A platform that shows who moved on a nudge by editing the nudge in place."""

    async def update_nudge(
        self, channel: ChannelKey, message_id: str, read: ReadRoll
    ) -> PostResult:
        """Show the roll on the nudge posted as `message_id` (its exercise and buttons kept).

        `read` is called once the platform is ready to send the edit (its rate budget may make
        an edit wait): the edit shows the state of that moment, and an edit waiting its turn
        costs no database read."""
        ...


class WhoMovedService:
    """Keeps each nudge's who-moved line current (coalesced edits)."""

    def __init__(
        self,
        storage: Storage,
        tenancy: Tenancy,
        chats: Mapping[str, Chat],
        *,
        interval: float = ROLL_INTERVAL_SECONDS,
        sleep: Sleep | None = None,
        find: FindExercise | None = None,
    ) -> None:
        self.storage = storage
        # The exercise a nudge was posted with: a built-in, or (with `find`) the workspace's own.
        self.find = find
        self.tenancy = tenancy
        self.chats = chats
        extra = {} if sleep is None else {"sleep": sleep}
        self.updates: UpdateCoalescer[tuple[ChannelKey, str]] = UpdateCoalescer(
            self.refresh, interval=interval, what="nudge roll", **extra
        )

    def break_changed(self, change: MarkChange, outcome: MarkOutcome) -> None:
        """From the break writer: a break was made or taken back; refresh that nudge soon."""
        if outcome.nudge_id is None or not outcome.change.changed:
            return
        if change.mark == GROUP_BREAK_MARK:  # a group break card shows its own roll call
            return
        if not isinstance(self.chats.get(change.channel.platform), NudgeRollChat):
            return
        self.updates.touch((change.channel, change.message_id))

    async def nudges_naming(
        self, *, platform: str, team_id: str, person_id: str, now: datetime
    ) -> list[tuple[ChannelKey, str]]:
        """The recent nudges whose line may name the person (those they moved on lately)."""
        if not isinstance(self.chats.get(platform), NudgeRollChat):
            return []
        return await self.storage.breaks.nudges_moved_on(
            platform=platform, team_id=team_id, person_id=person_id, since=now - RENAME_WINDOW
        )

    def refresh_all(self, nudges: list[tuple[ChannelKey, str]]) -> None:
        """Edit these nudges again (a person opted out or was forgotten), coalesced and paced
        like any other edit."""
        for channel, message_id in dict.fromkeys(nudges):
            self.updates.touch((channel, message_id))

    async def roll(self, channel: ChannelKey, nudge_id: int) -> NudgeRoll:
        """The nudge's roll now."""
        movers = list(dict.fromkeys(await self.storage.breaks.movers(nudge_id=nudge_id)))
        opted_out = (
            await self.tenancy.people.opted_out(
                platform=channel.platform, team_id=channel.team_id, person_ids=movers
            )
            if movers
            else frozenset()
        )
        return roll_of(movers, opted_out)

    async def refresh(self, target: tuple[ChannelKey, str]) -> None:
        """Edit the nudge to show who moved on it now."""
        channel, message_id = target
        chat = self.chats.get(channel.platform)
        if not isinstance(chat, NudgeRollChat):
            return

        async def read() -> tuple[Exercise, NudgeRoll] | None:
            # Read only once the edit's turn has come: a burst of ✅ across many nudges queues
            # hundreds of edits behind the workspace's budget, and those waiting cost nothing.
            nudge = await self.storage.nudges.find_by_message(
                channel=channel, message_id=message_id
            )
            if nudge is None:
                return None
            # The edit is in the channel's language, like the nudge it rebuilds (the chat
            # builds the message in this task right after the read).
            set_locale(channel_language(await self.storage.channels.get(channel)))
            exercise = (
                await self.find(channel, nudge.exercise_key)
                if self.find is not None
                else find_exercise(nudge.exercise_key)
            )
            if exercise is None:
                return None
            return exercise, await self.roll(channel, nudge.id)

        with use_locale(None):  # English until `read` knows the channel's language
            result = await chat.update_nudge(channel, message_id, read)
        if not result.ok and result.detail != NOTHING_TO_SHOW:
            # Limited: a deleted nudge or a channel gone answers the same for every ✅ on it.
            warn_limited(
                logger,
                "nudge.roll_update_failed",
                "nudge.roll_update_failed channel=%s: %s",
                channel.channel_id,
                result.detail,
            )

    async def drain(self, grace_seconds: float) -> bool:
        """Shutting down: let the edits under way and due finish; False on timeout, and then
        the edits still waiting for their turn (a burst past the platform's rate budget) are
        given up: the nudges keep the line of their last edit."""
        if await self.updates.drain(grace_seconds):
            return True
        dropped = self.updates.cancel()
        logger.warning("nudge.roll_updates_dropped count=%d (shutting down)", dropped)
        return False
