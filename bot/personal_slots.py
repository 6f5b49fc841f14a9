"""The scheduler's part for personal reminders: each due personal channel's slot, the person's
presence read just before it, and the slot move that posts, slides or skips it (bot/reminders.py
has the rules). Channel nudges never come here: they post as scheduled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import reminders, schedules
from bot.ports import ChannelKey, ChannelState, Chat, SlotMove

logger = logging.getLogger("stretchbot.services.nudging")

PRESENCE_CONCURRENCY = 8  # presence reads under way at once in one claim batch
# A read slower than this (a 429 with a long Retry-After, a slow network) counts as not known:
# the batch's other channels are waiting to be claimed, and a slot posts within 30 s.
PRESENCE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class PersonalPlan:
    """What one due personal channel does in this pass.

    `move` set: a slide, a busy skip or a stale skip, decided here (`decision` says which);
    None: post `slot` like a channel nudge, the cursor moving on to `next_slot`.
    """

    slot: datetime | None
    next_slot: datetime | None
    decision: str  # "claimed" | "slid" | "skipped_busy" | "skipped_stale"
    move: SlotMove | None = None
    reason: str = ""
    slid_to: datetime | None = None


class PersonalSlots:
    """Plans the due personal channels of a claim batch, reading presence concurrently."""

    def __init__(
        self,
        chats: Mapping[str, Chat],
        *,
        grace: timedelta,
        rules: reminders.SlideRules | None = None,
    ) -> None:
        self.chats = chats
        self.grace = grace
        self.rules = rules or reminders.SlideRules()
        self.presence_timeout = PRESENCE_TIMEOUT_SECONDS

    async def plan(
        self, batch: Sequence[ChannelState], now: datetime
    ) -> dict[ChannelKey, PersonalPlan]:
        """A plan for each personal channel of `batch` (the others are left out)."""
        personal = [s for s in batch if s.personal_for and s.spec and s.next_slot_at]
        if not personal:
            return {}
        limit = asyncio.Semaphore(PRESENCE_CONCURRENCY)

        async def one(state: ChannelState) -> tuple[ChannelKey, PersonalPlan | None]:
            try:
                async with limit:
                    return state.key, await self._plan_one(state, now)
            except Exception:  # one broken channel must never stop the others
                logger.exception("reminder.error channel=%s", state.key.channel_id)
                return state.key, None

        planned = await asyncio.gather(*(one(state) for state in personal))
        return {key: plan for key, plan in planned if plan is not None}

    async def _plan_one(self, state: ChannelState, now: datetime) -> PersonalPlan:
        spec, expected, key = state.spec, state.next_slot_at, state.key
        assert spec is not None and expected is not None and state.personal_for is not None
        next_slot = schedules.next_slot_after(spec, now)
        slid = state.slid_from is not None
        if slid:
            # The cursor is the slid time; the reminder is still the nudge of its slot.
            slot: datetime | None = state.slid_from if now - expected <= self.grace else None
        else:
            missed = list(
                schedules.slots_between(
                    spec, max(expected, now - self.grace), now + timedelta(microseconds=1)
                )
            )
            slot = missed[-1] if missed else None
        if slot is None:
            stale = SlotMove(key, expected, next_slot)
            return PersonalPlan(state.slid_from or expected, next_slot, "skipped_stale", stale)
        busy = await self._busy(state, now)
        decision = reminders.decide(
            spec=spec,
            slot=slot,
            now=now,
            busy=busy,
            already_slid=slid,
            next_slot=next_slot,
            rules=self.rules,
        )
        if decision.action == "post":
            return PersonalPlan(slot, next_slot, "claimed")
        if decision.action == "slide":
            move = SlotMove(key, expected, decision.at, slid_from=slot)
            return PersonalPlan(slot, next_slot, "slid", move, decision.reason, decision.at)
        skip = SlotMove(key, expected, next_slot, slot_at=slot, skipped_reason=decision.reason)
        return PersonalPlan(slot, next_slot, "skipped_busy", skip, decision.reason)

    async def _busy(self, state: ChannelState, now: datetime) -> reminders.Busy | None:
        chat = self.chats.get(state.key.platform)
        if not isinstance(chat, reminders.KnowsPresence) or state.personal_for is None:
            return None
        try:
            async with asyncio.timeout(self.presence_timeout):
                return await chat.busy(state.key.team_id, state.personal_for, now=now)
        except Exception:  # a failed or slow read never blocks the reminder
            logger.warning("reminder.presence_failed channel=%s", state.key.channel_id)
            return None
