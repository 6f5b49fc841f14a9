"""Reactions: signed ✅ `reaction_added` events until every break is committed, vs a bare ack.

N nudges (default 2,000, spread over --channels channels of workspace T0001) are seeded with
known message ts (status posted). N signed `reaction_added` events (white_check_mark), event i
on nudge i from user U(i mod --users), go over real HTTP, --concurrency (32) in flight, to the
real bot (`bot.app.start`, scheduler off, fake Slack in its own process).

    bot events/s  = N / seconds from the first request until ALL N breaks are committed (the
                    `breaks` table is polled on a separate connection; bounded by --wait)
    bare events/s = N / seconds to get all N acks from a bare Bolt app that only acks
    ratio = bot / bare                  goal: >= 0.5, and exactly N breaks (no loss, no extra)

Runs on SQLite, and on Postgres when --postgres URL or $TEST_POSTGRES_URL is given (each in a
throwaway database).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import (
    add_backend_args,
    backend_label,
    bulk_insert,
    database,
    goal,
    header,
    install_error_tally,
    percentile,
    postgres_server_url,
    seed_channels,
    table,
)
from bench.fake_proc import FakeSlackProcess
from bench.load import SECRET, TEAM, TOKEN, BareServer, LoadResult, client_session, fire, wait_until
from bot.app import start
from bot.config import Settings
from bot.ports import ChannelKey
from storage.models import NudgeRow
from tests.fakes import slack_payloads as payloads

GOAL_RATIO = 0.8  # issue 15 (was 0.5)
BASE_TS = 1_700_000_000
EXERCISE = "glute-squeezes"


def bot_settings(api_url: str, database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_APP_TOKEN="",
        SLACK_API_URL=api_url,
        DATABASE_URL=database_url,
        HOST="127.0.0.1",
        PORT=0,
        LOG_LEVEL="WARNING",
    )


def channel_id(i: int) -> str:
    return f"CR{i:05d}"


def message_ts(i: int) -> str:
    return f"{BASE_TS + i}.000100"


def nudge_channel(i: int, channels: int) -> int:
    return i % channels


async def seed_nudges(engine: Any, n: int, channels: int) -> None:
    """`channels` channels and n posted nudges (nudge i in channel i mod channels, ts known)."""
    keys = [ChannelKey("slack", TEAM, channel_id(c)) for c in range(channels)]
    pks = await seed_channels(engine, keys, None, next_slot_at=None, enabled=False)
    base = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    rows = []
    for i in range(n):
        c = nudge_channel(i, channels)
        slot = base + timedelta(minutes=i)
        rows.append(
            {
                "channel_pk": pks[keys[c]],
                "slot_at": slot,
                "exercise_key": EXERCISE,
                "status": "posted",
                "message_id": message_ts(i),
                "claimed_at": slot,
                "posted_at": slot,
                "error": None,
            }
        )
    await bulk_insert(engine, NudgeRow.__table__, rows)


def reaction_bodies(n: int, channels: int, users: int) -> list[str]:
    return [
        payloads.event_callback_body(
            payloads.reaction_added_event(
                user=f"U{i % users:05d}",
                reaction="white_check_mark",
                channel=channel_id(nudge_channel(i, channels)),
                ts=message_ts(i),
            ),
            team_id=TEAM,
        )
        for i in range(n)
    ]


async def bare_run(http: Any, bodies: list[str], concurrency: int) -> LoadResult:
    async with BareServer() as bare:
        await fire(http, bare.url, bodies[: min(20, len(bodies))], concurrency=4)  # warm-up
        return await fire(http, bare.url, bodies, concurrency=concurrency)


async def bot_run(
    slack: FakeSlackProcess,
    http: Any,
    database_url: str,
    bodies: list[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    n = len(bodies)
    runtime = await start(bot_settings(slack.api_url, database_url), scheduler_on=False)
    # One connection kept open for polling (a new one per poll costs more than the query).
    counter = create_async_engine(database_url, pool_size=1, max_overflow=0)
    try:
        await seed_nudges(runtime.engine, n, args.channels)

        async def committed() -> int:
            async with counter.connect() as conn:
                count = (await conn.execute(text("SELECT count(*) FROM breaks"))).scalar_one()
                await conn.rollback()
                return int(count)

        async def all_committed() -> int | None:
            count = await committed()
            return count if count >= n else None

        started = time.perf_counter()
        cpu = time.process_time()
        load = await fire(http, runtime_url(runtime.port), bodies, concurrency=args.concurrency)
        acked = time.perf_counter() - started
        await wait_until(all_committed, within=args.wait, interval=0.05)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        await asyncio.sleep(0.5)  # late duplicates would show up here
        breaks = await committed()
        async with counter.connect() as conn:
            pairs = int(
                (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM (SELECT DISTINCT nudge_id, person_id FROM breaks) d"
                        )
                    )
                ).scalar_one()
            )
        return {
            "load": load,
            "acked": acked,
            "seconds": seconds,
            "cpu": cpu,
            "breaks": breaks,
            "pairs": pairs,
            "timed_out": breaks < n,
        }
    finally:
        await counter.dispose()
        await runtime.stop()


def runtime_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/slack/events"


async def run(args: argparse.Namespace) -> int:
    tally = install_error_tally()
    server = postgres_server_url(args.postgres)
    backends = [] if args.skip_sqlite else ["sqlite"]
    if server and not args.skip_postgres:
        backends.append("postgres")
    n = args.events
    header(
        "reactions: signed reaction_added ✅ over HTTP until all breaks are committed",
        events=n,
        concurrency=args.concurrency,
        channels=args.channels,
        users=args.users,
        backends="+".join(backends) or "none",
    )
    rows: list[list[Any]] = []
    failures: list[str] = []
    ratios: dict[str, float] = {}
    async with FakeSlackProcess(team_id=TEAM) as slack, client_session(args.concurrency) as http:
        for backend in backends:
            bodies = reaction_bodies(n, args.channels, args.users)
            # The baseline runs just before and just after the bot (a noisy machine drifts).
            bare = await bare_run(http, bodies, args.concurrency)
            tally.reset()
            async with database(backend, server) as url:
                result = await bot_run(slack, http, url, bodies, args)
            bare.add(
                await bare_run(
                    http, reaction_bodies(n, args.channels, args.users), args.concurrency
                )
            )
            bare_rate = bare.ok / bare.seconds
            rows.append(
                [
                    f"bare Bolt ack (before+after {backend})",
                    bare.ok // 2,
                    bare.seconds / 2,
                    bare_rate,
                    percentile(bare.latencies, 0.5) * 1000,
                    percentile(bare.latencies, 0.99) * 1000,
                    "-",
                    "-",
                ]
            )
            load: LoadResult = result["load"]
            rate = result["breaks"] / result["seconds"] if not result["timed_out"] else 0.0
            label = f"stretchbot {backend_label(url)}"
            rows.append(
                [
                    label,
                    load.ok,
                    result["seconds"],
                    rate,
                    percentile(load.latencies, 0.5) * 1000,
                    percentile(load.latencies, 0.99) * 1000,
                    result["acked"],
                    result["cpu"],
                ]
            )
            ratios[backend] = rate / bare_rate if bare_rate else 0.0
            print(
                f"   {label}: {result['breaks']}/{n} breaks committed ({result['pairs']} distinct "
                f"(nudge, person)); all acked after {result['acked']:.2f}s; logged "
                f"warnings/errors: {tally.summary()}"
            )
            if result["breaks"] != n or result["pairs"] != n:
                failures.append(
                    f"{label}: {result['breaks']} breaks for {n} events "
                    f"({result['pairs']} distinct pairs)"
                )
            if load.ok != n:
                failures.append(f"{label}: {n - load.ok} events not acked with 200")
    table(
        rows,
        ["server", "200s", "seconds", "events/s", "ack p50 ms", "ack p99 ms", "acked s", "cpu s"],
    )
    for backend, ratio in ratios.items():
        print(f"ratio {backend}: bot events/s / bare events/s = {ratio:.3f}")
        goal(f"ratio ({backend}, bot/bare events/s)", ratio, ">=", GOAL_RATIO)
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    return 1 if failures else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reactions", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events", type=int, default=2000, help="events = nudges (2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="in flight (default 32)")
    parser.add_argument("--channels", type=int, default=100, help="channels (default 100)")
    parser.add_argument("--users", type=int, default=500, help="distinct people (default 500)")
    parser.add_argument(
        "--wait", type=float, default=180.0, help="max seconds for all breaks to commit"
    )
    add_backend_args(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
