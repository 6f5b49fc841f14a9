"""Slash commands: `/stretch` acks from the real bot vs a bare-ack Bolt app.

N (default 2,000) Slack-signed `/stretch` requests per workload (`status` alone, and a `mixed`
turn of status, stats, leaderboard and schedule changes), each from its own user (so no answer
is the per-person rate limit's: a run where one is counts as a failure), `--concurrency` (32)
in flight, over
real HTTP (one keep-alive aiohttp client) to:

- the real bot, started in-process with `bot.app.start` (scheduler off; SQLite, and Postgres
  with `--postgres URL` or $TEST_POSTGRES_URL) against the fake Slack in its own process; the channel has a schedule, so `status` reads it and computes the
  next slots, then answers in the ack body (or, when that takes too long, acks and posts the
  answer to the request's response_url on the fake);
- a bare Bolt AsyncApp (same signing secret, authorize and process_before_response settings)
  served by Bolt's aiohttp adapter, whose `/stretch` listener only acks.

Figures: p50/p99 of the HTTP ack latency for both, per database (each run has its own bare
rounds); ratios bot/bare. All N answers must arrive,
in the ack body or as a response_url post on the fake (waited for, bounded). Goal: p50 ratio
<= 1.3 and bot p99 < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from typing import Any

import aiohttp

from bench.common import (
    ErrorTally,
    add_backend_args,
    database,
    goal,
    header,
    install_error_tally,
    percentile,
    postgres_server_url,
    process_cpu_seconds,
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
GOAL_P50_RATIO = 1.3
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


# The mixed workload: what a channel's people type, in turn. Reads are answered in the ack;
# `leaderboard` posts a board (then, inside its cooldown, answers privately); the schedule
# changes are acked at once and answered on the response_url.
MIXED = (
    "status",
    "stats",
    "leaderboard",
    "seated on",
    "status",
    "seated off",
    "pause 2h",
    "resume",
)
WORKLOADS = {"status": ("status",), "mixed": MIXED}
RATE_LIMITED = "Easy there"  # the per-person limit's answer: must never be what we measure


class Users:
    """A new user id for every request, so no answer is the per-person rate limit's."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"U{self.count:07d}"


