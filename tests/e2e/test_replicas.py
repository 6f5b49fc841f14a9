"""Several `stretchbot run` processes on one database: replicas, crashes and restarts.

Real console-script subprocesses (HTTP mode) share one PostgreSQL database and one FakeSlack;
each replica has its own bot token (xoxb-r1, xoxb-r2, ...), so the token the fake recorded on a
chat.postMessage says which replica posted it. Slots are seeded already due (next_slot_at in the
past), so nothing waits for a schedule; every wait is bounded.

Contract (DESIGN.md, "Schedule semantics"): each (channel, slot) is posted at most once, whatever
restarts or extra replicas happen; a slot missed while the bot was down is posted late only
within the grace period (only the latest), older ones are dropped.
"""

from __future__ import annotations

import asyncio
import collections
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import schedules
from bot.commands import REGISTRY
from bot.commands.schedule import ScheduleCommand
from bot.schedules import ScheduleSpec
from storage.channels import spec_to_columns
from storage.engine import create_engine, run_migrations
from storage.models import ChannelRow, NudgeRow
from tests.e2e.conftest import (
    TEAM,
    BotFactory,
    BotProcess,
    eventually,
    http_mode_env,
    nonempty_lines,
)
from tests.e2e.test_process import has_done_button
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e

ALL_DAY_EVERY_15M = "every 15m 00:00-23:59 daily tz UTC"
# The size: 1,000 channels served by two processes, then 500 more after one of them is
# killed (SIGKILL); about 8 s on a 2-core machine.
FIRST_WAVE, SECOND_WAVE = 1000, 500
POST_TIMEOUT = 120.0


# ---------------------------------------------------------------------------------------------
# Helpers


