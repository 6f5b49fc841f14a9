"""Fan-out: every channel of many workspaces due at one slot, posted by `run_due_nudges`.

N channels (default 10,000 = 100 workspaces T000..T099 x 100 channels) are seeded straight into
the real schema (bulk INSERT of what `SqlChannelRepository.save` writes: a ScheduleSpec, enabled,
next_slot_at = the slot). Then one call of the real `NudgeService.run_due_nudges(slot)` posts
them with the real `SlackChat` over one `make_client` AsyncWebClient to the fake Slack (in its
own process: `bench/fake_proc.py`), with `latency` seconds per call and a 1 post/s per-channel
limit.

    floor    = N x latency / concurrency   (what perfect overlap of the Slack calls would take)
    baseline = the same N chat.postMessage calls through a `make_client` AsyncWebClient at the
               same concurrency, no database (measured in the same run)
    ratio    = elapsed / floor             goal: <= 1.3, zero duplicates, zero lost posts

`SlackChat.per_workspace` is set to --per-workspace (default 64) so the per-workspace cap does
not bind below the global POST_CONCURRENCY; the bot's own default (4) would cap 100 workspaces
at 400 posts in flight, which 64 never reaches either.
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

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text

from bench.common import (
    add_backend_args,
    backend_label,
    database,
    goal,
    header,
    install_error_tally,
    postgres_server_url,
    process_cpu_seconds,
    seed_channels,
    table,
)
from bench.fake_proc import FakeSlackProcess
from bot.ports import ChannelKey
from bot.schedules import ScheduleSpec
from bot.services import Services
from handlers.slack.chat import SlackChat, make_client
from storage.engine import create_engine, run_migrations
from storage.sql import SqlStorage, SqlTenancy

TOKEN = "xoxb-bench"
# Monday 2026-11-23 09:45 UTC: the first slot of `every 45m 09:00-17:00 daily tz UTC`.
SLOT = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)
SPEC = ScheduleSpec(
    interval=timedelta(minutes=45),
    tz="UTC",
    window_start=wall(9, 0),
    window_end=wall(17, 0),
    weekdays=frozenset(range(7)),
)
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Time to move!* bench"}}]
GOAL_RATIO = 1.2  # issue 15 (was 1.3)


def channel_keys(workspaces: int, per_workspace: int) -> list[ChannelKey]:
    return [
        ChannelKey("slack", f"T{w:03d}", f"C{w:03d}X{c:04d}")
        for w in range(workspaces)
        for c in range(per_workspace)
    ]


async def baseline_posts(
    client: AsyncWebClient, channels: Sequence[str], concurrency: int
) -> float:
    """Seconds for one chat.postMessage per channel, `concurrency` at a time, no database."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(channel: str) -> None:
        async with semaphore:
            await client.chat_postMessage(
                channel=channel, text="Time to move!", blocks=BLOCKS, unfurl_links=False
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in channels))
    return time.perf_counter() - started


def post_counts(stats: dict[str, Any], channels: Sequence[str]) -> tuple[int, int]:
    """(duplicates, lost) from the fake's messages per channel."""
    messages: dict[str, int] = stats["messages"]
    duplicates = sum(1 for c in channels if messages.get(c, 0) > 1)
    lost = sum(1 for c in channels if messages.get(c, 0) == 0)
    return duplicates, lost


def count_429(stats: dict[str, Any]) -> int:
    return sum(n for call, n in stats["calls"].items() if call.endswith(" 429"))


