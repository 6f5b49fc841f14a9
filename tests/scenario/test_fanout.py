"""A slot where many channels are due at once, through the real bot (SQLite) and fake Slack.

The fan-out claims its channels in batches (one transaction per batch), posts them from a pool
of workers, and writes the posted message ids in batches; these tests pin down what users see
(every channel once, reactions count at once) and the batching itself (transactions per pass).
"""

from __future__ import annotations

import collections
import logging
import math
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot import nudging as nudging_module
from bot.app import Runtime, start
from bot.ports import PostedNudge
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import (
    BotDriver,
    FakeClock,
    assert_no_repeat_of_the_last_three,
    bot_settings,
    eventually,
)
from tests.scenario.test_replicas import EVERY_15M_ALL_DAY, channel_ids, nudge_rows, seed_channels


@pytest.fixture
def commits(bot: BotDriver) -> Iterator[list[int]]:
    """Counts the transactions the bot commits (one list item per COMMIT)."""
    seen: list[int] = []
    engine = bot.runtime.engine.sync_engine

    def on_commit(_conn: Any) -> None:
        seen.append(1)

    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", on_commit)


async def test_a_big_slot_posts_every_channel_once_in_few_transactions(
    bot: BotDriver, commits: list[int]
) -> None:
    channels = channel_ids("CF", 150)
    slot = bot.clock()
    await seed_channels(bot.runtime.engine, bot.slack, channels, EVERY_15M_ALL_DAY, slot)
    commits.clear()

    outcomes = await bot.services.nudging.run_due_nudges(slot)

    assert collections.Counter(o.decision for o in outcomes) == {"posted": len(channels)}
    assert {c: len(bot.posts(c)) for c in channels} == dict.fromkeys(channels, 1)
    rows = await nudge_rows(bot.runtime.engine)
    assert all(status == "posted" and ts for _, _, status, ts in rows), rows
    # One claim transaction per batch and one id write per POSTED_BATCH posts (a few more when
    # the delay flushes a short batch), against three transactions a channel before batching;
    # plus the sending marks, each covering the claims the workers took meanwhile (at most
    # max(2, workers / 2) wait marked, so a crash loses few: tests/e2e/test_sigkill_bound.py).
    workers = bot.services.nudging.post_concurrency
    claim_batch = min(nudging_module.CLAIM_BATCH, 4 * workers)
    sending = bot.services.nudging.send_queue
    assert sending is not None and sending.marks < len(channels)
    ceiling = (
        math.ceil(len(channels) / claim_batch)
        + 2 * math.ceil(len(channels) / nudging_module.POSTED_BATCH)
        + sending.marks
    )
    assert len(commits) <= ceiling + 2, f"{len(commits)} transactions for {len(channels)} posts"

    # A reaction right after the pass counts: the message ids are all written by then.
    channel, ts = channels[77], bot.posts(channels[77])[0]["ts"]
    await bot.react(user="U0042", ts=ts, channel=channel)

    async def counted() -> bool:
        return await bot.breaks(channel) == {"U0042": 1}

    await eventually(counted, what="the break on a nudge of the fan-out")
    # The next slot finds nothing due twice and the cursors all moved on.
    assert await bot.services.nudging.run_due_nudges(slot + timedelta(seconds=30)) == []


