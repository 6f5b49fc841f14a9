"""Pacing of message edits (`chat.update`) per workspace, within Slack's rate tier.

`chat.update` is a Tier 3 method: Slack allows it "50+ per minute" per workspace. A burst of
reactions across many nudges at once (a shared slot in a big workspace) would otherwise edit
hundreds of messages in a second and get 429s. Every edit (who-moved lines on nudges, group
break roll calls) first takes a turn here: a token bucket of `BURST` edits at once, then
`PER_MINUTE` a minute, so any 60 seconds hold at most BURST + PER_MINUTE = 50 edits per
workspace. Edits wait their turn in order (the coalescer folds the changes that arrive
meanwhile into the edit, so the last one is still exact). A 429 pauses the whole workspace
until its Retry-After has passed, then the edit is tried again: no edit of that workspace
reaches Slack inside a Retry-After window.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

PER_MINUTE = 40.0  # sustained edits per workspace and minute
BURST = 10.0  # edits a quiet workspace may make at once
DEFAULT_RETRY_AFTER = 30.0  # a 429 without a readable Retry-After

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class UpdatePacer:
    """A waiting token bucket per workspace, paused by 429s."""

    def __init__(
        self,
        *,
        per_minute: float = PER_MINUTE,
        burst: float = BURST,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self._tokens: dict[str, tuple[float, float]] = {}  # team -> (tokens, at)
        self._paused_until: dict[str, float] = {}
        self.waited = 0.0  # seconds edits spent waiting for a turn (for benchmarks)

    def pause(self, team_id: str, seconds: float) -> None:
        """Slack said 429: no edit for this workspace for `seconds` (at least one)."""
        until = self.clock() + max(1.0, seconds)
        self._paused_until[team_id] = max(until, self._paused_until.get(team_id, 0.0))

    async def turn(self, team_id: str) -> None:
        """Wait until this workspace may make one more edit, and take it."""
        while True:
            now = self.clock()
            paused = self._paused_until.get(team_id, 0.0) - now
            if paused > 0:
                self.waited += paused
                await self.sleep(paused)
                continue
            tokens, at = self._tokens.get(team_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            # Taken now (possibly into debt, which queues the next callers behind this one)
            # and paid back by the wait.
            self._tokens[team_id] = (tokens - 1, now)
            if tokens >= 1:
                return
            wait = (1 - tokens) / self.rate
            self.waited += wait
            await self.sleep(wait)
            if self._paused_until.get(team_id, 0.0) <= self.clock():
                return
            # A 429 came in while this edit waited: give the turn back and wait out the pause.
            tokens, at = self._tokens[team_id]
            self._tokens[team_id] = (tokens + 1, at)


def retry_after(headers: object) -> float:
    """Seconds in a 429's Retry-After header (`DEFAULT_RETRY_AFTER` when it has none)."""
    items = headers.items() if hasattr(headers, "items") else []
    for name, value in items:
        if str(name).lower() == "retry-after":
            text = str(value[0] if isinstance(value, list) and value else value).strip()
            try:
                return max(0.0, float(text))
            except ValueError:
                return DEFAULT_RETRY_AFTER
    return DEFAULT_RETRY_AFTER
