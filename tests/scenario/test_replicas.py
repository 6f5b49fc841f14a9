"""Several bot replicas on one PostgreSQL database, in process, with an injected clock.

Every replica is a full runtime (`bot.app.start`: Bolt app, web server, services, storage)
talking to the same FakeSlack; each gets its own bot token, so the fake's recorded `token`
says which replica posted. The scheduler is off: the test sets the shared clock to a slot and
calls `run_due_nudges` itself, never sleeping for a schedule.

Contract under test (docs DESIGN.md, "Schedule semantics"): each (channel, slot) is posted at
most once, whatever restarts or extra replicas happen.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime, time, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import nudging as nudging_module
from bot.app import Runtime, start
from bot.nudging import NudgeOutcome
from bot.schedules import ScheduleSpec
from storage.channels import spec_to_columns
from storage.engine import create_engine
from storage.models import ChannelRow, NudgeRow
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import TEAM, BotDriver, FakeClock, bot_settings, key

pytestmark = pytest.mark.postgres

# The size: 1,000 channels x 5 slots = 5,000 posts, both replicas and the fake in this
# one process (a few seconds since the fan-out claims in batches). DUE_BATCH (500) < 1,000, so
# every slot pages through the due list twice.
FAN_OUT_CHANNELS = 1000
SLOTS = 5

TOKEN_A = "xoxb-replica-a"
TOKEN_B = "xoxb-replica-b"
EVERY_15M_ALL_DAY = ScheduleSpec(
    interval=timedelta(minutes=15),
    tz="UTC",
    window_start=time(0, 0),
    window_end=time(23, 59),
    weekdays=frozenset(range(7)),
)

StartReplica = Callable[..., Awaitable[Runtime]]


# ---------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture
async def replicas(
    slack: FakeSlack, clock: FakeClock, postgres_url: str
) -> AsyncIterator[StartReplica]:
    """`await replicas(token, **settings)`: a runtime on the test's Postgres database (HTTP
    mode, PORT=0, scheduler off, the shared clock); all are stopped in teardown."""
    started: list[Runtime] = []

    async def factory(token: str, **overrides: Any) -> Runtime:
        settings = bot_settings(
            slack, postgres_url, SLACK_BOT_TOKEN=token, LOG_LEVEL="INFO", **overrides
        )
        runtime = await start(settings, clock=clock, scheduler_on=False)
        started.append(runtime)
        return runtime

    try:
        yield factory
    finally:
        for runtime in started:
            await runtime.stop()
            await runtime.engine.dispose()  # work that outlived stop() may have reconnected


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's own engine on the replicas' database (schema created by the first start)."""
    engine = create_engine(postgres_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def channel_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]


async def seed_channels(
    engine: AsyncEngine,
    slack: FakeSlack,
    ids: list[str],
    spec: ScheduleSpec,
    due: datetime,
    *,
    platform: str = "slack",
) -> None:
    """Schedule every channel in `ids` with `spec`, its next slot `due` (one bulk INSERT), and
    register the channels, bot a member, in the fake."""
    now = datetime.now(UTC)
    rows = [
        {
            "platform": platform,
            "team_id": TEAM,
            "channel_id": channel,
            **spec_to_columns(spec),
            "enabled": True,
            "paused": False,
            "seated_only": False,
            "weekly_board": False,
            "next_slot_at": due,
            "created_at": now,
            "updated_at": now,
        }
        for channel in ids
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(ChannelRow), rows)
    for channel in ids:
        slack.add_channel(channel, member=True)


async def nudge_rows(engine: AsyncEngine) -> list[tuple[str, datetime | None, str, str | None]]:
    """(channel_id, slot_at, status, message_id) of every nudge."""
    query = select(
        ChannelRow.channel_id, NudgeRow.slot_at, NudgeRow.status, NudgeRow.message_id
    ).join(ChannelRow, ChannelRow.id == NudgeRow.channel_pk)
    async with engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(query)]  # type: ignore[misc]


async def status_counts(engine: AsyncEngine) -> dict[str, int]:
    query = select(NudgeRow.status, func.count()).group_by(NudgeRow.status)
    async with engine.connect() as conn:
        return {status: count for status, count in await conn.execute(query)}


def scheduled_posts(slack: FakeSlack) -> list[tuple[str, str, str | None]]:
    """(channel, ts, token) of every successful chat.postMessage."""
    return [
        (str(call.params.get("channel")), str(call.response["ts"]), call.token)
        for call in slack.calls_to("chat.postMessage")
        if call.status == 200 and call.response.get("ok")
    ]


def decisions(outcomes: list[NudgeOutcome]) -> collections.Counter[str]:
    return collections.Counter(outcome.decision for outcome in outcomes)


async def wait_for(probe: Callable[[], Awaitable[Any]], *, timeout: float, what: str) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# 1. Two replicas, 1,000 channels (60 by default), 5 slots: every (channel, slot) exactly once


