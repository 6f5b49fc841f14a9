"""Work Slack has been told is done (the request was acked) but that still runs: tracked, so a
shutdown finishes it, or, past the shutdown budget, answers each person "try again" on their
response_url and logs it. Nothing acked is dropped without a trace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.commands.base import Reply
from bot.i18n import _

logger = logging.getLogger("stretchbot.slack")

TRY_AGAIN_CONCURRENCY = 32  # "try again" answers sent at once at shutdown
TRY_AGAIN_SECONDS = 5.0  # all of them, at most

Answer = Callable[[str, Reply], Awaitable[None]]


@dataclass
class _Job:
    what: str  # for the log line, e.g. "/stretch every 15m"
    response_url: str


class AckedWork:
    """The acked requests whose work is still running in this process."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self._jobs: dict[asyncio.Task[object], _Job] = {}
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self._jobs)

    async def run(self, what: str, response_url: str, work: Awaitable[object]) -> None:
        """Run `work` (the rest of an acked request) as tracked work."""
        task = asyncio.current_task()
        if task is None or self._closing:  # shutting down: nothing new starts
            if response_url:
                await self._answer(response_url, _try_again())
            logger.warning("acked work refused at shutdown: %s", what[:80])
            _close(work)
            return
        self._jobs[task] = _Job(what, response_url)
        self._idle.clear()
        try:
            await work
        finally:
            del self._jobs[task]
            if not self._jobs:
                self._idle.set()

    async def finish(self, budget_seconds: float) -> int:
        """Shutting down: let the running work finish within `budget_seconds`; cancel the rest
        and tell each person to try again. Returns how many were cut short."""
        self._closing = True
        try:
            async with asyncio.timeout(budget_seconds):
                await self._idle.wait()
            return 0
        except TimeoutError:
            pass
        cut = list(self._jobs.items())
        for task, _job in cut:
            task.cancel()
        await asyncio.gather(*(task for task, _job in cut), return_exceptions=True)
        slots = asyncio.Semaphore(TRY_AGAIN_CONCURRENCY)

        async def tell(job: _Job) -> None:
            async with slots:
                await self._answer(job.response_url, _try_again())

        logger.warning(
            "shutting down: %d acked request(s) not finished after %.0fs, each answered "
            "'try again': %s",
            len(cut),
            budget_seconds,
            ", ".join(sorted({job.what[:40] for _task, job in cut}))[:500],
        )
        try:
            async with asyncio.timeout(TRY_AGAIN_SECONDS):
                await asyncio.gather(*(tell(job) for _task, job in cut if job.response_url))
        except TimeoutError:
            logger.warning("not every 'try again' answer went out in %.0fs", TRY_AGAIN_SECONDS)
        return len(cut)


def _try_again() -> Reply:
    return Reply(
        _("Sorry, I was restarting and didn't get to finish that. Please try it again in a moment.")
    )


def _close(work: Awaitable[object]) -> None:
    close = getattr(work, "close", None)  # an unawaited coroutine: no "never awaited" warning
    if close is not None:
        close()
