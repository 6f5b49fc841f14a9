"""Coalesced message updates: at most one refresh per message every `interval` seconds, the
last state always shown.

The first change to a message refreshes it at once; changes arriving while a refresh runs or
during the pause after it are folded into one more refresh at the end of the pause. A refresh
reads the current state itself, so whatever it shows last is exact. One task per message runs
only while there is something to show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

logger = logging.getLogger("stretchbot.coalescing")

K = TypeVar("K", bound=Hashable)

Sleep = Callable[[float], Awaitable[None]]


class UpdateCoalescer(Generic[K]):
    """Calls `refresh(key)` for touched keys, at most once per `interval` seconds per key."""

    def __init__(
        self,
        refresh: Callable[[K], Awaitable[None]],
        *,
        interval: float,
        sleep: Sleep = asyncio.sleep,
        what: str = "message",
    ) -> None:
        self._refresh = refresh
        self.interval = interval
        self._sleep = sleep
        self.what = what
        self._tasks: dict[K, asyncio.Task[None]] = {}
        self._dirty: set[K] = set()
        self.refreshes = 0  # refreshes made (for tests and benchmarks)

    def touch(self, key: K) -> None:
        """The message changed: refresh it now, or once more after the running pause."""
        if key in self._tasks:
            self._dirty.add(key)
            return
        self._tasks[key] = asyncio.get_running_loop().create_task(
            self._run(key), name=f"stretchbot-{self.what}-refresh"
        )

    async def _run(self, key: K) -> None:
        try:
            while True:
                self._dirty.discard(key)
                try:
                    await self._refresh(key)
                except Exception:  # one failed refresh must not stop the next one
                    logger.exception("refreshing a %s failed", self.what)
                self.refreshes += 1
                await self._sleep(self.interval)
                if key not in self._dirty:
                    return
        finally:
            self._tasks.pop(key, None)

    async def drain(self, grace_seconds: float) -> bool:
        """Wait for the refreshes under way and due (shutting down); False on timeout."""
        tasks = list(self._tasks.values())
        if not tasks:
            return True
        _done, pending = await asyncio.wait(tasks, timeout=grace_seconds)
        return not pending

    def cancel(self) -> int:
        """Give up the refreshes under way and due (after a `drain` timed out at shutdown, so
        none runs once the database is gone); returns how many."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        self._dirty.clear()
        return len(tasks)

    @property
    def pending(self) -> int:
        return len(self._tasks)