async def test_two_replicas_post_every_slot_of_every_channel_exactly_once(
    replicas: StartReplica,
    db: AsyncEngine,
    slack: FakeSlack,
    clock: FakeClock,
) -> None:
    assert nudging_module.DUE_BATCH < FAN_OUT_CHANNELS  # the pass pages through the due list
    a = await replicas(TOKEN_A)
    b = await replicas(TOKEN_B)
    channels = channel_ids("CR", FAN_OUT_CHANNELS)
    first = clock()  # Monday 08:00 UTC: a slot of the every-15-minutes schedule
    slots = [first + timedelta(minutes=15 * k) for k in range(SLOTS)]
    await seed_channels(db, slack, channels, EVERY_15M_ALL_DAY, first)

    split: dict[str, list[int]] = {TOKEN_A: [], TOKEN_B: []}
    lost_races = 0
    for slot in slots:
        clock.set(slot)
        out_a, out_b = await asyncio.gather(
            a.services.nudging.run_due_nudges(), b.services.nudging.run_due_nudges()
        )
        seen_a, seen_b = decisions(out_a), decisions(out_b)
        assert set(seen_a) <= {"posted", "lost_race"}, (slot, seen_a)
        assert set(seen_b) <= {"posted", "lost_race"}, (slot, seen_b)
        assert seen_a["posted"] + seen_b["posted"] == len(channels), (slot, seen_a, seen_b)
        posted_here = {o.channel.channel_id for o in [*out_a, *out_b] if o.decision == "posted"}
        assert posted_here == set(channels), slot
        assert all(o.slot_at == slot for o in [*out_a, *out_b]), slot
        split[TOKEN_A].append(seen_a["posted"])
        split[TOKEN_B].append(seen_b["posted"])
        lost_races += seen_a["lost_race"] + seen_b["lost_race"]
        # A second pass at the same time finds nothing due on either replica.
        again_a, again_b = await asyncio.gather(
            a.services.nudging.run_due_nudges(), b.services.nudging.run_due_nudges()
        )
        assert again_a == [] and again_b == [], (again_a, again_b)

    # The fake saw each channel exactly once per slot, from one replica or the other.
    posts = scheduled_posts(slack)
    assert len(posts) == len(channels) * len(slots)
    for channel in channels:
        assert len(slack.messages_in(channel)) == len(slots), channel
    by_token = collections.Counter(token for _, _, token in posts)
    assert by_token == {TOKEN_A: sum(split[TOKEN_A]), TOKEN_B: sum(split[TOKEN_B])}, by_token

    # The nudges table agrees: one posted row per (channel, slot), each the message the fake holds.
    rows = await nudge_rows(db)
    assert len(rows) == len(channels) * len(slots)
    assert {(channel, slot) for channel, slot, _, _ in rows} == {
        (channel, slot) for channel in channels for slot in slots
    }
    assert {status for _, _, status, _ in rows} == {"posted"}
    assert {(channel, ts) for channel, _, _, ts in rows} == {(c, ts) for c, ts, _ in posts}

    print(
        f"\nreplica split per slot: A={split[TOKEN_A]} B={split[TOKEN_B]} "
        f"(total A={by_token[TOKEN_A]}, B={by_token[TOKEN_B]}); lost races: {lost_races}"
    )
    assert by_token[TOKEN_A] > 0 and by_token[TOKEN_B] > 0, f"one replica did nothing: {split}"


# ---------------------------------------------------------------------------------------------
# 2. A schedule made through one replica is served by the other, without a restart


async def test_schedule_set_on_one_replica_is_posted_by_the_other(
    replicas: StartReplica, db: AsyncEngine, slack: FakeSlack, clock: FakeClock
) -> None:
    a = await replicas(TOKEN_A)
    b = await replicas(TOKEN_B)
    async with aiohttp.ClientSession() as http:
        reply = await BotDriver(a, slack, clock, http).command(
            "every 45m 09:00-17:00 weekdays tz UTC"
        )
    assert reply is not None and reply.get("response_type") == "in_channel", reply
    assert "First nudge: <!date^" in reply["text"], reply
    assert "|today 09:45 UTC>" in reply["text"], reply  # Monday 08:00 UTC now
    await a.stop()

    first_slot = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)
    clock.set(first_slot)
    outcomes = await b.services.nudging.run_due_nudges()
    assert [(o.channel, o.decision, o.slot_at) for o in outcomes] == [
        (key("C0001"), "posted", first_slot)
    ]
    assert await b.services.nudging.run_due_nudges() == []  # once

    [post] = [p for p in scheduled_posts(slack) if p[0] == "C0001"]
    assert post[2] == TOKEN_B, post
    assert len(slack.messages_in("C0001")) == 1
    assert await nudge_rows(db) == [("C0001", first_slot, "posted", post[1])]
    state = await b.services.storage.channels.get(key("C0001"))
    assert state is not None and state.next_slot_at == first_slot + timedelta(minutes=45)


# ---------------------------------------------------------------------------------------------
# 3. Shutdown during a fan-out: claimed slots finish, the rest stay due for the other replica


