"""Slack's rate limits during a fan-out, through the real bot (SQLite) and the fake Slack.

A 429 with Retry-After is a verdict on every post to that workspace: no post of any worker may
land inside the window (tests/fakes/slack_api.py `workspace_limit` records those that do). A
nudge that is rate-limited keeps its turn while the slot's grace period lasts, and is counted
as skipped, with a log line, when the grace runs out: never dropped silently.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import Runtime, start
from storage.models import ChannelRow
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import FakeClock, bot_settings
from tests.scenario.test_replicas import EVERY_15M_ALL_DAY, channel_ids, nudge_rows, seed_channels


@pytest.fixture
async def pool(slack: FakeSlack, clock: FakeClock, sqlite_url: str) -> AsyncIterator[Runtime]:
    """A bot with 8 workers and 4 posts in flight per workspace (all channels here are in
    one workspace)."""
    settings = bot_settings(
        slack, sqlite_url, POST_CONCURRENCY=8, SLACK_WORKSPACE_CONCURRENCY=4, LOG_LEVEL="INFO"
    )
    runtime = await start(settings, clock=clock, scheduler_on=False)
    try:
        yield runtime
    finally:
        await runtime.stop()


def rate_limited_total(runtime: Runtime) -> float:
    for line in runtime.services.metrics.render().decode().splitlines():
        if line.startswith('stretchbot_chat_api_rate_limited_total{method="chat.postMessage"'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_no_post_lands_inside_a_workspaces_retry_after_window(
    pool: Runtime, slack: FakeSlack, clock: FakeClock
) -> None:
    channels = channel_ids("CG", 30)
    await seed_channels(pool.engine, slack, channels, EVERY_15M_ALL_DAY, clock())
    slack.latency = 0.01
    slack.workspace_limit = 10  # posts/s: the 30 posts need three windows at least

    outcomes = await pool.services.nudging.run_due_nudges(clock())

    assert collections.Counter(o.decision for o in outcomes) == {"posted": 30}
    assert {c: len(slack.messages_in(c)) for c in channels} == dict.fromkeys(channels, 1)
    limited = [c for c in slack.calls_to("chat.postMessage") if c.status == 429]
    assert limited, "the workspace limit never bound: the test proves nothing"
    assert slack.max_in_flight["chat.postMessage"] >= 2  # several workers were posting
    assert slack.posts_in_retry_window == [], (
        f"{len(slack.posts_in_retry_window)} posts landed inside a Retry-After window"
    )
    assert rate_limited_total(pool) == len(limited)


async def test_a_nudge_rate_limited_five_times_is_posted_within_its_grace(
    pool: Runtime, slack: FakeSlack, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_channels(pool.engine, slack, ["CP00001"], EVERY_15M_ALL_DAY, clock())
    slack.rate_limit("chat.postMessage", times=5, retry_after=1)

    with caplog.at_level(logging.INFO, logger="stretchbot.services"):
        outcomes = await pool.services.nudging.run_due_nudges(clock())

    assert [o.decision for o in outcomes] == ["posted"]
    calls = slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429] * 5 + [200]
    # Each try waited out the Retry-After of the one before.
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(calls)]
    assert min(gaps) >= 0.95, gaps
    assert len(slack.messages_in("CP00001")) == 1
    [(_, _, status, ts)] = await nudge_rows(pool.engine)
    assert (status, ts) == ("posted", slack.messages_in("CP00001")[0]["ts"])
    assert not any("nudge.failed" in r.getMessage() for r in caplog.records)
    assert rate_limited_total(pool) == 5


async def test_a_nudge_still_rate_limited_when_its_grace_ends_is_counted_skipped(
    pool: Runtime, slack: FakeSlack, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    slot = clock()
    await seed_channels(pool.engine, slack, ["CQ00001"], EVERY_15M_ALL_DAY, slot)
    slack.rate_limit("chat.postMessage", times=100, retry_after=1)  # Slack never lets up
    grace = pool.services.nudging.grace
    clock.set(slot + grace - timedelta(seconds=2))  # two seconds of grace left

    with caplog.at_level(logging.INFO, logger="stretchbot.services"):
        outcomes = await pool.services.nudging.run_due_nudges(clock())

    assert [(o.decision, o.detail) for o in outcomes] == [("skipped_ratelimited", "ratelimited")]
    assert 2 <= len(slack.calls_to("chat.postMessage")) <= 3  # kept trying for the 2 s
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        "nudge.skipped_ratelimited" in line
        and "channel=CQ00001" in line
        and f"slot={slot.isoformat()}" in line
        for line in lines
    ), lines
    metrics = pool.services.metrics.render().decode()
    assert 'stretchbot_nudges_skipped_total{reason="ratelimited"} 1.0' in metrics
    assert [(status) for _, _, status, _ in await nudge_rows(pool.engine)] == ["skipped"]
    # Given up for good: the next pass does not post it.
    slack.clear_faults()
    assert await pool.services.nudging.run_due_nudges(clock() + timedelta(seconds=30)) == []
    assert slack.messages_in("CQ00001") == []


async def test_stopping_while_waiting_out_a_429_gives_the_slot_back(
    pool: Runtime, slack: FakeSlack, clock: FakeClock
) -> None:
    slot = clock()
    await seed_channels(pool.engine, slack, ["CS00001"], EVERY_15M_ALL_DAY, slot)
    slack.rate_limit("chat.postMessage", times=100, retry_after=30)
    task = asyncio.create_task(pool.services.nudging.run_due_nudges(slot))
    await slack.wait_for("chat.postMessage")

    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(pool.stop(), 10.0)
    outcomes = await asyncio.wait_for(task, 5.0)

    assert loop.time() - started < 3.0  # it did not sit out the 30 s
    assert [o.decision for o in outcomes] == ["released"]
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert await nudge_rows(pool.engine) == []  # given back: due again for a restart
    async with pool.engine.connect() as conn:
        cursor = await conn.scalar(
            select(ChannelRow.next_slot_at).where(ChannelRow.channel_id == "CS00001")
        )
    assert cursor == slot
