"""The install link's per-address limiter (handlers/slack/oauth.py), on an injected clock."""

from __future__ import annotations

from handlers.slack.oauth import InstallRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_install_limiter_counts_per_address_and_forgets_old_windows() -> None:
    clock = Clock()
    limiter = InstallRateLimiter(limit=3, window=60, max_addresses=5, monotonic=clock)
    assert [limiter.retry_after("10.0.0.1") for _ in range(5)] == [0, 0, 0, 60, 60]
    assert limiter.retry_after("10.0.0.2") == 0  # another address has its own budget
    clock.now += 59.5
    assert limiter.retry_after("10.0.0.1") == 1  # rounds up, never says 0 while refusing
    clock.now += 0.5
    assert limiter.retry_after("10.0.0.1") == 0  # a new window

    for n in range(100):  # many addresses: the map stays bounded
        limiter.retry_after(f"192.0.2.{n}")
    assert len(limiter) == 5
    clock.now += 61
    limiter.retry_after("198.51.100.1")
    assert len(limiter) == 1  # expired windows are dropped as new ones open