def replica_env(slack: FakeSlack, database_url: str, token: str, grace: int = 60) -> dict[str, str]:
    return {
        **http_mode_env(slack, database_url),
        "SLACK_BOT_TOKEN": token,
        "NUDGE_GRACE_MINUTES": str(grace),
        "SCHEDULER_POLL_SECONDS": "0.5",
    }


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's engine on a fresh, migrated Postgres database (the replicas' DATABASE_URL)."""
    engine = create_engine(postgres_url)
    try:
        await run_migrations(engine)
        yield engine
    finally:
        await engine.dispose()


def parse_spec(text: str) -> ScheduleSpec:
    command = REGISTRY.parse(text)
    assert isinstance(command, ScheduleCommand), command
    return command.to_spec("UTC")


def latest_slot(spec: ScheduleSpec, now: datetime) -> datetime:
    """The latest real slot of `spec` at or before `now` (what seed_overdue_schedule seeds)."""
    *_, slot = schedules.slots_between(
        spec, now - timedelta(days=1), now + timedelta(microseconds=1)
    )
    return slot


def spec_with_slot_at(slot: datetime, interval: timedelta) -> ScheduleSpec:
    """A daily schedule with a real slot exactly at `slot` (whole minutes) and the next one
    `interval` later. The timezone is a fixed-offset zone that puts `slot` near local noon, so
    the window never wraps past midnight whatever time the test runs."""
    hours = max(-12, min(14, 12 - slot.hour))
    tz = f"Etc/GMT{-hours:+d}" if hours else "UTC"  # Etc/GMT-3 is UTC+3
    local = slot.astimezone(ZoneInfo(tz))
    start = (datetime.combine(local.date(), local.time()) - interval).time()
    spec = ScheduleSpec(
        interval=interval,
        tz=tz,
        window_start=start,
        window_end=time(23, 59),
        weekdays=frozenset(range(7)),
    )
    assert latest_slot(spec, slot) == slot, (spec, slot)
    assert schedules.next_slot_after(spec, slot) == slot + interval, (spec, slot)
    return spec


async def seed(
    engine: AsyncEngine, slack: FakeSlack, ids: list[str], spec: ScheduleSpec, due: datetime
) -> None:
    """Schedule every channel in `ids` (one bulk INSERT) with next_slot_at `due`, and register
    the channels, bot a member, in the fake."""
    now = datetime.now(UTC)
    rows = [
        {
            "platform": "slack",
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
    for channel in ids:
        slack.add_channel(channel, member=True)
    async with engine.begin() as conn:
        await conn.execute(insert(ChannelRow), rows)


def nudge_posts(slack: FakeSlack) -> list[tuple[str, str, str | None]]:
    """(channel, ts, token) of every successful nudge (chat.postMessage with the Done button)."""
    return [
        (str(call.params.get("channel")), str(call.response["ts"]), call.token)
        for call in slack.calls_to("chat.postMessage")
        if call.status == 200 and call.response.get("ok") and has_done_button(call)
    ]


async def nudge_rows(engine: AsyncEngine) -> list[tuple[str, datetime | None, str, str | None]]:
    """(channel_id, slot_at, status, message_id) of every nudge in the database."""
    query = select(
        ChannelRow.channel_id, NudgeRow.slot_at, NudgeRow.status, NudgeRow.message_id
    ).join(ChannelRow, ChannelRow.id == NudgeRow.channel_pk)
    async with engine.connect() as conn:
        return [(c, s, st, m) for c, s, st, m in await conn.execute(query)]


async def next_slot_of(engine: AsyncEngine, channel: str) -> datetime | None:
    async with engine.connect() as conn:
        return await conn.scalar(
            select(ChannelRow.next_slot_at).where(ChannelRow.channel_id == channel)
        )


# A cold `stretchbot run` can take well over conftest's 20 s to answer /healthz when the
# machine is busy; give it longer (still bounded).
STARTUP_TIMEOUT = 60.0


async def start_together(
    start_bot: BotFactory, http: aiohttp.ClientSession, envs: list[dict[str, str]]
) -> list[BotProcess]:
    """Spawn all at once and wait until every one is healthy (so none gets a head start)."""
    bots = [await start_bot(env, wait=False) for env in envs]
    await asyncio.gather(*(bot.wait_healthy(http, timeout=STARTUP_TIMEOUT) for bot in bots))
    return bots


async def launch(
    start_bot: BotFactory, http: aiohttp.ClientSession, env: dict[str, str]
) -> BotProcess:
    [bot] = await start_together(start_bot, http, [env])
    return bot


async def sigkill(bot: BotProcess) -> None:
    """Crash: SIGKILL, no chance to clean up."""
    assert bot.proc is not None and bot.returncode is None, bot.describe()
    bot.proc.kill()
    await asyncio.wait_for(bot.proc.wait(), 10.0)


async def wait_posted_and_recorded(
    slack: FakeSlack, engine: AsyncEngine, channels: set[str], what: str
) -> list[tuple[str, datetime | None, str, str | None]]:
    """Wait (bounded) until every channel in `channels` got a nudge and every nudge the fake
    holds is recorded as posted in the database; return the database's nudges."""
    # Cheap probe (the fake's per-channel message lists): the fake shares this event loop.
    await eventually(
        lambda: all(slack.messages.get(channel) for channel in channels),
        timeout=POST_TIMEOUT,
        interval=0.25,
        what=f"{what}: a nudge in each of {len(channels)} channels",
    )

    async def recorded() -> list[tuple[str, datetime | None, str, str | None]] | None:
        rows = await nudge_rows(engine)
        posted = {(c, m) for c, _, status, m in rows if status == "posted"}
        return rows if {(c, ts) for c, ts, _ in nudge_posts(slack)} <= posted else None

    rows: list[tuple[str, datetime | None, str, str | None]] = await eventually(
        recorded, timeout=10.0, interval=0.25, what=f"{what}: every post recorded as posted"
    )
    return rows