@pytest.mark.parametrize("entry", ["scheduler_pass", "run_due_nudges"])
async def test_stop_during_fan_out_loses_and_doubles_nothing(
    replicas: StartReplica,
    db: AsyncEngine,
    slack: FakeSlack,
    clock: FakeClock,
    entry: str,
) -> None:
    a = await replicas(TOKEN_A, POST_CONCURRENCY=8)
    b = await replicas(TOKEN_B, POST_CONCURRENCY=8)
    channels = channel_ids("CS", 200)
    await seed_channels(db, slack, channels, EVERY_15M_ALL_DAY, clock())
    slack.latency = 0.2  # set after start: auth.test at start-up stays fast

    # "scheduler_pass" is how the process runs it (Runtime.stop waits for that pass);
    # "run_due_nudges" is the service called directly, which stop() does not track.
    run: Coroutine[Any, Any, Any] = (
        a.scheduler.tick() if entry == "scheduler_pass" else a.services.nudging.run_due_nudges()
    )
    task = asyncio.create_task(run)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def under_way() -> dict[str, int] | None:
        counts = await status_counts(db)
        return counts if counts.get("posted") and loop.time() - started >= 0.5 else None

    # Stop ~0.5 s in, once the first posts are through (a bounded wait, not for a schedule).
    mid = await wait_for(under_way, timeout=10.0, what="the fan-out to get under way")
    assert mid.get("posted", 0) < len(channels), f"fan-out finished before the stop: {mid}"

    await asyncio.wait_for(a.stop(), 10.0)
    if entry == "scheduler_pass":
        # Runtime.stop waited for the pass: nothing is left half done when it returns.
        assert (await status_counts(db)).get("claimed", 0) == 0, await status_counts(db)
    await asyncio.wait_for(task, 10.0)
    after_a = await status_counts(db)
    assert after_a.get("claimed", 0) == 0, f"claimed but never finished: {after_a}"
    assert set(after_a) <= {"posted"}, after_a
    by_a = after_a.get("posted", 0)
    assert 0 < by_a < len(channels), after_a
    posts_a = scheduled_posts(slack)
    assert len(posts_a) == by_a and {t for _, _, t in posts_a} == {TOKEN_A}

    slack.latency = 0.0
    outcomes = await asyncio.wait_for(b.services.nudging.run_due_nudges(), 30.0)
    assert decisions(outcomes) == {"posted": len(channels) - by_a}, decisions(outcomes)

    posts = scheduled_posts(slack)
    per_channel = collections.Counter(channel for channel, _, _ in posts)
    assert per_channel == dict.fromkeys(channels, 1), [c for c in channels if per_channel[c] != 1]
    rows = await nudge_rows(db)
    assert sorted(channel for channel, _, _, _ in rows) == sorted(channels)
    assert {(slot, status) for _, slot, status, _ in rows} == {(clock(), "posted")}
    print(
        f"\n{entry}: replica A posted {by_a} before stopping, replica B the other {len(channels) - by_a}"
    )


async def test_stop_returns_only_after_posts_under_way_are_recorded(
    replicas: StartReplica, db: AsyncEngine, slack: FakeSlack, clock: FakeClock
) -> None:
    """The service's own promise (`stop_claiming`: finish posts under way) should hold for
    whoever runs the fan-out: with the scheduler off (how these tests and embedders drive it),
    `await runtime.stop()` must not return while a claimed slot is still on its way to Slack."""
    a = await replicas(TOKEN_A, POST_CONCURRENCY=8)
    channels = channel_ids("CW", 24)
    await seed_channels(db, slack, channels, EVERY_15M_ALL_DAY, clock())
    slack.latency = 1.5  # posts under way for seconds: stop() cannot outlast them by chance
    task = asyncio.create_task(a.services.nudging.run_due_nudges())

    async def claimed() -> bool:
        return bool((await status_counts(db)).get("claimed"))

    await wait_for(claimed, timeout=10.0, what="a claimed slot on its way to Slack")
    await asyncio.wait_for(a.stop(), 10.0)
    left = await status_counts(db)
    await asyncio.wait_for(task, 10.0)  # (let it finish before teardown either way)
    assert left.get("claimed", 0) == 0, f"stop() returned with posts still under way: {left}"


async def test_replica_leaves_slots_of_a_platform_it_does_not_serve_to_the_others(
    replicas: StartReplica, db: AsyncEngine, slack: FakeSlack, clock: FakeClock
) -> None:
    """Replicas with different platforms enabled share one database (Teams being switched on
    replica by replica): a Slack-only replica must leave a Teams channel's slot due."""
    a = await replicas(TOKEN_A)
    if "teams" in a.services.chats:
        pytest.skip("this replica serves Teams; the case needs one that does not")
    teams_channel = "19:replicas@thread.tacv2"
    await seed_channels(db, slack, [teams_channel], EVERY_15M_ALL_DAY, clock(), platform="teams")
    await a.services.nudging.run_due_nudges()
    async with db.connect() as conn:
        next_slot = await conn.scalar(
            select(ChannelRow.next_slot_at).where(ChannelRow.channel_id == teams_channel)
        )
    rows = await nudge_rows(db)
    assert (rows, next_slot) == ([], clock()), (
        f"slot taken by a replica that cannot post it: {rows}"
    )