async def bot_fanout(
    slack: FakeSlackProcess,
    database_url: str,
    keys: Sequence[ChannelKey],
    *,
    concurrency: int,
    per_workspace: int,
) -> dict[str, Any]:
    engine = create_engine(database_url)
    try:
        await run_migrations(engine)
        seed_started = time.perf_counter()
        await seed_channels(engine, keys, SPEC, next_slot_at=SLOT)
        seed_seconds = time.perf_counter() - seed_started
        # One shared session, as `stretchbot run` gives its client (bot.app.start).
        http = aiohttp.ClientSession()
        client = make_client(TOKEN, base_url=slack.api_url, session=http)
        chat = SlackChat.single_workspace(client, per_workspace=per_workspace)
        started = time.perf_counter()

        def clock() -> datetime:  # the slot is "now" when the pass starts
            return SLOT + timedelta(seconds=time.perf_counter() - started)

        service = Services.create(
            SqlStorage(engine),
            SqlTenancy(engine),
            {chat.platform: chat},
            post_concurrency=concurrency,
            clock=clock,
        )
        started = time.perf_counter()
        cpu_started = time.process_time()
        outcomes = await service.nudging.run_due_nudges(SLOT)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        decisions: dict[str, int] = {}
        for outcome in outcomes:
            decisions[outcome.decision] = decisions.get(outcome.decision, 0) + 1
        first = await slack.stats()
        # What the next scheduler tick would do: a channel whose pass failed (error, not a
        # post) is still due and goes out now; a posted one must not go out again.
        again = await service.nudging.run_due_nudges(SLOT + timedelta(seconds=elapsed))
        async with engine.connect() as conn:
            nudge_states = {
                f"{status}{'' if has_ts else ' without ts'}": int(count)
                for status, has_ts, count in await conn.execute(
                    text(
                        "SELECT status, message_id IS NOT NULL, count(*) FROM nudges "
                        "GROUP BY status, message_id IS NOT NULL"
                    )
                )
            }
        await http.close()
        return {
            "nudges": nudge_states,
            "elapsed": elapsed,
            "cpu": cpu,
            "seed": seed_seconds,
            "decisions": decisions,
            "first_stats": first,
            "second_pass": sum(1 for o in again if o.decision == "posted"),
        }
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> int:
    keys = channel_keys(args.workspaces, args.channels_per_workspace)
    n = len(keys)
    channels = [k.channel_id for k in keys]
    floor = n * args.latency / args.concurrency
    server = postgres_server_url(args.postgres)
    backends = [] if args.skip_sqlite else ["sqlite"]
    if server and not args.skip_postgres:
        backends.append("postgres")
    tally = install_error_tally()
    header(
        "fanout: one slot, all channels due, run_due_nudges -> SlackChat -> fake Slack",
        channels=n,
        workspaces=args.workspaces,
        concurrency=args.concurrency,
        per_workspace=args.per_workspace,
        latency=args.latency,
        per_channel_limit=args.per_channel_limit,
        backends="+".join(backends) or "none",
    )
    rows: list[list[Any]] = []
    failures: list[str] = []
    results: dict[str, float] = {}
    async with FakeSlackProcess() as slack:
        await slack.config(latency=args.latency, per_channel_limit=args.per_channel_limit)
        await slack.add_channels(channels, member=True)
        fake_pid = slack.pid

        # Baseline 1: exactly the bot's client (make_client: slack_sdk opens a new aiohttp
        # session, hence a new TCP connection, for every call).
        fake_cpu = process_cpu_seconds(fake_pid)
        cpu = time.process_time()
        seconds = await baseline_posts(
            make_client(TOKEN, base_url=slack.api_url), channels, args.concurrency
        )
        cpu, fake_cpu = time.process_time() - cpu, process_cpu_seconds(fake_pid) - fake_cpu
        stats = await slack.stats()
        dups, lost = post_counts(stats, channels)
        rows.append(
            [
                "baseline make_client",
                seconds,
                n / seconds,
                seconds / floor,
                dups,
                lost,
                count_429(stats),
                cpu,
                fake_cpu,
            ]
        )
        results["baseline"] = seconds
        await slack.reset()

        # Baseline 2: AsyncWebClient on one shared aiohttp session (keep-alive connections).
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            fake_cpu = process_cpu_seconds(fake_pid)
            cpu = time.process_time()
            client = AsyncWebClient(token=TOKEN, base_url=slack.api_url, session=session)
            seconds = await baseline_posts(client, channels, args.concurrency)
            cpu, fake_cpu = time.process_time() - cpu, process_cpu_seconds(fake_pid) - fake_cpu
        stats = await slack.stats()
        dups, lost = post_counts(stats, channels)
        rows.append(
            [
                "baseline shared session",
                seconds,
                n / seconds,
                seconds / floor,
                dups,
                lost,
                count_429(stats),
                cpu,
                fake_cpu,
            ]
        )
        results["shared"] = seconds
        await slack.reset()

        for backend in backends:
            async with database(backend, server) as url:
                fake_cpu = process_cpu_seconds(fake_pid)
                result = await bot_fanout(
                    slack,
                    url,
                    keys,
                    concurrency=args.concurrency,
                    per_workspace=args.per_workspace,
                )
                fake_cpu = process_cpu_seconds(fake_pid) - fake_cpu
            stats = await slack.stats()
            first_dups, first_lost = post_counts(result["first_stats"], channels)
            dups, lost = post_counts(stats, channels)
            label = f"bot {backend_label(url)}"
            seconds = result["elapsed"]
            rows.append(
                [
                    label,
                    seconds,
                    (n - first_lost) / seconds,
                    seconds / floor,
                    first_dups,
                    first_lost,
                    count_429(stats),
                    result["cpu"],
                    fake_cpu,
                ]
            )
            results[backend] = seconds
            print(
                f"   {label}: seeded {n} channels in {result['seed']:.1f}s; pass 1 outcomes "
                f"{result['decisions']}; a second pass posted {result['second_pass']} left due; "
                f"after it: {dups} duplicated, {lost} lost; nudges rows {result['nudges']}"
            )
            print(f"   {label}: logged warnings/errors: {tally.summary()}")
            tally.reset()
            if dups or lost:
                failures.append(f"{label}: {dups} channels posted twice, {lost} never posted")
            await slack.reset()

    print(
        f"floor = N x latency / concurrency = {n} x {args.latency} / {args.concurrency} = {floor:.2f}s"
    )
    table(
        rows,
        ["run", "seconds", "posts/s", "ratio", "dups", "unposted", "429s", "cpu s", "fake cpu s"],
    )
    base_ratio = results["baseline"] / floor
    for backend in backends:
        ratio = results[backend] / floor
        print(
            f"ratio {backend}: elapsed/floor {ratio:.3f}; elapsed/baseline make_client "
            f"{results[backend] / results['baseline']:.3f}; elapsed/baseline shared session "
            f"{results[backend] / results['shared']:.3f}"
        )
        goal(
            f"ratio ({backend}, elapsed/floor)",
            ratio,
            "<=",
            GOAL_RATIO,
            note=f"baseline make_client ratio {base_ratio:.2f}, shared session "
            f"{results['shared'] / floor:.2f}",
        )
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    print(f"duplicates/lost: {'NONE' if not failures else 'FOUND'}")
    return 1 if failures else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--workspaces", type=int, default=100, help="workspaces (default 100)")
    parser.add_argument(
        "--channels-per-workspace", type=int, default=100, help="channels each (default 100)"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="POST_CONCURRENCY (default 64)")
    parser.add_argument(
        "--per-workspace",
        type=int,
        default=64,
        help="SlackChat per_workspace posts in flight (default 64: does not bind)",
    )
    parser.add_argument("--latency", type=float, default=0.05, help="fake Slack s/call (0.05)")
    parser.add_argument(
        "--per-channel-limit", type=float, default=1.0, help="fake posts/s per channel (1.0)"
    )
    add_backend_args(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
