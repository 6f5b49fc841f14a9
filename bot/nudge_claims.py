"""What a scheduler pass hands around: the outcome per channel, the claims this process must
post, and the hand-over of claims between processes (claims a dead process left unsent taken
over once their lease ran out; claims given back on shutdown; personal reminders that slid or
were skipped while their person was busy). `ClaimHandover` is a base of `NudgeService`."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.decisions import log_decision
from bot.exercises import Exercise, find_exercise, pick_exercise
from bot.metrics import Metrics
from bot.ports import ChannelKey, Lease, Nudge, SlotMove, Storage

logger = logging.getLogger("stretchbot.services.nudging")

DUE_BATCH = 500
# A claim not yet sending is this process's for this long; past it (the process presumably
# died: SIGKILL, OOM, a lost host), another process or the restart takes it over and posts it.
CLAIM_LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class NudgeOutcome:
    """What happened to one due channel in a scheduler pass (for logs, metrics and tests)."""

    channel: ChannelKey
    # "posted" | "failed" | "skipped_stale" | "skipped_paused" | "skipped_ratelimited" |
    # "lost_race" | "released"; personal reminders also "slid" (detail: the new time) |
    # "skipped_busy" (detail: why)
    decision: str
    slot_at: datetime | None
    detail: str = ""


@dataclass(frozen=True)
class _SlotPlan:
    slot: datetime | None  # the slot to post now; None: every missed slot is stale
    next_slot: datetime | None


@dataclass(frozen=True)
class _Claimed:
    """A slot this process claimed (or took over) and must now post (or give back)."""

    key: ChannelKey
    nudge: Nudge
    move: SlotMove | None  # None: taken over from a dead process (its cursor moved long ago)
    exercise: Exercise
    slot: datetime
    # The channel's language (bot.languages); None for a claim taken over from a dead process,
    # whose channel row is not read again (the catalog's source language then).
    language: str | None = None


class ClaimHandover:
    """Taking over and giving back claims (needs the service's storage, metrics, grace, rng
    and owner)."""

    storage: Storage
    metrics: Metrics
    grace: timedelta
    rng: random.Random
    owner: str

    def _personal_outcome(
        self, move: SlotMove, slot: datetime, decision: str, now: datetime
    ) -> NudgeOutcome:
        """Count and log a personal reminder that slid past a busy time or was skipped."""
        if decision == "slid":
            assert move.next_slot_at is not None
            self.metrics.reminders_slid.inc()
            log_decision(
                "reminder.slid",
                move.channel,
                slot=slot.isoformat(),
                to=move.next_slot_at.isoformat(),
            )
            return NudgeOutcome(move.channel, "slid", slot, move.next_slot_at.isoformat())
        reason = move.skipped_reason or "busy"
        self.metrics.nudges_skipped.labels("busy").inc()
        log_decision("reminder.skipped_busy", move.channel, slot=slot.isoformat(), reason=reason)
        return NudgeOutcome(move.channel, "skipped_busy", slot, reason)

    async def _take_over(
        self, now: datetime, lease: Lease, platforms: Sequence[str], outcomes: list[NudgeOutcome]
    ) -> list[_Claimed]:
        """Claims a dead process left unsent when their leases ran out: to post now (within
        the grace period), or skipped as stale."""
        try:
            taken = await self.storage.nudges.take_over(
                now=now,
                lease=lease,
                oldest_slot=now - self.grace,
                limit=DUE_BATCH,
                platforms=platforms,
            )
        except Exception:  # they stay claimed; the next pass tries again
            logger.exception("nudge.error taking over expired claims")
            return []
        for nudge in taken.stale:
            assert nudge.slot_at is not None
            self.metrics.nudges_skipped.labels("stale").inc()
            log_decision(
                "nudge.skipped_stale",
                nudge.channel,
                slot=nudge.slot_at.isoformat(),
                reason="claimed_by_a_stopped_process",
            )
            outcomes.append(NudgeOutcome(nudge.channel, "skipped_stale", nudge.slot_at))
        claims: list[_Claimed] = []
        for nudge in taken.claims:
            assert nudge.slot_at is not None
            exercise = find_exercise(nudge.exercise_key) or pick_exercise((), rng=self.rng)
            log_decision("nudge.taken_over", nudge.channel, slot=nudge.slot_at.isoformat())
            claims.append(_Claimed(nudge.channel, nudge, None, exercise, nudge.slot_at))
        return claims

    async def _give_back(self, unposted: list[_Claimed], outcomes: list[NudgeOutcome]) -> None:
        """Shutting down: release claims nobody will post, so their slots are due again (a
        claim taken over from a dead process: its lease ends now, for the others to take)."""
        moved = [claimed for claimed in unposted if claimed.move is not None]
        try:
            released = await self.storage.nudges.release_claims(
                [(claimed.nudge, claimed.move) for claimed in moved if claimed.move is not None]
            )
            await self.storage.nudges.end_leases(
                [claimed.nudge.id for claimed in unposted if claimed.move is None],
                owner=self.owner,
            )
        except Exception:
            logger.exception("nudge.release_failed count=%d", len(unposted))
            return
        for claimed in unposted:
            log_decision("nudge.released", claimed.key, slot=claimed.slot.isoformat())
            outcomes.append(NudgeOutcome(claimed.key, "released", claimed.slot))
        logger.info("nudge.released %d of %d claims given back", released, len(unposted))
