"""Batched writers: items queue in memory and one task writes them, a batch per transaction.

Two kinds use it. ✅ reactions and Done presses (`MarkChange`): events are acked before their
mark is written, so Slack never redelivers one and a mark must not be lost to a busy database.
And the message ids of posted nudges (`PostedNudge`), so reactions on them count. Each item
waits here, in memory and in arrival order, for the one writer task, which takes whatever has
queued up (after `linger`, or at once when a batch is full) and applies it with one call of
`apply`. A burst of N items costs a few transactions instead of N, and nothing waits on the
connection pool, whose waits time out.

A failed batch is tried again (the writes are idempotent); one that keeps failing is split in
halves until each item fails alone, so one bad item cannot take its neighbours down. An item
that still fails raises in the caller waiting for it (`submit`) or, when nobody waits (`put`),
is logged as an error with everything needed to replay it: none is dropped without a trace.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

logger = logging.getLogger("stretchbot.batching")

T = TypeVar("T")  # what is queued
R = TypeVar("R")  # what writing one item gave (its outcome)

MAX_BATCH = 500  # items per transaction
LINGER_SECONDS = 0.005  # how long a short batch waits for company
MAX_QUEUED = 10_000  # items queued or being written; more callers wait for room
BATCH_RETRY_PAUSES = (0.2,)  # pause before each retry of a batch; then it is split
RETRY_PAUSES = (0.2, 1.0, 3.0)  # pause before each retry of a single item; then it fails


@dataclass(slots=True)
class _Queued(Generic[T, R]):
    change: T
    outcome: asyncio.Future[R] | None  # None: nobody waits (`put`)
    settled: bool = False


class BatchWriter(Generic[T, R]):
    """Queues items and applies them in batches through `apply`, in arrival order.

    `apply` gets a batch and returns one outcome per item, in order. `on_outcome` sees every
    item written, with its outcome, as soon as its batch committed (metrics and log lines
    belong there: they then hold for items nobody waits for). The writer task runs only while
    items are queued, so an idle writer holds nothing. `what` names an item in log lines.
    """

    def __init__(
        self,
        apply: Callable[[Sequence[T]], Awaitable[list[R]]],
        *,
        what: str = "item",
        on_outcome: Callable[[T, R], None] | None = None,
        max_batch: int = MAX_BATCH,
        linger: float = LINGER_SECONDS,
        max_queued: int = MAX_QUEUED,
        batch_retry_pauses: Sequence[float] = BATCH_RETRY_PAUSES,
        retry_pauses: Sequence[float] = RETRY_PAUSES,
    ) -> None:
        if max_batch < 1 or max_queued < max_batch:
            raise ValueError("need 1 <= max_batch <= max_queued")
        self._apply = apply
        self.what = what
        self._on_outcome = on_outcome
        self.max_batch = max_batch
        self.linger = linger
        self.batch_retry_pauses = tuple(batch_retry_pauses)
        self.retry_pauses = tuple(retry_pauses)
        self._queue: deque[_Queued[T, R]] = deque()
        # One unit per item queued or being written, given back when the item is settled.
        self._room = asyncio.Semaphore(max_queued)
        self._full = asyncio.Event()  # the queue holds a whole batch: stop lingering
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # transactions that committed (for tests and benchmarks)

    @property
    def queued(self) -> int:
        """Items waiting for a batch (not counting the batch being written)."""
        return len(self._queue)

    async def submit(self, change: T) -> R:
        """Queue the item and return what it did once it is committed.

        Raises what the last try raised when the item could not be written. A caller that is
        cancelled while waiting does not take its item back: it is written all the same.
        """
        outcome: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        await self._enqueue(_Queued(change, outcome))
        try:
            return await asyncio.shield(outcome)
        except asyncio.CancelledError:
            outcome.add_done_callback(_retrieve)  # nobody will read a failure: no warning
            raise

    async def put(self, change: T) -> None:
        """Queue the item and return at once (waiting only while the queue is full): for
        items whose outcome only `on_outcome` needs (events already acked, posted ids)."""
        await self._enqueue(_Queued(change, None))

    async def flush(self, grace_seconds: float) -> bool:
        """Wait until every queued item is written (or failed); False on timeout."""
        await asyncio.sleep(0)  # let listeners that are already running queue their items
        try:
            async with asyncio.timeout(grace_seconds):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def _enqueue(self, queued: _Queued[T, R]) -> None:
        await self._room.acquire()
        self._queue.append(queued)
        if len(self._queue) >= self.max_batch:
            self._full.set()
        if self._task is None:
            self._idle.clear()
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"stretchbot-{self.what.replace(' ', '-')}-writer"
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
            self._fail(queued, RuntimeError(f"the {self.what} writer stopped: {exc!r}"))
            raise
        finally:
            self._task = None
            self._idle.set()

    async def _write(self, batch: list[_Queued[T, R]]) -> None:
        """Apply the batch, retrying it; split it when it keeps failing; settle every item."""
        pauses = self.retry_pauses if len(batch) == 1 else self.batch_retry_pauses
        for attempt in range(len(pauses) + 1):
            try:
                outcomes = await self._apply([queued.change for queued in batch])
                if len(outcomes) != len(batch):
                    raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} items")
            except Exception as exc:
                if attempt < len(pauses):
                    logger.warning(
                        "writing %d %s(s) failed; retrying in %.1fs",
                        len(batch),
                        self.what,
                        pauses[attempt],
                        exc_info=True,
                    )
                    await asyncio.sleep(pauses[attempt])
                    continue
                if len(batch) > 1:
                    half = len(batch) // 2
                    logger.warning(
                        "writing %d %ss keeps failing; splitting them", len(batch), self.what
                    )
                    await self._write(batch[:half])
                    await self._write(batch[half:])
                    return
                self._fail(batch, exc)
                return
            self.batches += 1
            self._settle(batch, outcomes)
            return

    def _settle(self, batch: list[_Queued[T, R]], outcomes: list[R]) -> None:
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

    def _fail(self, batch: list[_Queued[T, R]], exc: BaseException) -> None:
        for queued in batch:
            if queued.settled:
                continue
            queued.settled = True
            self._room.release()
            if queued.outcome is None:
                logger.error("%s not written: %r: %r", self.what, queued.change, exc)
            elif not queued.outcome.done():
                queued.outcome.set_exception(exc)


def _retrieve(future: asyncio.Future[R]) -> None:
    if not future.cancelled():
        future.exception()
