"""`handlers.slack.rate_gate`: the per-(workspace, method) gate a 429 closes."""

from __future__ import annotations

import asyncio

import pytest

from handlers.slack.rate_gate import DEFAULT_RETRY_AFTER, MAX_PAUSE, RateGate, retry_after_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_429_closes_only_its_workspace_and_method_and_never_shortens() -> None:
    clock = Clock()
    gate = RateGate(clock=clock)
    assert gate.close("T1", "chat.postMessage", 5) == 105.0
    assert gate.close("T1", "chat.postMessage", 1) == 105.0  # a shorter answer keeps the window
    assert gate.opens_at("T1", "chat.postMessage") == 105.0
    assert gate.opens_at("T2", "chat.postMessage") is None
    assert gate.opens_at("T1", "chat.update") is None
    assert gate.close("T1", "chat.update", 0) == 101.0  # "0" still pauses a second
    clock.now = 105.0
    assert gate.opens_at("T1", "chat.postMessage") is None


async def test_waiting_gives_up_at_once_past_its_patience_and_on_stop() -> None:
    gate = RateGate()
    opens = gate.close("T1", "chat.postMessage", 30)
    assert await gate.wait("T1", "chat.postMessage", until=opens - 1) is False
    assert await gate.wait("T2", "chat.postMessage") is True  # open
    waiting = asyncio.create_task(gate.wait("T1", "chat.postMessage"))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    gate.stop()
    assert await asyncio.wait_for(waiting, 1.0) is False
    assert gate.stopping


async def test_waiting_ends_when_the_window_does() -> None:
    gate = RateGate()
    gate._opens_at[("T1", "chat.postMessage")] = gate.clock() + 0.05
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await gate.wait("T1", "chat.postMessage") is True
    assert loop.time() - started >= 0.04


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": ["7"]}, 7.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": "soon"}, DEFAULT_RETRY_AFTER),
        ({"Retry-After": "-4"}, DEFAULT_RETRY_AFTER),
        ({"Retry-After": "nan"}, DEFAULT_RETRY_AFTER),
        ({"Retry-After": "inf"}, MAX_PAUSE),
        ({}, DEFAULT_RETRY_AFTER),
        (None, DEFAULT_RETRY_AFTER),
    ],
)
def test_retry_after_header(headers: object, seconds: float) -> None:
    assert retry_after_seconds(headers) == seconds