def assert_once_per_slot(
    slack: FakeSlack,
    rows: list[tuple[str, datetime | None, str, str | None]],
    channels: set[str],
    slot: datetime,
    next_slot: datetime,
) -> None:
    """Each channel got exactly one nudge for `slot`; and no (channel, slot) was posted twice.

    Should the wall clock pass `next_slot` during the test, that slot is due too and may be
    posted (legitimately); then each (channel, slot) must still be posted once.
    """
    slot_of = {(c, m): s for c, s, _, m in rows}
    posts = nudge_posts(slack)
    per_slot = collections.Counter(
        (channel, slot_of.get((channel, ts))) for channel, ts, _ in posts
    )
    doubles = {k: n for k, n in per_slot.items() if n > 1}
    assert not doubles, f"posted more than once: {sorted(doubles.items(), key=str)[:10]}"
    if datetime.now(UTC) < next_slot:
        # Exactly one chat.postMessage per channel (not even a failed or retried one), and
        # it is the nudge for `slot`.
        calls = collections.Counter(
            str(call.params.get("channel")) for call in slack.calls_to("chat.postMessage")
        )
        assert {c: n for c, n in calls.items() if c in channels} == dict.fromkeys(channels, 1), [
            c for c in channels if calls[c] != 1
        ][:10]
        assert {s for (c, s) in per_slot if c in channels} == {slot}
    else:  # pragma: no cover - only when the test straddles a 15-minute boundary
        assert {c for c, s in per_slot if s in (slot, next_slot)} >= channels


# ---------------------------------------------------------------------------------------------
# 1. Two replicas share 1,000 due channels (100 by default); one crashes; the other serves
#    500 more (50)
#
# Fixture order matters for teardown: the bots (start_bot) go first, then the fake and the
# database they use.


async def test_two_replicas_post_each_due_slot_once_and_survive_a_crash(
    postgres_url: str,
    pg: AsyncEngine,
    slack: FakeSlack,
    http: aiohttp.ClientSession,
    start_bot: BotFactory,
) -> None:
    spec = parse_spec(ALL_DAY_EVERY_15M)
    now = datetime.now(UTC)
    slot = latest_slot(spec, now)
    next_slot = schedules.next_slot_after(spec, now)
    assert next_slot is not None
    first = [f"CA{i:04d}" for i in range(FIRST_WAVE)]
    await seed(pg, slack, first, spec, slot)

    r1, r2 = await start_together(
        start_bot,
        http,
        [
            replica_env(slack, postgres_url, "xoxb-r1"),
            replica_env(slack, postgres_url, "xoxb-r2"),
        ],
    )
    rows = await wait_posted_and_recorded(slack, pg, set(first), "two replicas")
    assert_once_per_slot(slack, rows, set(first), slot, next_slot)
    split = collections.Counter(token for _, _, token in nudge_posts(slack))
    print(f"\n{FIRST_WAVE} channels on two replicas: {dict(split)}")
    assert set(split) <= {"xoxb-r1", "xoxb-r2"}, split
    failed = [call for call in slack.calls_to("chat.postMessage") if call.status != 200]
    assert not failed, failed[:3]

    # Replica 1 crashes; 500 more channels fall due; replica 2 alone posts each once.
    await sigkill(r1)
    before = len(nudge_posts(slack))
    now = datetime.now(UTC)
    slot = latest_slot(spec, now)
    next_slot = schedules.next_slot_after(spec, now)
    assert next_slot is not None
    second = [f"CB{i:04d}" for i in range(SECOND_WAVE)]
    await seed(pg, slack, second, spec, slot)
    rows = await wait_posted_and_recorded(slack, pg, set(second), "replica 2 after the crash")
    assert_once_per_slot(slack, rows, set(second), slot, next_slot)
    late = nudge_posts(slack)[before:]
    assert {token for channel, _, token in late if channel in second} == {"xoxb-r2"}
    print(
        f"{SECOND_WAVE} more after SIGKILL of replica 1: {dict(collections.Counter(t for _, _, t in late))}"
    )
    assert r2.returncode is None, r2.describe()
    assert "Traceback" not in r2.stderr(), r2.describe()
    assert await r2.terminate() == 0, r2.describe()


