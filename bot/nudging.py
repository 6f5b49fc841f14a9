"""Nudges: due slots found, claimed in batches and posted by a pool of workers, each (channel,
slot) at most once across replicas; claims of a dead process taken over; ad-hoc `/stretch now`
posts; the drain on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from bot import rules, schedules
from bot.batching import BatchWriter
from bot.custom_exercises import WorkspaceExercises
from bot.decisions import log_decision
from bot.exercise_service import ExerciseService
from bot.exercises import RECENT_WINDOW, Exercise, pick_exercise
from bot.i18n import use_locale
from bot.installs import InstallService
from bot.languages import channel_language
from bot.metrics import Metrics
from bot.nudge_claims import (
    CLAIM_LEASE,
    DUE_BATCH,
    ClaimHandover,
    NudgeOutcome,
    _Claimed,
    _SlotPlan,
)
from bot.personal_slots import PersonalSlots
from bot.ports import (
    ChannelKey,
    ChannelState,
    Chat,
    Lease,
    PostedNudge,
    PostError,
    PostResult,
    SlotMove,
    Storage,
)
from bot.reminders import SlideRules
from bot.sending import SendQueue

logger = logging.getLogger("stretchbot.services.nudging")

Clock = Callable[[], datetime]

CLAIM_BATCH = 100  # most slots claimed per transaction (and waiting to be posted)
POSTED_BATCH = 64  # posted message ids written per transaction ...
POSTED_LINGER = 0.05  # ... or this many seconds after the first one waiting
POSTED_FLUSH_SECONDS = 30.0  # a pass waits this long at most for its ids to be written


class NudgeService(ClaimHandover):
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
        slide_rules: SlideRules | None = None,
        exercises: ExerciseService | None = None,
    ) -> None:
        self.storage = storage
        self.exercises = exercises or ExerciseService(storage)
        self.chats = chats
        self.installs = installs
        self.clock = clock
        self.metrics = metrics
        self.grace = grace
        self.post_concurrency = post_concurrency
        self.rng = rng or random.Random()
        self.personal = PersonalSlots(chats, grace=grace, rules=slide_rules)
        # The message ids of posted nudges (so reactions on them count), written in batches.
        self.posted_ids: BatchWriter[PostedNudge, None] = BatchWriter(
            self._write_posted_ids,
            what="posted nudge id",
            max_batch=POSTED_BATCH,
            linger=POSTED_LINGER,
        )
        # Names this process's claim leases (a restart is another owner).
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:16]}"
        self.send_queue: SendQueue[_Claimed] | None = None  # the latest pass's (for tests)
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
        catalogs = await self.exercises.catalogs([key])
        exercise = pick_exercise(
            await self._recent(state),
            seated_only=state.seated_only,
            rng=self.rng,
            catalog=self.exercises.catalog_of(catalogs, key),
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
        # Claim ahead only a few posts' worth, so the other replicas get the rest. A process
        # killed between claim and post loses none of them: their leases run out and another
        # process (or the restart) takes them over; only posts already sending are at risk.
        claim_batch = min(CLAIM_BATCH, 4 * max(1, self.post_concurrency))
        lease = Lease(self.owner, now + CLAIM_LEASE)
        unposted: list[_Claimed] = []

        def unsent(claimed: _Claimed, reason: str) -> None:
            if reason == "taken_over":  # its lease ran out while it waited: another posts it
                log_decision("nudge.taken_over_by_another", claimed.key)
                outcomes.append(NudgeOutcome(claimed.key, "lost_race", claimed.slot))
            else:  # still claimed: taken over (by a replica or the next pass) after its lease
                outcomes.append(NudgeOutcome(claimed.key, "failed", claimed.slot, reason))

        # Claims are marked as sending in chunks just before the workers take them: at most
        # half the workers' worth waits marked (enough to mark the next chunk while the
        # workers post), so a crash loses at most the posts in flight and those few; the
        # claims further ahead only hold their leases.
        queue: SendQueue[_Claimed] = SendQueue(
            self._start_sending,
            ident=lambda claimed: claimed.nudge.id,
            ahead=claim_batch,
            room=max(2, self.post_concurrency // 2),
            on_unsent=unsent,
            stopping=lambda: self._stopping,
        )
        self.send_queue = queue

        async def worker() -> None:
            while (claimed := await queue.get()) is not None:
                if self._stopping:  # give it back: a restart or another replica posts it
                    unposted.append(claimed)
                    continue
                try:
                    outcome = await self._post_claimed(claimed)
                    if outcome is None:  # shutting down before it could be sent: give back
                        unposted.append(claimed)
                    else:
                        outcomes.append(outcome)
                except Exception:  # one broken channel must never stop the others
                    logger.exception("nudge.error channel=%s", claimed.key.channel_id)
                    outcomes.append(NudgeOutcome(claimed.key, "failed", claimed.slot, "error"))

        seen: set[ChannelKey] = set()
        plans: dict[tuple[schedules.ScheduleSpec, datetime], _SlotPlan] = {}
        # Each workspace's own exercises are read once per pass, by the first batch it is in.
        catalogs: dict[tuple[str, str], WorkspaceExercises] = {}
        async with self._working():
            workers = [asyncio.create_task(worker()) for _ in range(max(1, self.post_concurrency))]
            queue.start()
            try:
                for claimed in await self._take_over(now, lease, platforms, outcomes):
                    await queue.put(claimed)
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
                            won = await self._claim_batch(
                                batch, now, plans, catalogs, outcomes, lease
                            )
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
                await queue.close(len(workers))
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
        known: dict[tuple[str, str], WorkspaceExercises],
        outcomes: list[NudgeOutcome],
        lease: Lease,
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
        personal = await self.personal.plan(batch, now)
        # The workspaces' own exercises, turned-off built-ins and packs: three statements for
        # the workspaces this pass has not read yet.
        catalogs = await self.exercises.catalogs([s.key for s in batch], known)
        for state in batch:
            key, expected = state.key, state.next_slot_at
            try:
                mine = personal.get(key)
                if mine is not None and mine.move is not None:  # slid, skipped while busy
                    moves.append(mine.move)
                    assert mine.slot is not None
                    picks[key] = (state, mine.slot, None, mine.decision)
                    continue
                if state.personal_for and mine is None:  # its plan failed: try next tick
                    outcomes.append(NudgeOutcome(key, "failed", expected, "error"))
                    continue
                plan = (
                    _SlotPlan(mine.slot, mine.next_slot)
                    if mine is not None
                    else self._plan(state, now, plans)
                )
                assert expected is not None
                if plan.slot is None:
                    moves.append(SlotMove(key, expected, plan.next_slot))
                    picks[key] = (state, expected, None, "skipped_stale")
                    continue
                if plan.slot != expected and state.slid_from is None:
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
                exercise = pick_exercise(
                    recent,
                    seated_only=state.seated_only,
                    rng=self.rng,
                    catalog=self.exercises.catalog_of(catalogs, key),
                )
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
            won = await self.storage.nudges.move_slots(moves, lease=lease)
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
                claimed.append(
                    _Claimed(state.key, nudge, move, picked, slot, channel_language(state))
                )
            elif decision in ("slid", "skipped_busy"):
                outcomes.append(self._personal_outcome(move, slot, decision, now))
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

    async def _post_claimed(self, claimed: _Claimed) -> NudgeOutcome | None:
        """Post one claim; None when shutting down stopped it waiting out a rate limit (never
        sent: it is given back)."""
        key, slot, exercise = claimed.key, claimed.slot, claimed.exercise
        # A rate-limited post keeps waiting for its turn while the slot's grace lasts.
        patience = (slot + self.grace - self.clock()).total_seconds()
        with use_locale(claimed.language):
            result = await self.chats[key.platform].post_nudge(key, exercise, patience=patience)
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
        if result.error is PostError.RATE_LIMITED and self._stopping:
            return None
        if result.error is PostError.RATE_LIMITED:
            # Still limited when the grace period ran out: the slot is skipped, and says so.
            await self.storage.nudges.mark_skipped(claimed.nudge.id, reason=reason)
            self.metrics.nudges_skipped.labels("ratelimited").inc()
            log_decision(
                "nudge.skipped_ratelimited",
                key,
                slot=slot.isoformat(),
                reason=reason,
                waited=f"{max(0.0, patience):.0f}s",
            )
            return NudgeOutcome(key, "skipped_ratelimited", slot, reason)
        await self.storage.nudges.mark_failed(claimed.nudge.id, reason=reason)
        self.metrics.post_failed(key.platform, result)
        log_decision("nudge.failed", key, slot=slot.isoformat(), reason=reason)
        if result.error is PostError.CHANNEL_GONE:
            await self.installs.channel_gone(key, reason=result.detail or "channel_gone")
        return NudgeOutcome(key, "failed", slot, reason)

    async def _start_sending(self, nudge_ids: Sequence[int]) -> set[int]:
        return await self.storage.nudges.start_sending(nudge_ids, owner=self.owner)

    async def _write_posted_ids(self, posted: Sequence[PostedNudge]) -> list[None]:
        await self.storage.nudges.mark_posted_many(posted)
        return [None] * len(posted)
