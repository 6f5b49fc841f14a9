"""A shared gate per (workspace, Web API method) that a 429 closes until its Retry-After ends.

Slack rate-limits each method per workspace (per app). A 429 answered to one request is a
verdict on every request of that method to that workspace, so the gate is shared by every post
of the process: each request waits at the gate first, and any 429 closes it for every worker
until the window its `Retry-After` names has passed (a later, longer answer extends it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

Clock = Callable[[], float]

DEFAULT_RETRY_AFTER = 30.0  # seconds, when a 429 carries no usable Retry-After
MIN_PAUSE = 1.0  # Slack's Retry-After is whole seconds; "0" still means "not right now"
MAX_PAUSE = 3600.0  # a nonsensical Retry-After must not close a gate for good


class RateGate:
    """When each (workspace, method) may be called again; every request waits for its gate."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._opens_at: dict[tuple[str, str], float] = {}
        self._stopping = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Shutting down: whoever waits at a closed gate gives up now (their requests were
        never sent, so what they carried can be given back); open gates let calls through."""
        self._stopping.set()

    def close(self, team_id: str, method: str, seconds: float) -> float:
        """A 429 said wait `seconds`: close the gate that long (never shortening a window
        already closed for longer). Returns when the gate opens again (clock time)."""
        key = (team_id, method)
        opens_at = max(self._opens_at.get(key, 0.0), self.clock() + max(MIN_PAUSE, seconds))
        self._opens_at[key] = opens_at
        return opens_at

    def opens_at(self, team_id: str, method: str) -> float | None:
        """When the gate opens (clock time), or None when it is open now."""
        key = (team_id, method)
        opens_at = self._opens_at.get(key)
        if opens_at is None:
            return None
        if opens_at <= self.clock():
            self._opens_at.pop(key, None)
            return None
        return opens_at

    async def wait(self, team_id: str, method: str, *, until: float | None = None) -> bool:
        """Wait until the gate is open. False, at once, when it stays closed past `until`
        (clock time): the caller cannot wait that long; or when shutting down (`stop`)."""
        while (opens_at := self.opens_at(team_id, method)) is not None:
            if self.stopping or (until is not None and opens_at > until):
                return False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, opens_at - self.clock())):
                    await self._stopping.wait()
        return True


def retry_after_seconds(headers: object) -> float:
    """Seconds in a 429's Retry-After header (DEFAULT_RETRY_AFTER when it has none)."""
    items = headers.items() if isinstance(headers, dict) or hasattr(headers, "items") else []
    for name, value in items:
        if str(name).lower() == "retry-after":
            text = str(value[0] if isinstance(value, list) and value else value).strip()
            try:
                seconds = float(text)
            except ValueError:
                return DEFAULT_RETRY_AFTER
            if seconds != seconds:  # NaN
                return DEFAULT_RETRY_AFTER
            return min(seconds, MAX_PAUSE) if seconds >= 0 else DEFAULT_RETRY_AFTER
    return DEFAULT_RETRY_AFTER