def command_bodies(
    slack: FakeSlackProcess, n: int, prefix: str, workload: Sequence[str], users: Users
) -> list[str]:
    return [
        payloads.slash_command_body(
            text=workload[i % len(workload)],
            team_id=TEAM,
            channel_id=CHANNEL,
            user_id=users.next(),
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


@dataclass
class Measured:
    """One backend's run: the bare baseline and the bot, same rounds."""

    bare: LoadResult = field(default_factory=LoadResult)
    bot: LoadResult = field(default_factory=LoadResult)
    bare_cpu: float = 0.0
    bot_cpu: float = 0.0  # while the requests were in flight
    all_cpu: float = 0.0  # until the last answer arrived
    fake_cpu: float = 0.0
    waited: float = 0.0
    arrived: int = 0
    in_acks: int = 0
    sample: str = ""
    rate_limited: int = 0  # answers that were the per-person limit's (must stay 0)
    errors: str = ""  # logged warnings and errors after the warm-up


async def measure(
    args: argparse.Namespace,
    slack: FakeSlackProcess,
    http: aiohttp.ClientSession,
    bare: BareServer,
    db_url: str,
    tally: ErrorTally,
    workload: Sequence[str],
) -> Measured:
    """Start the bot on `db_url`, then alternate bare and bot rounds of `workload`."""
    out = Measured()
    users = Users()
    sizes = [len(part) for part in _split(list(range(args.requests)), args.rounds)]
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
        await fire(
            http, bare.url, command_bodies(slack, args.warmup, "wb", workload, users), concurrency=4
        )
        warm = command_bodies(slack, args.warmup, "wr", workload, users)
        warm_acks: list[str] = []
        await fire(http, url, warm, concurrency=4, answers=warm_acks)
        late = len(warm) - len(_ack_texts(warm_acks))
        await wait_until(lambda: _responses_at_least(slack, late), within=args.wait)
        tally.reset()
        # Rounds alternate bare and bot so drift on a noisy machine hits both alike; each bot
        # round ends only when all its answers arrived (in the acks, or the rest as
        # response_url posts), so no bot work spills into the next bare round.
        for number, size in enumerate(sizes):
            await slack.reset()
            bodies = command_bodies(slack, size, f"b{number}-", workload, users)
            cpu = time.process_time()
            out.bare.add(await fire(http, bare.url, bodies, concurrency=args.concurrency))
            out.bare_cpu += time.process_time() - cpu

            bodies = command_bodies(slack, size, f"r{number}-", workload, users)
            fake_started = process_cpu_seconds(slack.pid)
            cpu = time.process_time()
            acks: list[str] = []
            result = await fire(http, url, bodies, concurrency=args.concurrency, answers=acks)
            out.bot_cpu += time.process_time() - cpu
            texts = _ack_texts(acks)
            out.rate_limited += sum(RATE_LIMITED in text for text in texts)
            out.in_acks += len(texts)
            late = size - len(texts)
            stats, round_wait = await wait_until(
                lambda late=late: _responses_at_least(slack, late), within=args.wait
            )
            stats = stats or await slack.stats()
            out.rate_limited += int(stats.get("rate_limited_responses", 0))
            out.all_cpu += time.process_time() - cpu
            out.fake_cpu += process_cpu_seconds(slack.pid) - fake_started
            out.bot.add(result)
            out.waited = max(out.waited, result.seconds + round_wait)
            out.arrived += len(texts) + sum(
                1 for name in stats["response_names"] if name.startswith(f"r{number}-")
            )
            out.sample = (
                (texts[0] if texts else "")
                or (stats.get("response_sample") or {}).get("text", "")
                or out.sample
            )
    finally:
        await runtime.stop()
    return out


async def run(args: argparse.Namespace) -> int:
    tally = install_error_tally()
    server = postgres_server_url(args.postgres)
    backends = [] if args.skip_sqlite else ["sqlite"]
    if server and not args.skip_postgres:
        backends.append("postgres")
    header(
        "commands: signed `/stretch` over HTTP (status alone; a mixed turn), real bot vs bare Bolt",
        requests=args.requests,
        concurrency=args.concurrency,
        rounds=args.rounds,
        warmup=args.warmup,
        backends="+".join(backends) or "none",
    )
    runs: dict[str, Measured] = {}
    async with (
        FakeSlackProcess(team_id=TEAM) as slack,
        client_session(args.concurrency) as http,
        BareServer() as bare,
    ):
        await slack.add_channels([CHANNEL], member=True)
        for backend in backends:
            for name in args.workloads:
                async with database(backend, server) as db_url:
                    label = f"{backend} {name}"
                    runs[label] = await measure(
                        args, slack, http, bare, db_url, tally, WORKLOADS[name]
                    )
                runs[label].errors = tally.summary()

    rows = []
    for backend, m in runs.items():
        rows += [
            row(f"bare Bolt ack ({backend} run)", m.bare, m.bare_cpu),
            row(f"stretchbot {backend}", m.bot, m.bot_cpu),
        ]
    table(rows, ["server", "200s", "failed", "acks/s", "p50 ms", "p99 ms", "max ms", "cpu s"])
    failures: list[str] = []
    for backend, m in runs.items():
        n = args.requests
        print(
            f"{backend}: answers {m.arrived}/{n} arrived "
            f"({'all' if m.arrived == n else 'MISSING SOME'}; {m.in_acks} in the ack body, "
            f"{m.arrived - m.in_acks} as response_url posts); slowest round done "
            f"{m.waited:.2f}s after its first request; bot process CPU incl. post-ack work "
            f"{m.all_cpu:.2f}s ({m.all_cpu / max(1, n) * 1000:.2f} ms/command, bare "
            f"{m.bare_cpu / max(1, n) * 1000:.2f} ms/ack), fake Slack {m.fake_cpu:.2f}s"
        )
        print(f"   sample answer: {m.sample.splitlines()[0] if m.sample else '(none)'}")
        print(f"   logged warnings/errors: {m.errors}")
        if m.bot.ok != n:
            failures.append(f"{backend}: {n - m.bot.ok} requests not acked with 200")
        if m.arrived != n:
            failures.append(f"{backend}: {n - m.arrived} answers never arrived")
        if m.rate_limited:
            failures.append(
                f"{backend}: {m.rate_limited} answers were the per-person rate limit's, "
                "not the command's"
            )
    for backend, m in runs.items():
        bare_p50 = percentile(m.bare.latencies, 0.5)
        bot_p50 = percentile(m.bot.latencies, 0.5)
        bare_p99 = percentile(m.bare.latencies, 0.99)
        bot_p99 = percentile(m.bot.latencies, 0.99)
        p50_ratio = bot_p50 / bare_p50 if bare_p50 else float("inf")
        p99_ratio = bot_p99 / bare_p99 if bare_p99 else float("inf")
        print(f"ratio {backend}: p50 bot/bare {p50_ratio:.3f}; p99 bot/bare {p99_ratio:.3f}")
        goal(f"p50 ratio ({backend}, bot/bare)", p50_ratio, "<=", GOAL_P50_RATIO)
        goal(f"p99 seconds ({backend}, bot)", bot_p99, "<", GOAL_P99_SECONDS)
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    return 1 if failures else 0


def _ack_texts(bodies: list[str]) -> list[str]:
    """The answer texts in ack bodies (a bare ack has an empty body)."""
    texts = []
    for body in bodies:
        try:
            text = json.loads(body).get("text")
        except (ValueError, AttributeError):
            continue
        if text:
            texts.append(str(text))
    return texts


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
        "--rounds",
        type=int,
        default=10,
        help="alternating bare/bot rounds (default 10: short rounds, so drift in the shared "
        "host's speed hits both alike)",
    )
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests (default 20)")
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=sorted(WORKLOADS),
        default=["status", "mixed"],
        help="status: `/stretch status` alone; mixed: status, stats, leaderboard and schedule "
        "changes in turn (default: both)",
    )
    parser.add_argument(
        "--wait", type=float, default=120.0, help="max seconds to wait for response_url posts"
    )
    add_backend_args(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
