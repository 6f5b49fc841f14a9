"""The hand-over from claimed slots to the posting workers: each claim is marked as sending, in
chunks (one transaction each), just before a worker takes it.

A claim marked as sending is never taken over by another process, so it is the only kind a
crash can lose; one not yet marked is taken over once its lease runs out. Few marked claims
wait for a worker (`room`), so a crash loses at most the posts under way plus those few; and
marking waits until half the room is free, so a pass costs a transaction per `room / 2` posts
instead of one per post, and the next chunk is marked while the workers post the last one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

logger = logging.getLogger("stretchbot.services.nudging")

T = TypeVar("T")

Mark = Callable[[Sequence[int]], Awaitable[set[int]]]


class SendQueue(Generic[T]):
    """Claims on their way to the workers: `put` (claimed, unmarked; at most `ahead` wait),
    `get` (marked as sending; at most `room` wait), `close` when no more come."""

    def __init__(
        self,
        mark: Mark,
        *,
        ident: Callable[[T], int],
        ahead: int,
        room: int,
        on_unsent: Callable[[T, str], None],
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self._mark = mark
        self._ident = ident
        self._on_unsent = on_unsent  # a claim not marked: "taken_over" or "error"
        self._stopping = stopping
        self._room = max(1, room)
        self._threshold = max(1, self._room // 2)
        self._free = self._room
        self._pending: asyncio.Queue[T | None] = asyncio.Queue(maxsize=max(1, ahead))
        self._ready: asyncio.Queue[T | None] = asyncio.Queue()
        self._roomy = asyncio.Event()  # set while at least `_threshold` places are free
        self._roomy.set()
        self._feeder: asyncio.Task[None] | None = None
        self.marks = 0  # transactions that marked claims (for tests and benchmarks)

    def start(self) -> None:
        self._feeder = asyncio.get_running_loop().create_task(
            self._feed(), name="stretchbot-sending-marks"
        )

    async def put(self, item: T) -> None:
        await self._pending.put(item)

    async def get(self) -> T | None:
        """The next claim marked as sending; None when the queue is closed and empty."""
        item = await self._ready.get()
        if item is not None:
            self._give_place()
        return item

    def _give_place(self) -> None:
        self._free += 1
        if self._free >= self._threshold:
            self._roomy.set()

    async def close(self, workers: int) -> None:
        """No more claims: mark and hand out what is queued, then one None per worker."""
        feeder = self._feeder
        if feeder is not None and not feeder.done():
            await self._pending.put(None)
            with contextlib.suppress(Exception):
                await feeder
        for _ in range(workers):
            self._ready.put_nowait(None)

    async def _feed(self) -> None:
        closed = False
        while not closed:
            first = await self._pending.get()
            if first is None:
                break
            chunk = [first]
            while self._free < self._threshold:
                self._roomy.clear()
                await self._roomy.wait()
            want = self._free
            while len(chunk) < want and not self._pending.empty():
                more = self._pending.get_nowait()
                if more is None:
                    closed = True
                    break
                chunk.append(more)
            self._free -= len(chunk)
            if self._stopping():  # shutting down: the workers give them back unposted
                for item in chunk:
                    self._ready.put_nowait(item)
                continue
            await self._hand_over(chunk)

    async def _hand_over(self, chunk: list[T]) -> None:
        try:
            marked = await self._mark([self._ident(item) for item in chunk])
            self.marks += 1
            reason = "taken_over"
        except Exception:  # unmarked, they stay claimed: taken over when their leases end
            logger.exception("nudge.error marking %d claims as sending", len(chunk))
            marked, reason = set(), "error"
        for item in chunk:
            if self._ident(item) in marked:
                self._ready.put_nowait(item)
                continue
            self._give_place()
            self._on_unsent(item, reason)
