"""The log limiter and log-line helpers (bot/logs.py), on an injected clock."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot import logs
from bot.logs import LogLimiter, limited_filter, loggable, raised_at, redact_slack_tokens


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Timers:
    """Records what the limiter schedules, to run it when the test says so."""

    def __init__(self) -> None:
        self.pending: list[tuple[float, Callable[[], None]]] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> None:
        self.pending.append((delay, callback))

    def run_all(self) -> None:
        pending, self.pending = self.pending, []
        for _, callback in pending:
            callback()


def messages(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name]


def test_one_line_per_window_then_the_count(caplog: pytest.LogCaptureFixture) -> None:
    clock, timers = Clock(), Timers()
    limiter = LogLimiter(window=60, monotonic=clock, schedule=timers)
    log = logging.getLogger("test.limiter")
    caplog.set_level(logging.INFO, logger="test.limiter")

    assert limiter.warning(log, "half bodies", "first %s", "one")
    for _ in range(299):
        clock.now += 0.1
        assert not limiter.warning(log, "half bodies", "again")
    assert messages(caplog, "test.limiter") == ["first one"]
    assert limiter.held("half bodies") == 299
    # One report scheduled, when the first line was held, for the end of the window.
    [(delay, _)] = timers.pending
    assert delay == pytest.approx(60 - 0.1)

    timers.run_all()
    assert messages(caplog, "test.limiter") == [
        "first one",
        "299 more half bodies in the last 60 s (logged once a minute)",
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records)

    clock.now += 31  # a new window: the next line goes through again
    assert limiter.warning(log, "half bodies", "later")
    assert messages(caplog, "test.limiter")[-1] == "later"
    # Kinds are counted apart.
    assert limiter.warning(log, "other", "another kind")


def test_without_a_timer_the_count_comes_with_the_next_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limiter = LogLimiter(window=60, monotonic=clock)  # no running loop here: nothing scheduled
    log = logging.getLogger("test.limiter.notimer")
    caplog.set_level(logging.INFO, logger="test.limiter.notimer")
    limiter.warning(log, "k", "one")
    limiter.warning(log, "k", "two")
    limiter.warning(log, "k", "three")
    clock.now += 61
    limiter.warning(log, "k", "four")
    assert messages(caplog, "test.limiter.notimer") == [
        "one",
        "2 more k in the last 60 s (logged once a minute)",
        "four",
    ]


def test_a_library_logger_filtered_through_the_limiter(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, timers = Clock(), Timers()
    monkeypatch.setattr(logs, "LIMITER", LogLimiter(monotonic=clock, schedule=timers))
    library = logging.getLogger("test.library.jwt")
    caplog.set_level(logging.INFO, logger="test.library.jwt")
    only = limited_filter("refused tokens")
    library.addFilter(only)
    library.addFilter(only)  # idempotent
    try:
        for _ in range(50):
            library.warning("JWT validation error: %s", "DecodeError")
        timers.run_all()
    finally:
        library.removeFilter(only)
    assert messages(caplog, "test.library.jwt") == [
        "JWT validation error: DecodeError",
        "49 more refused tokens in the last 60 s (logged once a minute)",
    ]


def test_loggable_values_cannot_forge_lines() -> None:
    forged = "access_denied\r\n2026-11-29 INFO stretchbot installed team=T0EVIL\x1b[2J\u2028"
    shown = loggable(forged)
    assert not any(ch in shown for ch in "\r\n\x1b\u2028")
    assert "\\r\\n" in shown and shown.startswith("'")
    assert len(loggable("x" * 10_000)) < 110
    assert loggable({"type": ["a\nb"]}) == "{'type': ['a\\nb']}"


def test_raised_at_names_the_innermost_frame() -> None:
    try:
        {}["missing"]
    except KeyError as error:
        assert raised_at(error).startswith("unit/test_logs.py:")
    assert raised_at(ValueError("never raised")) == ""


def test_slack_tokens_are_blanked_in_library_lines() -> None:
    record = logging.LogRecord(
        "slack_sdk.web.async_base_client",
        logging.DEBUG,
        __file__,
        1,
        "Received the following response - body: %s",
        ({"access_token": "xoxb-1-2-secret", "refresh_token": "xoxe-1-abc"},),
        None,
    )
    assert redact_slack_tokens(record)  # blanked, never dropped
    message = record.getMessage()
    assert "secret" not in message and "xoxe-1-abc" not in message
    assert message.count("xox?-(redacted)") == 2