# ---------------------------------------------------------------------------------------------
# 2. Crash and restart: a slot missed within the grace period is posted late, once; an older
#    one is dropped and the channel moves on to its next real slot


async def test_restart_after_crash_posts_within_grace_and_drops_older_slots(
    postgres_url: str,
    pg: AsyncEngine,
    slack: FakeSlack,
    http: aiohttp.ClientSession,
    start_bot: BotFactory,
) -> None:
    env = replica_env(slack, postgres_url, "xoxb-r1", grace=10)
    await sigkill(await launch(start_bot, http, env))

    # Down for a while: a slot fell due 5 minutes ago.
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    recent = minute - timedelta(minutes=5)
    recent_spec = spec_with_slot_at(recent, timedelta(minutes=15))
    await seed(pg, slack, ["CLATE"], recent_spec, recent)
    second = await launch(start_bot, http, env)
    rows = await wait_posted_and_recorded(slack, pg, {"CLATE"}, "the slot 5 minutes late")
    [(_, slot_at, status, ts)] = [row for row in rows if row[0] == "CLATE"]
    assert (slot_at, status) == (recent, "posted")
    assert [p for p in nudge_posts(slack) if p[0] == "CLATE"] == [("CLATE", ts, "xoxb-r1")]
    assert re.search(
        rf"nudge\.posted .*channel=CLATE slot={re.escape(recent.isoformat())} .*late=(\d+)s",
        second.stderr(),
    ), second.describe()
    assert await next_slot_of(pg, "CLATE") == recent + timedelta(minutes=15)

    # Crash again; now a slot 25 minutes old (grace 10) is due, hourly schedule.
    await sigkill(second)
    stale = minute - timedelta(minutes=25)
    stale_spec = spec_with_slot_at(stale, timedelta(hours=1))
    await seed(pg, slack, ["CSTALE"], stale_spec, stale)
    third = await launch(start_bot, http, env)
    await eventually(
        lambda: re.search(r"nudge\.skipped_stale .*channel=CSTALE\b", third.stderr()),
        timeout=15.0,
        interval=0.1,
        what=f"the stale slot to be skipped\n{third.describe()}",
    )
    assert await next_slot_of(pg, "CSTALE") == stale + timedelta(hours=1)  # next real slot
    assert stale + timedelta(hours=1) > datetime.now(UTC)  # ... which is still ahead: on time
    assert not slack.messages_in("CSTALE"), slack.messages_in("CSTALE")
    assert [row for row in await nudge_rows(pg) if row[0] == "CSTALE"] == []
    # The restarts did not post the late slot again.
    assert len(slack.messages_in("CLATE")) == 1
    assert "Traceback" not in third.stderr(), third.describe()
    assert await third.terminate() == 0, third.describe()


# ---------------------------------------------------------------------------------------------
# 3. SQLite serves one process: a second one on the same file refuses to start


async def test_second_process_on_one_sqlite_file_exits_at_once(
    sqlite_url: str, slack: FakeSlack, http: aiohttp.ClientSession, start_bot: BotFactory
) -> None:
    env = replica_env(slack, sqlite_url, "xoxb-r1")
    first = await launch(start_bot, http, env)
    second = await start_bot({**env, "SLACK_BOT_TOKEN": "xoxb-r2"}, wait=False)
    code = await second.wait_exit(timeout=STARTUP_TIMEOUT)
    assert code != 0, second.describe()
    lines = nonempty_lines(second.stderr())
    assert len(lines) == 1, second.describe()
    [line] = lines
    assert re.search(r"another .*process .*running", line, re.IGNORECASE), line
    assert "PostgreSQL" in line, line
    assert first.returncode is None, first.describe()
    assert await first.terminate() == 0, first.describe()
