"""Slash commands: `/stretch status` acks from the real bot vs a bare-ack Bolt app.

N (default 2,000) Slack-signed `/stretch status` requests, `--concurrency` (32) in flight, over
real HTTP (one keep-alive aiohttp client) to:

- the real bot, started in-process with `bot.app.start` (SQLite, scheduler off) against the fake
  Slack in its own process; the channel has a schedule, so `status` reads it and computes the
  next slots, then posts the answer to the request's response_url (on the fake);
- a bare Bolt AsyncApp (same signing secret, authorize and process_before_response settings)
  served by Bolt's aiohttp adapter, whose `/stretch` listener only acks.

Figures: p50/p99 of the HTTP ack latency for both; ratios bot/bare. All N response_url posts
must reach the fake (waited for, bounded). Goal: p50 ratio <= 1.5 and bot p99 < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from typing import Any

from bench.common import (
    goal,
    header,
    install_error_tally,
    percentile,
    process_cpu_seconds,
    sqlite_database,
    table,
)
from bench.fake_proc import FakeSlackProcess
from bench.load import SECRET, TEAM, TOKEN, BareServer, LoadResult, client_session, fire, wait_until
from bot.app import start
from bot.config import Settings
from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec, next_slot_after
from tests.fakes import slack_payloads as payloads

CHANNEL = "C0001"
SPEC = ScheduleSpec(
    interval=timedelta(minutes=45),
    tz="Europe/Berlin",
    window_start=wall(9, 0),
    window_end=wall(17, 0),
)
GOAL_P50_RATIO = 1.5
GOAL_P99_SECONDS = 3.0


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


def status_bodies(slack: FakeSlackProcess, n: int, prefix: str) -> list[str]:
    return [
        payloads.slash_command_body(
            text="status",
            team_id=TEAM,
            channel_id=CHANNEL,
            user_id=f"U{i:05d}",
            response_url=slack.response_url(f"{prefix}{i}"),
        )
        for i in range(n)
    ]


def row(label: str, result: LoadResult, cpu: float) -> list[Any]:
    return [
        label,
        result.ok,
        sum(n for s, n in result.statuses.items() if s != 200) + sum(result.errors.values()),
        result.ok / result.seconds if result.seconds else 0.0,
        percentile(result.latencies, 0.5) * 1000,
        percentile(result.latencies, 0.99) * 1000,
        max(result.latencies, default=0.0) * 1000,
        cpu,
    ]


async def run(args: argparse.Namespace) -> int:
    tally = install_error_tally()
    header(
        "commands: signed `/stretch status` over HTTP, real bot vs bare-ack Bolt",
        requests=args.requests,
        concurrency=args.concurrency,
        rounds=args.rounds,
        warmup=args.warmup,
        database="sqlite",
    )
    failures: list[str] = []
    bare_result, bot_result = LoadResult(), LoadResult()
    bare_cpu = bot_cpu = all_cpu = fake_cpu = waited = 0.0
    arrived = 0
    sample = ""
    sizes = [len(part) for part in _split(list(range(args.requests)), args.rounds)]
    async with (
        FakeSlackProcess(team_id=TEAM) as slack,
        sqlite_database() as db_url,
        client_session(args.concurrency) as http,
        BareServer() as bare,
    ):
        await slack.add_channels([CHANNEL], member=True)
        runtime = await start(bot_settings(slack.api_url, db_url), scheduler_on=False)
        try:
            await runtime.services.storage.channels.save(
                ChannelState(
                    key=ChannelKey("slack", TEAM, CHANNEL),
                    spec=SPEC,
                    enabled=True,
                    next_slot_at=next_slot_after(SPEC, datetime.now(UTC)),
                )
            )
            url = f"http://127.0.0.1:{runtime.port}/slack/events"
            await fire(http, bare.url, status_bodies(slack, args.warmup, "wb"), concurrency=4)
            warm = status_bodies(slack, args.warmup, "wr")
            await fire(http, url, warm, concurrency=4)
            await wait_until(lambda: _responses_at_least(slack, len(warm)), within=args.wait)
            tally.reset()
            # Rounds alternate bare and bot so drift on a noisy machine hits both alike; each
            # bot round ends only when all its response_url posts arrived, so no bot work
            # spills into the next bare round.
            for number, size in enumerate(sizes):
                await slack.reset()
                bodies = status_bodies(slack, size, f"b{number}-")
                cpu = time.process_time()
                bare_result.add(await fire(http, bare.url, bodies, concurrency=args.concurrency))
                bare_cpu += time.process_time() - cpu

                bodies = status_bodies(slack, size, f"r{number}-")
                fake_started = process_cpu_seconds(slack.pid)
                cpu = time.process_time()
                result = await fire(http, url, bodies, concurrency=args.concurrency)
                bot_cpu += time.process_time() - cpu
                stats, round_wait = await wait_until(
                    lambda size=size: _responses_at_least(slack, size), within=args.wait
                )
                stats = stats or await slack.stats()
                all_cpu += time.process_time() - cpu
                fake_cpu += process_cpu_seconds(slack.pid) - fake_started
                bot_result.add(result)
                waited = max(waited, result.seconds + round_wait)
                arrived += sum(
                    1 for name in stats["response_names"] if name.startswith(f"r{number}-")
                )
                sample = (stats.get("response_sample") or {}).get("text", "") or sample
        finally:
            await runtime.stop()

    table(
        [row("bare Bolt ack", bare_result, bare_cpu), row("stretchbot", bot_result, bot_cpu)],
        ["server", "200s", "failed", "acks/s", "p50 ms", "p99 ms", "max ms", "cpu s"],
    )
    print(
        f"response_url posts: {arrived}/{args.requests} arrived "
        f"({'all' if arrived == args.requests else 'MISSING SOME'}); slowest round done "
        f"{waited:.2f}s after its first request; bot process CPU incl. post-ack work "
        f"{all_cpu:.2f}s ({all_cpu / max(1, args.requests) * 1000:.2f} ms/command, bare "
        f"{bare_cpu / max(1, args.requests) * 1000:.2f} ms/ack), fake Slack {fake_cpu:.2f}s"
    )
    print(f"   sample answer: {sample.splitlines()[0] if sample else '(none)'}")
    print(f"   logged warnings/errors: {tally.summary()}")
    if bot_result.ok != args.requests:
        failures.append(f"{args.requests - bot_result.ok} requests not acked with 200")
    if arrived != args.requests:
        failures.append(f"{args.requests - arrived} response_url posts never arrived")
    bare_p50 = percentile(bare_result.latencies, 0.5)
    bot_p50 = percentile(bot_result.latencies, 0.5)
    bare_p99 = percentile(bare_result.latencies, 0.99)
    bot_p99 = percentile(bot_result.latencies, 0.99)
    p50_ratio = bot_p50 / bare_p50 if bare_p50 else float("inf")
    p99_ratio = bot_p99 / bare_p99 if bare_p99 else float("inf")
    print(f"ratio p50 bot/bare {p50_ratio:.3f}; ratio p99 bot/bare {p99_ratio:.3f}")
    goal("p50 ratio (bot/bare)", p50_ratio, "<=", GOAL_P50_RATIO)
    goal("p99 seconds (bot)", bot_p99, "<", GOAL_P99_SECONDS)
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    return 1 if failures else 0


async def _responses_at_least(slack: FakeSlackProcess, count: int) -> dict[str, Any] | None:
    stats = await slack.stats()
    return stats if stats["distinct_responses"] >= count else None


def _split(items: list[int], parts: int) -> list[list[int]]:
    parts = max(1, min(parts, len(items)))
    return [items[i::parts] for i in range(parts)]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.commands", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="in flight (default 32)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternating bare/bot rounds (default 4)"
    )
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests (default 20)")
    parser.add_argument(
        "--wait", type=float, default=120.0, help="max seconds to wait for response_url posts"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
