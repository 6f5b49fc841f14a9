"""The break writer: ✅ reactions and Done presses are written in batches, one transaction each.

Events are acked before their mark is written, so Slack never redelivers one: a mark must not
be lost to a busy database. Each mark waits here, in memory and in arrival order, for the one
writer task, which takes whatever has queued up (after a few milliseconds, or at once when a
batch is full) and applies it with one `BreakRepository.apply_marks` call. A burst of N marks
costs a few transactions instead of N, and nothing waits on the connection pool, whose waits
time out.

A failed batch is tried again (marks are idempotent); one that keeps failing is split in halves
until each mark fails alone, so one bad mark cannot take its neighbours down. A mark that still
fails raises in the caller waiting for it (`submit`) or, when nobody waits (`put`), is logged as
an error with everything needed to replay it: none is dropped without a trace.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.ports import MarkChange, MarkOutcome

logger = logging.getLogger("stretchbot.marks")

Apply = Callable[[Sequence[MarkChange]], Awaitable[list[MarkOutcome]]]
OnOutcome = Callable[[MarkChange, MarkOutcome], None]

MAX_BATCH = 500  # marks per transaction
LINGER_SECONDS = 0.005  # how long a short batch waits for company
MAX_QUEUED = 10_000  # marks queued or being written; more callers wait for room
BATCH_RETRY_PAUSES = (0.2,)  # pause before each retry of a batch; then it is split
RETRY_PAUSES = (0.2, 1.0, 3.0)  # pause before each retry of a single mark; then it fails


@dataclass(slots=True)
class _Queued:
    change: MarkChange
    outcome: asyncio.Future[MarkOutcome] | None  # None: nobody waits (`put`)
    settled: bool = False


class MarkWriter:
    """Queues marks and applies them in batches through `apply`, in arrival order.

    `on_outcome` sees every mark written, with its outcome, as soon as its batch committed
    (metrics and log lines belong there: they then hold for marks nobody waits for). The
    writer task runs only while marks are queued, so an idle writer holds nothing.
    """

    def __init__(
        self,
        apply: Apply,
        *,
        on_outcome: OnOutcome | None = None,
        max_batch: int = MAX_BATCH,
        linger: float = LINGER_SECONDS,
        max_queued: int = MAX_QUEUED,
        batch_retry_pauses: Sequence[float] = BATCH_RETRY_PAUSES,
        retry_pauses: Sequence[float] = RETRY_PAUSES,
    ) -> None:
        if max_batch < 1 or max_queued < max_batch:
            raise ValueError("need 1 <= max_batch <= max_queued")
        self._apply = apply
        self._on_outcome = on_outcome
        self.max_batch = max_batch
        self.linger = linger
        self.batch_retry_pauses = tuple(batch_retry_pauses)
        self.retry_pauses = tuple(retry_pauses)
        self._queue: deque[_Queued] = deque()
        # One unit per mark queued or being written, given back when the mark is settled.
        self._room = asyncio.Semaphore(max_queued)
        self._full = asyncio.Event()  # the queue holds a whole batch: stop lingering
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # transactions that committed (for tests and benchmarks)

    @property
    def queued(self) -> int:
        """Marks waiting for a batch (not counting the batch being written)."""
        return len(self._queue)

    async def submit(self, change: MarkChange) -> MarkOutcome:
        """Queue the mark and return what it did once it is committed.

        Raises what the last try raised when the mark could not be written. A caller that is
        cancelled while waiting does not take its mark back: it is written all the same.
        """
        outcome: asyncio.Future[MarkOutcome] = asyncio.get_running_loop().create_future()
        await self._enqueue(_Queued(change, outcome))
        try:
            return await asyncio.shield(outcome)
        except asyncio.CancelledError:
            outcome.add_done_callback(_retrieve)  # nobody will read a failure: no warning
            raise

    async def put(self, change: MarkChange) -> None:
        """Queue the mark and return at once (waiting only while the queue is full): for
        events already acked, whose outcome only `on_outcome` needs."""
        await self._enqueue(_Queued(change, None))

    async def flush(self, grace_seconds: float) -> bool:
        """Wait until every queued mark is written (or failed); False on timeout."""
        await asyncio.sleep(0)  # let listeners that are already running queue their marks
        try:
            async with asyncio.timeout(grace_seconds):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def _enqueue(self, queued: _Queued) -> None:
        await self._room.acquire()
        self._queue.append(queued)
        if len(self._queue) >= self.max_batch:
            self._full.set()
        if self._task is None:
            self._idle.clear()
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="stretchbot-mark-writer"
            )

    async def _run(self) -> None:
        try:
            while self._queue:
                if len(self._queue) < self.max_batch and self.linger > 0:
                    self._full.clear()
                    try:
                        async with asyncio.timeout(self.linger):
                            await self._full.wait()
                    except TimeoutError:
                        pass
                take = min(len(self._queue), self.max_batch)
                batch = [self._queue.popleft() for _ in range(take)]
                try:
                    await self._write(batch)
                except BaseException as exc:  # cancelled (the loop is closing) or a bug
                    self._fail(batch, exc)
                    raise
        except BaseException as exc:
            queued = list(self._queue)
            self._queue.clear()
            self._fail(queued, RuntimeError(f"the mark writer stopped: {exc!r}"))
            raise
        finally:
            self._task = None
            self._idle.set()

    async def _write(self, batch: list[_Queued]) -> None:
        """Apply the batch, retrying it; split it when it keeps failing; settle every mark."""
        pauses = self.retry_pauses if len(batch) == 1 else self.batch_retry_pauses
        for attempt in range(len(pauses) + 1):
            try:
                outcomes = await self._apply([queued.change for queued in batch])
                if len(outcomes) != len(batch):
                    raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} marks")
            except Exception as exc:
                if attempt < len(pauses):
                    logger.warning(
                        "writing %d mark(s) failed; retrying in %.1fs",
                        len(batch),
                        pauses[attempt],
                        exc_info=True,
                    )
                    await asyncio.sleep(pauses[attempt])
                    continue
                if len(batch) > 1:
                    half = len(batch) // 2
                    logger.warning("writing %d marks keeps failing; splitting them", len(batch))
                    await self._write(batch[:half])
                    await self._write(batch[half:])
                    return
                self._fail(batch, exc)
                return
            self.batches += 1
            self._settle(batch, outcomes)
            return

    def _settle(self, batch: list[_Queued], outcomes: list[MarkOutcome]) -> None:
        for queued, outcome in zip(batch, outcomes, strict=True):
            if queued.settled:
                continue
            queued.settled = True
            self._room.release()
            if self._on_outcome is not None:
                try:
                    self._on_outcome(queued.change, outcome)
                except Exception:
                    logger.exception("on_outcome failed for %r", queued.change)
            if queued.outcome is not None and not queued.outcome.done():
                queued.outcome.set_result(outcome)

    def _fail(self, batch: list[_Queued], exc: BaseException) -> None:
        for queued in batch:
            if queued.settled:
                continue
            queued.settled = True
            self._room.release()
            if queued.outcome is None:
                logger.error("mark not written: %r: %r", queued.change, exc)
            elif not queued.outcome.done():
                queued.outcome.set_exception(exc)


def _retrieve(future: asyncio.Future[MarkOutcome]) -> None:
    if not future.cancelled():
        future.exception()
