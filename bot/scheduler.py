"""APScheduler wiring: one stable job polls for due slots and weekly boards.

Schedules live in our tables (`channels.next_slot_at`), not in APScheduler's job store, so any
replica can serve any channel and nothing is pickled. APScheduler only drives time.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.services import Clock, Services

logger = logging.getLogger("stretchbot.scheduler")

JOB_ID = "stretchbot-due-slots"
PURGE_JOB_ID = "stretchbot-purge-uninstalled"
PURGE_EVERY = timedelta(days=1)


class NudgeScheduler:
    """Runs the due nudges and weekly boards every few seconds, and the daily purge."""

    def __init__(
        self, services: Services, *, poll_seconds: float = 5.0, clock: Clock | None = None
    ) -> None:
        self.services = services
        self.poll_seconds = poll_seconds
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._tick_lock = asyncio.Lock()
        self._stopping = False

    def start(self) -> None:
        """Start polling; the first pass runs at once (catching up slots missed while down)."""
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.poll_seconds, timezone=UTC),
            id=JOB_ID,
            name="post due nudges and weekly boards",
            max_instances=2,  # a second instance returns at once (see tick); no warning
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC) + timedelta(milliseconds=50),
            replace_existing=True,
        )
        self._scheduler.add_job(
            self.purge,
            IntervalTrigger(seconds=PURGE_EVERY.total_seconds(), timezone=UTC),
            id=PURGE_JOB_ID,
            name="delete the data of workspaces uninstalled longer than the retention period",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC) + timedelta(minutes=1),
            replace_existing=True,
        )
        self._scheduler.start()

    async def tick(self) -> None:
        """One pass over everything due now; errors are logged, never raised into APScheduler.

        A poll that fires while the previous pass still runs returns at once: the running pass
        picks up whatever became due meanwhile.
        """
        if self._stopping or self._tick_lock.locked():
            return
        async with self._tick_lock:
            now = self.clock()
            try:
                await self.services.nudging.run_due_nudges(now)
                await self.services.boards.run_due_boards(now)
            except Exception:
                logger.exception("scheduler pass failed; retrying at the next poll")

    async def purge(self) -> None:
        """Daily: purge uninstalled workspaces past retention (every replica may; idempotent)."""
        try:
            await self.services.installs.purge_expired(self.clock())
        except Exception:
            logger.exception("purging uninstalled workspaces failed; retrying tomorrow")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop polling and let a pass under way finish (up to `grace_seconds` seconds).

        APScheduler's shutdown cancels running coroutine jobs, which could cut a post between
        its claim and its record; so pause first, wait for the pass, then shut down.
        """
        # A job APScheduler already started but whose pass has not begun yet returns at once
        # (see tick); shutting down would otherwise cancel it half-way.
        self._stopping = True
        if self._scheduler.running:
            self._scheduler.pause()
        try:
            async with asyncio.timeout(grace_seconds):
                async with self._tick_lock:
                    pass
        except TimeoutError:
            logger.warning(
                "a scheduler pass was still running after %.0fs at shutdown", grace_seconds
            )
        # APScheduler's shutdown cancels job runs still pending (and logs each as a failure):
        # a run started just now returns at once (`_stopping`), so let it.
        executor = self._scheduler._lookup_executor("default") if self._scheduler.running else None
        pending = list(getattr(executor, "_pending_futures", ()))
        if pending:
            await asyncio.wait(pending, timeout=grace_seconds)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
