"""Team board: the week board with team goal, forgiving streaks and slot insights vs today's
`build_board`, on a large history, same run.

The history is bench/leaderboard.py's (--channels 1,000 channels of 50 members, two posted
nudges a day at 10:00 and 15:00 UTC for --days 100 days, --breaks 1,000,000 breaks spread over
the channels); the channels' schedule is every 5h from 05:00, whose slots are those two times,
so the insights count every nudge. Then, for --runs random channels, alternating which goes
first:

    build_board  `BoardService.build_board(key, "week")` (state read, week counts, streak
                 break times of the board's people, ranking)
    team board   `TeamService.week_board(state)` after the same state read (every person's
                 break days for 414 days, forgiving streaks, the goal and its streak, most
                 improved, regulars, four weeks of slot outcomes and the far-below check)

    ratio = p50(team board) / p50(build_board)       goal: <= 1.5

Both boards must rank the same people with the same counts and streaks (a difference is a
correctness failure).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Sequence
from datetime import time as wall
from datetime import timedelta
from typing import Any

from bench.common import (
    add_backend_args,
    backend_label,
    database,
    goal,
    header,
    install_error_tally,
    percentile,
    postgres_server_url,
    seed_channels,
    table,
)
from bench.leaderboard import NOW, channel_keys, history, load
from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec
from bot.services import Services
from storage.engine import create_engine, run_migrations
from storage.sql import SqlStorage, SqlTenancy

GOAL_RATIO = 1.5
# Slots at 10:00 and 15:00 UTC on weekdays: the times bench.leaderboard's nudges were posted.
SPEC = ScheduleSpec(
    interval=timedelta(hours=5), tz="UTC", window_start=wall(5, 0), window_end=wall(17, 0)
)


async def bench_backend(url: str, breaks: int, args: argparse.Namespace) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        await run_migrations(engine)
        keys = channel_keys(args.channels)
        load_started = time.perf_counter()
        pks = await seed_channels(engine, keys, SPEC, next_slot_at=NOW + timedelta(days=1))
        nudge_rows, break_rows = history(
            [pks[k] for k in keys], breaks=breaks, people=args.people, days=args.days
        )
        await load(engine, nudge_rows, break_rows)
        load_seconds = time.perf_counter() - load_started
        del nudge_rows, break_rows
        storage = SqlStorage(engine)
        services = Services.create(
            storage, SqlTenancy(engine), {}, clock=lambda: NOW, default_tz="UTC"
        )
        rng = random.Random(args.seed)
        sample = [keys[rng.randrange(len(keys))] for _ in range(args.runs + args.warmup)]

        async def plain(key: ChannelKey) -> Any:
            return await services.boards.build_board(key, "week")

        async def team(key: ChannelKey) -> Any:
            state = await storage.channels.get(key) or ChannelState(key=key)
            return await services.team.week_board(state)

        plain_times: list[float] = []
        team_times: list[float] = []
        mismatches = 0
        extras: dict[str, float] = {"goal_days": 0, "regulars": 0, "suggestions": 0}
        for n, key in enumerate(sample):
            order = (team, plain) if n % 2 else (plain, team)
            measured: dict[Any, tuple[float, Any]] = {}
            for board_of in order:
                started = time.perf_counter()
                board = await board_of(key)
                measured[board_of] = (time.perf_counter() - started, board)
            plain_s, plain_board = measured[plain]
            team_s, team_board = measured[team]
            if plain_board.entries != team_board.entries:
                mismatches += 1
            if n >= args.warmup:
                plain_times.append(plain_s)
                team_times.append(team_s)
                extras["goal_days"] += team_board.team.goal_days_this_week
                extras["regulars"] += len(team_board.team.regulars)
                extras["suggestions"] += len(team_board.team.suggestions)
        insights = await services.team.insights(
            await storage.channels.get(sample[0]) or ChannelState(key=sample[0])
        )
        return {
            "load": load_seconds,
            "plain": plain_times,
            "team": team_times,
            "mismatches": mismatches,
            "extras": {k: v / max(1, len(team_times)) for k, v in extras.items()},
            "insights": insights,
        }
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> int:
    tally = install_error_tally()
    server = postgres_server_url(args.postgres)
    backends: list[tuple[str, int]] = []
    if server and not args.skip_postgres:
        backends.append(("postgres", args.breaks))
    if not args.skip_sqlite:
        backends.append(("sqlite", args.sqlite_breaks))
    header(
        "team board: week board with goal, freezes and insights vs build_board",
        channels=args.channels,
        people=args.people,
        days=args.days,
        runs=args.runs,
        backends=", ".join(f"{b} ({n:,} breaks)" for b, n in backends) or "none",
    )
    if not server and not args.skip_postgres:
        print("   (no --postgres URL and no $TEST_POSTGRES_URL: Postgres skipped)")
    rows: list[list[Any]] = []
    ratios: dict[str, float] = {}
    failures: list[str] = []
    for backend, breaks in backends:
        async with database(backend, server) as url:
            result = await bench_backend(url, breaks, args)
        label = backend_label(url)
        for name, times in (("build_board week", result["plain"]), ("team board", result["team"])):
            rows.append(
                [
                    f"{label} {name}",
                    len(times),
                    percentile(times, 0.5) * 1000,
                    percentile(times, 0.9) * 1000,
                    max(times, default=0.0) * 1000,
                ]
            )
        plain_p50 = percentile(result["plain"], 0.5)
        ratios[label] = percentile(result["team"], 0.5) / plain_p50 if plain_p50 else float("inf")
        extras = result["extras"]
        found = result["insights"]
        print(
            f"   {label}: {breaks:,} breaks loaded in {result['load']:.1f}s; per team board: "
            f"{extras['goal_days']:.1f} goal days this week, {extras['regulars']:.1f} regulars, "
            f"{extras['suggestions']:.1f} slot suggestions; a channel's insights: "
            + ", ".join(
                f"{s.wall:%H:%M} {s.answered}/{s.nudges}" for s in (found.slots if found else ())
            )
            + f"; boards differing: {result['mismatches']}"
        )
        if result["mismatches"]:
            failures.append(
                f"{label}: the two boards ranked differently {result['mismatches']} times"
            )
    table(rows, ["board", "runs", "p50 ms", "p90 ms", "max ms"])
    print(f"   logged warnings/errors: {tally.summary()}")
    for label, ratio in ratios.items():
        print(f"ratio {label}: p50 team board / p50 build_board = {ratio:.3f}")
        goal(f"ratio ({label}, team board/build_board p50)", ratio, "<=", GOAL_RATIO)
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    return 1 if failures else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.team_board", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--breaks", type=int, default=1_000_000, help="Postgres breaks (1,000,000)")
    parser.add_argument(
        "--sqlite-breaks", type=int, default=1_000_000, help="SQLite breaks (1,000,000)"
    )
    parser.add_argument("--people", type=int, default=10_000, help="people (10,000)")
    parser.add_argument("--channels", type=int, default=1_000, help="channels (1,000)")
    parser.add_argument("--days", type=int, default=100, help="days of history (100)")
    parser.add_argument("--runs", type=int, default=50, help="timed boards each (50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed first boards (5)")
    parser.add_argument("--seed", type=int, default=1, help="channel sample seed")
    add_backend_args(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