async def test_a_failed_id_write_is_retried(
    bot: BotDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = bot.services.nudging.posted_ids
    monkeypatch.setattr(writer, "batch_retry_pauses", (0.0,))
    monkeypatch.setattr(writer, "retry_pauses", (0.0, 0.0))
    channels = channel_ids("CR", 10)
    slot = bot.clock()
    await seed_channels(bot.runtime.engine, bot.slack, channels, EVERY_15M_ALL_DAY, slot)
    nudges = bot.services.storage.nudges
    real = nudges.mark_posted_many
    failures = [OSError("connection reset"), OSError("connection reset")]

    async def flaky(posted: list[PostedNudge]) -> None:
        if failures:
            raise failures.pop()
        await real(posted)

    monkeypatch.setattr(nudges, "mark_posted_many", flaky)
    outcomes = await bot.services.nudging.run_due_nudges(slot)

    assert {o.decision for o in outcomes} == {"posted"} and not failures
    rows = await nudge_rows(bot.runtime.engine)
    assert len(rows) == 10 and all(status == "posted" and ts for _, _, status, ts in rows)
    assert sum(len(bot.posts(c)) for c in channels) == 10  # nothing posted twice


async def test_a_now_between_slots_counts_for_the_no_repeat_rule(bot: BotDriver) -> None:
    """The scheduled picks are kept on the channel row; `/stretch now` forgets them, so the
    next scheduled pick reads the nudges, `now` included."""
    await bot.command("every 15m 09:00-17:00 daily")
    at = datetime(2026, 11, 23, 8, 15, tzinfo=bot.clock().tzinfo)
    for n in range(9):
        bot.clock.set(at)
        await bot.services.nudging.run_due_nudges(at)
        if n % 3 == 1:
            before = len(bot.posts())
            await bot.command("now", wait_reply=False)
            await _eventually_posts(bot, before + 1)
        at += timedelta(minutes=15)
    assert_no_repeat_of_the_last_three(bot, 12)


async def _eventually_posts(bot: BotDriver, count: int) -> None:
    async def enough() -> bool:
        return len(bot.posts()) >= count and await _all_posted(bot)

    await eventually(enough, what="the /stretch now post")


async def _all_posted(bot: BotDriver) -> bool:
    rows = await nudge_rows(bot.runtime.engine)
    return all(status == "posted" for _, _, status, _ in rows)


@pytest.fixture
async def capped(slack: FakeSlack, clock: FakeClock, sqlite_url: str) -> AsyncIterator[Runtime]:
    """A bot with 8 posts in flight overall but at most 3 per workspace (all channels here are
    in one workspace, so 3 binds)."""
    settings = bot_settings(
        slack, sqlite_url, POST_CONCURRENCY=8, SLACK_WORKSPACE_CONCURRENCY=3, LOG_LEVEL="INFO"
    )
    runtime = await start(settings, clock=clock, scheduler_on=False)
    try:
        yield runtime
    finally:
        await runtime.stop()


async def test_a_fan_out_keeps_to_its_caps_and_to_every_retry_after(
    capped: Runtime, slack: FakeSlack, clock: FakeClock
) -> None:
    channels = channel_ids("CL", 30)
    await seed_channels(capped.engine, slack, channels, EVERY_15M_ALL_DAY, clock())
    slack.latency = 0.02
    slack.rate_limit("chat.postMessage", times=3, retry_after=1)

    outcomes = await capped.services.nudging.run_due_nudges(clock())

    assert collections.Counter(o.decision for o in outcomes) == {"posted": 30}
    assert {c: len(slack.messages_in(c)) for c in channels} == dict.fromkeys(channels, 1)
    assert slack.max_in_flight["chat.postMessage"] == 3  # the workspace cap, fully used
    calls = slack.calls_to("chat.postMessage")
    limited = [call for call in calls if call.status == 429]
    assert len(limited) == 3
    for call in limited:
        retry = next(
            later
            for later in calls
            if later.params["channel"] == call.params["channel"]
            and later.received_at > call.received_at
        )
        waited = retry.received_at - call.received_at
        assert waited >= 0.95, f"retried {waited:.2f}s after a 429 with Retry-After: 1"


async def test_a_post_that_fails_for_good_is_logged_counted_and_never_retried(
    capped: Runtime, slack: FakeSlack, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_channels(capped.engine, slack, ["CX00001"], EVERY_15M_ALL_DAY, clock())
    # An error retrying cannot fix (a rate limit is waited out instead: test_rate_limits.py).
    slack.fail_with_error("chat.postMessage", "restricted_action", times=100)

    with caplog.at_level(logging.INFO, logger="stretchbot.services"):
        outcomes = await capped.services.nudging.run_due_nudges(clock())

    assert [(o.decision, o.detail) for o in outcomes] == [("failed", "restricted_action")]
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert any(
        "nudge.failed" in r.getMessage()
        and "channel=CX00001" in r.getMessage()
        and "reason=restricted_action" in r.getMessage()
        for r in caplog.records
    ), [r.getMessage() for r in caplog.records]
    metrics = capped.services.metrics.render().decode()
    assert (
        'stretchbot_posts_failed_total{platform="slack",reason="restricted_action"} 1.0' in metrics
    )
    # The slot is spent: the next pass (and the next slot) do not post it again.
    slack.clear_faults()
    assert await capped.services.nudging.run_due_nudges(clock() + timedelta(seconds=30)) == []
    assert slack.messages_in("CX00001") == []
    rows = await nudge_rows(capped.engine)
    assert [(status, ts) for _, _, status, ts in rows] == [("failed", None)]
