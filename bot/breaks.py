"""Breaks: ✅ reactions and Done presses logged and taken back, and people's opt-out.

Marks are written in batches by one writer (bot/batching.py): a burst of reactions costs a few
transactions, and an acked reaction is never lost to a busy database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.batching import BatchWriter
from bot.decisions import log_decision
from bot.metrics import Metrics
from bot.ports import ChannelKey, MarkChange, MarkOutcome, Storage
from bot.workspaces import Tenancy

Clock = Callable[[], datetime]

CHECK_MARKS = frozenset({"white_check_mark", "heavy_check_mark", "ballot_box_with_check"})


class BreakService:
    """Logs and undoes breaks for marks on nudges; knows who opted out."""

    def __init__(
        self, storage: Storage, tenancy: Tenancy, *, clock: Clock, metrics: Metrics
    ) -> None:
        self.storage = storage
        self.tenancy = tenancy
        self.clock = clock
        self.metrics = metrics
        self.marks: BatchWriter[MarkChange, MarkOutcome] = BatchWriter(
            self._apply_marks, what="mark", on_outcome=self._mark_written
        )
        # Told of every break made or taken back, once written (the nudge's who-moved line).
        self.on_change: list[Callable[[MarkChange, MarkOutcome], None]] = []

    async def log_break(
        self, *, channel: ChannelKey, message_id: str, person_id: str, mark: str
    ) -> MarkOutcome:
        """Count a break for a mark (reaction or Done press) on a nudge, and say what it did:
        `nudge_id` None when the message is no nudge or the person opted out (`opted_out`);
        then nothing is stored.

        The mark waits in memory for the break writer, which writes a burst in a few
        transactions and retries failed ones (marks are idempotent); see bot/batching.py.
        """
        return await self.marks.submit(
            MarkChange(channel, message_id, person_id, mark, added=True, at=self.clock())
        )

    async def undo_break(
        self, *, channel: ChannelKey, message_id: str, person_id: str, mark: str
    ) -> MarkOutcome:
        """Take back a mark; the break goes when its last mark goes."""
        return await self.marks.submit(
            MarkChange(channel, message_id, person_id, mark, added=False, at=self.clock())
        )

    async def queue_mark(
        self, *, channel: ChannelKey, message_id: str, person_id: str, mark: str, added: bool
    ) -> None:
        """`log_break` (added) or `undo_break` for an event that was acked already and needs
        no answer (a reaction): returns once the mark is queued. The event will not be
        redelivered, so the writer retries the mark, and logs it as an error if it still
        cannot write it."""
        await self.marks.put(
            MarkChange(channel, message_id, person_id, mark, added=added, at=self.clock())
        )

    async def flush(self, grace_seconds: float) -> bool:
        """Wait until every queued mark is written (shutting down); False on timeout."""
        return await self.marks.flush(grace_seconds)

    async def is_opted_out(self, channel: ChannelKey, person_id: str) -> bool:
        """True when the person opted out in the channel's workspace."""
        hidden = await self.tenancy.people.opted_out(
            platform=channel.platform, team_id=channel.team_id, person_ids=[person_id]
        )
        return person_id in hidden

    async def _apply_marks(self, changes: Sequence[MarkChange]) -> list[MarkOutcome]:
        return await self.storage.breaks.apply_marks(changes, opt_outs=True)

    def _mark_written(self, change: MarkChange, outcome: MarkOutcome) -> None:
        """Metrics and the log line of each break made or taken back (from the writer)."""
        if outcome.nudge_id is None or not outcome.change.changed:
            return
        for listener in self.on_change:
            listener(change, outcome)
        counter = self.metrics.breaks_logged if change.added else self.metrics.breaks_undone
        counter.labels(change.channel.platform).inc()
        log_decision(
            "break.logged" if change.added else "break.undone",
            change.channel,
            nudge=outcome.nudge_id,
            person=change.person_id,
            mark=change.mark,
        )
