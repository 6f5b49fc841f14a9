"""Nudges: due slots found, claimed in batches and posted by a pool of workers, each (channel,
slot) at most once across replicas; ad-hoc `/stretch now` posts; the drain on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import rules, schedules
from bot.batching import BatchWriter
from bot.decisions import log_decision
from bot.exercises import RECENT_WINDOW, Exercise, pick_exercise
from bot.i18n import use_locale
from bot.installs import InstallService
from bot.languages import channel_language
from bot.metrics import Metrics
from bot.ports import (
    ChannelKey,
    ChannelState,
    Chat,
    Nudge,
    PostedNudge,
    PostError,
    PostResult,
    SlotMove,
    Storage,
)

logger = logging.getLogger("stretchbot.services.nudging")

Clock = Callable[[], datetime]

DUE_BATCH = 500
CLAIM_BATCH = 100  # most slots claimed per transaction (and waiting to be posted)
POSTED_BATCH = 64  # posted message ids written per transaction ...
POSTED_LINGER = 0.05  # ... or this many seconds after the first one waiting
POSTED_FLUSH_SECONDS = 30.0  # a pass waits this long at most for its ids to be written


@dataclass(frozen=True)
class NudgeOutcome:
    """What happened to one due channel in a scheduler pass (for logs, metrics and tests)."""

    channel: ChannelKey
    # "posted" | "failed" | "skipped_stale" | "skipped_paused" | "lost_race" | "released"
    decision: str
    slot_at: datetime | None
    detail: str = ""


@dataclass(frozen=True)
class _SlotPlan:
    slot: datetime | None  # the slot to post now; None: every missed slot is stale
    next_slot: datetime | None


@dataclass(frozen=True)
class _Claimed:
    """A slot this process claimed and must now post (or give back)."""

    state: ChannelState
    nudge: Nudge
    move: SlotMove
    exercise: Exercise
    slot: datetime


class NudgeService:
    """Posts scheduled nudges when their slots come, and ad-hoc ones on request."""

    def __init__(
        self,
        storage: Storage,
        chats: Mapping[str, Chat],
        installs: InstallService,
        *,
        clock: Clock,
        metrics: Metrics,
        grace: timedelta = timedelta(minutes=10),
        post_concurrency: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self.storage = storage
        self.chats = chats
        self.installs = installs
        self.clock = clock
        self.metrics = metrics
        self.grace = grace
        self.post_concurrency = post_concurrency
        self.rng = rng or random.Random()
        # The message ids of posted nudges (so reactions on them count), written in batches.
        self.posted_ids: BatchWriter[PostedNudge, None] = BatchWriter(
            self._write_posted_ids,
            what="posted nudge id",
            max_batch=POSTED_BATCH,
            linger=POSTED_LINGER,
        )
        self._stopping = False
        self._passes = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # ---- shutting down ----------------------------------------------------------------------

    def stop_claiming(self) -> None:
        """Shutting down: finish posts under way, claim no more slots (others will)."""
        self._stopping = True

    @contextlib.asynccontextmanager
    async def _working(self) -> AsyncIterator[None]:
        self._passes += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._passes -= 1
            if self._passes == 0:
                self._idle.set()

    async def drain(self, grace_seconds: float) -> bool:
        """Wait until no scheduled pass is under way (after `stop_claiming`); False on timeout."""
        try:
            async with asyncio.timeout(grace_seconds):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    # ---- ad hoc -----------------------------------------------------------------------------

    async def post_now(self, state: ChannelState, *, by: str) -> PostResult:
        """Post a nudge into the channel right away (`/stretch now`), joining it if needed."""
        key = state.key
        exercise = pick_exercise(
            await self._recent(state), seated_only=state.seated_only, rng=self.rng
        )
        nudge = await self.storage.nudges.create_adhoc(channel=key, exercise_key=exercise.key)
        chat = self.chats[key.platform]
        result = await chat.post_nudge(key, exercise)
        if result.error is PostError.NOT_IN_CHANNEL:
            joined = await chat.ensure_member(key)
            result = await chat.post_nudge(key, exercise) if joined.ok else joined
        if result.ok and result.message_id:
            await self.storage.nudges.mark_posted(
                nudge.id, message_id=result.message_id, posted_at=self.clock()
            )
            self.metrics.nudges_posted.labels(key.platform, "now").inc()
            log_decision("nudge.posted", key, slot="now", exercise=exercise.key, by=by)
            return result
        reason = result.detail or str(result.error)
        await self.storage.nudges.mark_failed(nudge.id, reason=reason)
        self.metrics.post_failed(key.platform, result)
        log_decision("nudge.failed", key, slot="now", reason=reason)
        return result if not result.ok else PostResult(error=PostError.OTHER, detail="no_ts")

    async def _recent(self, state: ChannelState) -> tuple[str, ...]:
        """The channel's latest picks, most recent first: stored on the channel, or read from
        its nudges when not known (a channel from before migration 0004, after `now`)."""
        if state.recent_exercises is not None:
            return state.recent_exercises[:RECENT_WINDOW]
        return tuple(
            await self.storage.nudges.recent_exercise_keys(channel=state.key, limit=RECENT_WINDOW)
        )

    # ---- scheduled --------------------------------------------------------------------------

    async def run_due_nudges(self, now: datetime | None = None) -> list[NudgeOutcome]:
        """Post every nudge that is due at `now` (default: the clock), each (channel, slot) once.

        Slots missed while the bot was down are posted late only within the grace period, and
        only the latest of them; older ones are dropped. Several processes may call this at once:
        the storage claim makes one of them win each slot.

        The due channels are claimed CLAIM_BATCH at a time, in one transaction per batch, and
        posted by `post_concurrency` workers; each batch is claimed while the previous one is
        still being posted, and the posted message ids are written in batches too. On shutdown
        (`stop_claiming`) posts under way finish and claimed slots not yet posted are given back,
        so a restart or another replica posts them.
        """
        now = now or self.clock()
        outcomes: list[NudgeOutcome] = []
        platforms = sorted(self.chats)
        # Claim ahead only a few posts' worth: a process killed between claim and post loses
        # those slots (at most once beats twice), and the other replicas get the rest.
        claim_batch = min(CLAIM_BATCH, 4 * max(1, self.post_concurrency))
        queue: asyncio.Queue[_Claimed | None] = asyncio.Queue(maxsize=claim_batch)
        unposted: list[_Claimed] = []

        async def worker() -> None:
            while (claimed := await queue.get()) is not None:
                if self._stopping:  # give it back: a restart or another replica posts it
                    unposted.append(claimed)
                    continue
                try:
                    outcomes.append(await self._post_claimed(claimed))
                except Exception:  # one broken channel must never stop the others
                    logger.exception("nudge.error channel=%s", claimed.state.key.channel_id)
                    outcomes.append(
                        NudgeOutcome(claimed.state.key, "failed", claimed.slot, "error")
                    )

        seen: set[ChannelKey] = set()
        plans: dict[tuple[schedules.ScheduleSpec, datetime], _SlotPlan] = {}
        async with self._working():
            workers = [asyncio.create_task(worker()) for _ in range(max(1, self.post_concurrency))]
            try:
                while not self._stopping:
                    due = [
                        s
                        for s in await self.storage.channels.due_for_nudge(
                            now=now, limit=DUE_BATCH, platforms=platforms
                        )
                        if s.key not in seen
                    ]
                    if not due:
                        break
                    seen.update(s.key for s in due)
                    # Replicas read the same due list; each walks it in its own order so they
                    # mostly claim different channels instead of racing for the same ones.
                    self.rng.shuffle(due)
                    for start in range(0, len(due), claim_batch):
                        if self._stopping:  # leave the rest due for a restart or another replica
                            break
                        batch = due[start : start + claim_batch]
                        try:
                            won = await self._claim_batch(batch, now, plans, outcomes)
                        except Exception:  # the batch stays due; the next tick tries again
                            logger.exception("nudge.error a batch of %d channels", len(batch))
                            outcomes.extend(
                                NudgeOutcome(s.key, "failed", s.next_slot_at, "error")
                                for s in batch
                            )
                            continue
                        for claimed in won:
                            await queue.put(claimed)
            finally:
                for _ in workers:
                    await queue.put(None)
                await asyncio.gather(*workers)
                if not await self.posted_ids.flush(POSTED_FLUSH_SECONDS):
                    logger.warning("posted nudge ids still being written after a pass")
                if unposted:
                    await self._give_back(unposted, outcomes)
        return outcomes

    def _plan(
        self,
        state: ChannelState,
        now: datetime,
        plans: dict[tuple[schedules.ScheduleSpec, datetime], _SlotPlan],
    ) -> _SlotPlan:
        """The slot to post now (None: stale) and the next one; shared by every channel with
        the same schedule and cursor (at a fan-out, most of them)."""
        spec, expected = state.spec, state.next_slot_at
        assert spec is not None and expected is not None
        plan = plans.get((spec, expected))
        if plan is None:
            oldest_allowed = max(expected, now - self.grace)
            missed = list(
                schedules.slots_between(spec, oldest_allowed, now + timedelta(microseconds=1))
            )
            plan = _SlotPlan(
                slot=missed[-1] if missed else None, next_slot=schedules.next_slot_after(spec, now)
            )
            plans[(spec, expected)] = plan
        return plan

    async def _claim_batch(
        self,
        batch: list[ChannelState],
        now: datetime,
        plans: dict[tuple[schedules.ScheduleSpec, datetime], _SlotPlan],
        outcomes: list[NudgeOutcome],
    ) -> list[_Claimed]:
        """Decide each channel's slot (post, or skip as stale or paused) and claim the whole
        batch in one transaction; returns the claims won, to post."""
        moves: list[SlotMove] = []
        picks: dict[ChannelKey, tuple[ChannelState, datetime, Exercise | None, str]] = {}
        unknown = [s.key for s in batch if s.recent_exercises is None]
        read = (
            await self.storage.nudges.recent_exercise_keys_many(
                channels=unknown, limit=RECENT_WINDOW
            )
            if unknown
            else {}
        )
        for state in batch:
            key, expected = state.key, state.next_slot_at
            try:
                plan = self._plan(state, now, plans)
                assert expected is not None
                if plan.slot is None:
                    moves.append(SlotMove(key, expected, plan.next_slot))
                    picks[key] = (state, expected, None, "skipped_stale")
                    continue
                if plan.slot != expected:
                    self.metrics.nudges_skipped.labels("stale").inc()
                    log_decision(
                        "nudge.skipped_stale",
                        key,
                        slot=expected.isoformat(),
                        superseded_by=plan.slot.isoformat(),
                    )
                if rules.is_paused(state, plan.slot):
                    moves.append(SlotMove(key, expected, plan.next_slot))
                    picks[key] = (state, plan.slot, None, "skipped_paused")
                    continue
                recent = (
                    state.recent_exercises[:RECENT_WINDOW]
                    if state.recent_exercises is not None
                    else tuple(read.get(key, ()))
                )
                exercise = pick_exercise(recent, seated_only=state.seated_only, rng=self.rng)
                moves.append(
                    SlotMove(
                        key,
                        expected,
                        plan.next_slot,
                        slot_at=plan.slot,
                        exercise_key=exercise.key,
                        recent_exercises=(exercise.key, *recent)[:RECENT_WINDOW],
                    )
                )
                picks[key] = (state, plan.slot, exercise, "claimed")
            except Exception:  # one broken channel must never stop the others
                logger.exception("nudge.error channel=%s", key.channel_id)
                outcomes.append(NudgeOutcome(key, "failed", expected, "error"))
        try:
            won = await self.storage.nudges.move_slots(moves)
        except Exception:  # the batch stays due; the next tick tries again
            logger.exception("nudge.error claiming a batch of %d channels", len(moves))
            outcomes.extend(
                NudgeOutcome(m.channel, "failed", m.expected_slot_at, "error") for m in moves
            )
            return []
        claimed: list[_Claimed] = []
        for move in moves:
            state, slot, picked, decision = picks[move.channel]
            if move.channel not in won:
                outcomes.append(NudgeOutcome(move.channel, "lost_race", slot))
                continue
            nudge = won[move.channel]
            if nudge is not None and picked is not None:
                claimed.append(_Claimed(state, nudge, move, picked, slot))
            elif decision == "skipped_stale":
                self.metrics.nudges_skipped.labels("stale").inc()
                log_decision(
                    "nudge.skipped_stale",
                    move.channel,
                    slot=slot.isoformat(),
                    late=f"{(now - slot).total_seconds():.0f}s",
                )
                outcomes.append(NudgeOutcome(move.channel, "skipped_stale", slot))
            else:
                self.metrics.nudges_skipped.labels("paused").inc()
                log_decision("nudge.skipped_paused", move.channel, slot=slot.isoformat())
                outcomes.append(NudgeOutcome(move.channel, "skipped_paused", slot))
        return claimed

    async def _post_claimed(self, claimed: _Claimed) -> NudgeOutcome:
        key, slot, exercise = claimed.state.key, claimed.slot, claimed.exercise
        with use_locale(channel_language(claimed.state)):
            result = await self.chats[key.platform].post_nudge(key, exercise)
        if result.ok and result.message_id:
            posted_at = self.clock()
            await self.posted_ids.put(PostedNudge(claimed.nudge.id, result.message_id, posted_at))
            self.metrics.nudges_posted.labels(key.platform, "scheduled").inc()
            self.metrics.slot_lateness.observe(max(0.0, (posted_at - slot).total_seconds()))
            log_decision(
                "nudge.posted",
                key,
                slot=slot.isoformat(),
                exercise=exercise.key,
                late=f"{(posted_at - slot).total_seconds():.0f}s",
            )
            return NudgeOutcome(key, "posted", slot)
        reason = result.detail or str(result.error)
        await self.storage.nudges.mark_failed(claimed.nudge.id, reason=reason)
        self.metrics.post_failed(key.platform, result)
        log_decision("nudge.failed", key, slot=slot.isoformat(), reason=reason)
        if result.error is PostError.CHANNEL_GONE:
            await self.installs.channel_gone(key, reason=result.detail or "channel_gone")
        return NudgeOutcome(key, "failed", slot, reason)

    async def _give_back(self, unposted: list[_Claimed], outcomes: list[NudgeOutcome]) -> None:
        """Shutting down: release claims nobody will post, so their slots are due again."""
        try:
            released = await self.storage.nudges.release_claims(
                [(claimed.nudge, claimed.move) for claimed in unposted]
            )
        except Exception:
            logger.exception("nudge.release_failed count=%d", len(unposted))
            return
        for claimed in unposted:
            log_decision("nudge.released", claimed.state.key, slot=claimed.slot.isoformat())
            outcomes.append(NudgeOutcome(claimed.state.key, "released", claimed.slot))
        logger.info("nudge.released %d of %d claims given back", released, len(unposted))

    async def _write_posted_ids(self, posted: Sequence[PostedNudge]) -> list[None]:
        await self.storage.nudges.mark_posted_many(posted)
        return [None] * len(posted)
