"""Rate-limited log lines: a client that repeats one mistake cannot flood the logs.

Mistakes anyone can make from outside (a body cut off mid-way, a mistyped signed payload, a
forged Teams token) are worth one line so an operator sees them, not one line per request.
Each kind of line is let through once per window (a minute); the ones held back in that window
are counted and reported in one more line when the window ends.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

WINDOW_SECONDS = 60.0

# Runs a callback after a delay (seconds); the default is the running event loop's call_later.
Schedule = Callable[[float, Callable[[], None]], object]
# Marks the limiter's own count lines, so a `limited_filter` on the same logger lets them pass.
_REPORT = "stretchbot_limiter_report"


@dataclass
class _Kind:
    logger: logging.Logger
    level: int
    until: float = 0.0
    held: int = 0
    flush_pending: bool = field(default=False)


class LogLimiter:
    """Lets the first line of each kind through per window and counts the rest.

    Args:
        window: seconds a let-through line speaks for.
        monotonic: the clock (injectable for tests).
        schedule: runs the end-of-window report; default: the running loop's `call_later`
            (without a running loop, the count is reported with the next line let through).
    """

    def __init__(
        self,
        *,
        window: float = WINDOW_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        schedule: Schedule | None = None,
    ) -> None:
        self.window = window
        self._monotonic = monotonic
        self._schedule = schedule
        self._kinds: dict[str, _Kind] = {}

    def allow(self, logger: logging.Logger, level: int, kind: str) -> bool:
        """Whether a line of `kind` may be logged now; counts it as held back if not.

        `kind` names the line in the end-of-window count (a fixed string from the code, never
        input); `logger` and `level` are where that count goes.
        """
        now = self._monotonic()
        state = self._kinds.get(kind)
        if state is None:
            state = self._kinds[kind] = _Kind(logger, level)
        if now >= state.until:
            if state.held:  # a window ended with no timer to report it
                self._report(kind, state)
            state.until = now + self.window
            return True
        state.held += 1
        if not state.flush_pending:
            state.flush_pending = self._arm(state.until - now, lambda: self._flush(kind))
        return False

    def log(self, logger: logging.Logger, level: int, kind: str, msg: str, *args: object) -> bool:
        """Log `msg % args` at `level` unless a line of `kind` was let through this window.
        Returns whether the line was logged."""
        if not self.allow(logger, level, kind):
            return False
        logger.log(level, msg, *args)
        return True

    def warning(self, logger: logging.Logger, kind: str, msg: str, *args: object) -> bool:
        """`log` at WARNING."""
        return self.log(logger, logging.WARNING, kind, msg, *args)

    def held(self, kind: str) -> int:
        """Lines of `kind` held back in the current window and not reported yet."""
        state = self._kinds.get(kind)
        return state.held if state is not None else 0

    def _arm(self, delay: float, callback: Callable[[], None]) -> bool:
        if self._schedule is not None:
            self._schedule(delay, callback)
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        loop.call_later(delay, callback)
        return True

    def _flush(self, kind: str) -> None:
        state = self._kinds[kind]
        state.flush_pending = False
        if state.held:
            self._report(kind, state)

    def _report(self, kind: str, state: _Kind) -> None:
        state.logger.log(
            state.level,
            "%d more %s in the last %.0f s (logged once a minute)",
            state.held,
            kind,
            self.window,
            extra={_REPORT: True},
        )
        state.held = 0


# One limiter per process: "once a minute" is about what reaches the operator, whoever logs it.
LIMITER = LogLimiter()


def warn_limited(logger: logging.Logger, kind: str, msg: str, *args: object) -> bool:
    """A WARNING through the process's limiter (see `LogLimiter.log`)."""
    return LIMITER.warning(logger, kind, msg, *args)


def limited_filter(kind: str) -> Callable[[logging.LogRecord], bool]:
    """A logging filter that sends a library's records through the process's limiter as
    `kind`: for libraries that log one line per hostile request. Add it once per logger
    (`Logger.addFilter` ignores a filter it already has)."""

    def let_through(record: logging.LogRecord) -> bool:
        if getattr(record, _REPORT, False):
            return True
        return LIMITER.allow(logging.getLogger(record.name), record.levelno, kind)

    return let_through


_SLACK_TOKEN = re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+")


def redact_slack_tokens(record: logging.LogRecord) -> bool:
    """A logging filter that blanks Slack tokens (`xoxb-...`, `xoxe-...`) in a record: for
    slack_sdk, whose DEBUG lines carry whole response bodies, oauth.v2.access's new token
    included. Never drops the record."""
    message = record.getMessage()
    if "xox" in message:
        record.msg, record.args = _SLACK_TOKEN.sub("xox?-(redacted)", message), None
    return True


def loggable(value: Any, limit: int = 100) -> str:
    """`value` safe for a log line: its repr (quoted, with line breaks and other control
    characters escaped, so input cannot forge a line), cut to about `limit` characters."""
    if isinstance(value, str):
        return repr(value[:limit]) + ("..." if len(value) > limit else "")
    text = repr(value)
    return text[:limit] + ("..." if len(text) > limit else "")


def raised_at(error: BaseException) -> str:
    """Where `error` was raised, as `folder/file.py:line` of its innermost frame ("" if none):
    enough to find a bug from one log line without a traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f"{PurePath(last.filename).parent.name}/{PurePath(last.filename).name}:{last.lineno}"
