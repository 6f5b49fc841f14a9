"""Leaderboard: the repository's per-person counts vs hand-written SQL on a large history.

Bulk-loads (Postgres: COPY; SQLite: executemany) a history consistent with the schema:
--channels (1,000) channels in 10 workspaces, each with 50 members drawn from --people (10,000),
two posted nudges a day for --days (100) days, and --breaks (1,000,000) breaks spread evenly over
the channels, each a distinct (nudge, member) with a matching ✅ mark in `break_marks`.

Then, for --runs (50) random channels, alternating which goes first:

    repository  `SqlStorage.breaks.counts(channel=key, since=<start of this week>)`
    hand SQL    SELECT person_id, count(*) FROM breaks
                WHERE channel_pk = :c AND logged_at >= :since GROUP BY person_id
                (same engine, channel pk known)

    ratio = p50(repository) / p50(hand SQL)       goal: <= 1.2

and, reported separately, the full `BoardService.build_board(key, "week")` (channel state,
counts, 400 days of break times for streaks, ranking). --explain prints both query plans.

Defaults: Postgres with 1,000,000 breaks (needs --postgres URL or $TEST_POSTGRES_URL); SQLite
runs too, with --sqlite-breaks (default 1,000,000 as well; pass fewer to save load time).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

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
from bot.ports import ChannelKey
from bot.schedules import ScheduleSpec
from bot.services import Services
from storage.engine import create_engine, run_migrations
from storage.sql import SqlStorage, SqlTenancy

GOAL_RATIO = 1.2
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # a Friday evening: most of a week of breaks
SPEC = ScheduleSpec(interval=timedelta(minutes=90), tz="UTC")  # weekdays 09:00-17:00
MEMBERS = 50
NUDGE_TIMES = (wall(10, 0), wall(15, 0))
EXERCISE = "glute-squeezes"
MARK = "reaction:white_check_mark"
HAND_SQL = (
    "SELECT person_id, count(*) FROM breaks "
    "WHERE channel_pk = :c AND logged_at >= :since GROUP BY person_id"
)


def channel_keys(channels: int) -> list[ChannelKey]:
    return [ChannelKey("slack", f"T{c % 10:03d}", f"CL{c:05d}") for c in range(channels)]


def members(channel: int, people: int) -> list[str]:
    """The channel's 50 people, overlapping other channels' (each person in several)."""
    return [f"U{(channel * 37 + k * 211) % people:05d}" for k in range(min(MEMBERS, people))]


def nudge_times(days: int) -> list[datetime]:
    first = NOW.date() - timedelta(days=days - 1)
    return [
        datetime.combine(first + timedelta(days=d), at, tzinfo=UTC)
        for d in range(days)
        for at in NUDGE_TIMES
    ]


def history(
    channel_pks: list[int], *, breaks: int, people: int, days: int, seed: int = 7
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(nudges, breaks) rows: nudges (id, channel_pk, slot_at, message_id), breaks
    (nudge_id, channel_pk, person_id, logged_at)."""
    rng = random.Random(seed)
    times = nudge_times(days)
    per_channel = len(times)
    nudge_rows: list[tuple[Any, ...]] = []
    break_rows: list[tuple[Any, ...]] = []
    base, extra = divmod(breaks, len(channel_pks))
    for index, pk in enumerate(channel_pks):
        first_id = index * per_channel + 1
        for n, at in enumerate(times):
            nudge_rows.append((first_id + n, pk, at, f"{int(at.timestamp())}.{index:06d}"))
        people_here = members(index, people)
        wanted = min(base + (1 if index < extra else 0), per_channel * len(people_here))
        for pair in rng.sample(range(per_channel * len(people_here)), wanted):
            n, p = divmod(pair, len(people_here))
            logged = times[n] + timedelta(seconds=rng.randint(5, 1800))
            break_rows.append((first_id + n, pk, people_here[p], logged))
    return nudge_rows, break_rows


def _sqlite_time(moment: datetime) -> str:
    """How UTCDateTime stores an instant on SQLite: naive UTC, SQLAlchemy's text format."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


async def load(
    engine: AsyncEngine, nudge_rows: list[tuple[Any, ...]], break_rows: list[tuple[Any, ...]]
) -> None:
    if engine.dialect.name == "postgresql":
        await _load_postgres(engine, nudge_rows, break_rows)
    else:
        await _load_sqlite(engine, nudge_rows, break_rows)


async def _load_postgres(
    engine: AsyncEngine, nudge_rows: list[tuple[Any, ...]], break_rows: list[tuple[Any, ...]]
) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        pg: Any = raw.driver_connection
        await pg.copy_records_to_table(
            "nudges",
            records=[
                (i, pk, at, EXERCISE, "posted", ts, at, at, None) for i, pk, at, ts in nudge_rows
            ],
            columns=[
                "id",
                "channel_pk",
                "slot_at",
                "exercise_key",
                "status",
                "message_id",
                "claimed_at",
                "posted_at",
                "error",
            ],
        )
        await pg.execute(
            "SELECT setval(pg_get_serial_sequence('nudges', 'id'), max(id)) FROM nudges"
        )
        await pg.copy_records_to_table(
            "breaks",
            records=break_rows,
            columns=["nudge_id", "channel_pk", "person_id", "logged_at"],
        )
        await pg.copy_records_to_table(
            "break_marks",
            records=[(n, p, MARK, at) for n, _, p, at in break_rows],
            columns=["nudge_id", "person_id", "mark", "created_at"],
        )
        await pg.execute("ANALYZE")
        await conn.commit()


async def _load_sqlite(
    engine: AsyncEngine, nudge_rows: list[tuple[Any, ...]], break_rows: list[tuple[Any, ...]]
) -> None:
    chunk = 20_000
    async with engine.begin() as conn:
        for start in range(0, len(nudge_rows), chunk):
            await conn.exec_driver_sql(
                "INSERT INTO nudges (id, channel_pk, slot_at, exercise_key, status, message_id, "
                "claimed_at, posted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        i,
                        pk,
                        _sqlite_time(at),
                        EXERCISE,
                        "posted",
                        ts,
                        _sqlite_time(at),
                        _sqlite_time(at),
                    )
                    for i, pk, at, ts in nudge_rows[start : start + chunk]
                ],
            )
        for start in range(0, len(break_rows), chunk):
            part = [
                (n, pk, p, _sqlite_time(at)) for n, pk, p, at in break_rows[start : start + chunk]
            ]
            await conn.exec_driver_sql(
                "INSERT INTO breaks (nudge_id, channel_pk, person_id, logged_at) VALUES (?, ?, ?, ?)",
                part,
            )
            await conn.exec_driver_sql(
                "INSERT INTO break_marks (nudge_id, person_id, mark, created_at) VALUES (?, ?, ?, ?)",
                [(n, p, MARK, at) for n, _, p, at in part],
            )
        await conn.exec_driver_sql("ANALYZE")


class StatementCapture:
    """Records the SQL and parameters the engine sends while `active`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.active = False
        self.statements: list[tuple[str, Any]] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.active:
            self.statements.append((statement, parameters))


async def explain(engine: AsyncEngine, statement: str, parameters: Any) -> list[str]:
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if engine.dialect.name == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    async with engine.connect() as conn:
        result = await conn.exec_driver_sql(prefix + statement, parameters)
        return [" | ".join(str(v) for v in row) for row in result]


async def timed(coro: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = await coro
    return time.perf_counter() - started, value


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
        since = datetime.combine(NOW.date() - timedelta(days=NOW.weekday()), wall(0), tzinfo=UTC)
        rng = random.Random(args.seed)
        sample = [keys[rng.randrange(len(keys))] for _ in range(args.runs + args.warmup)]

        async def repository(key: ChannelKey) -> dict[str, int]:
            return await storage.breaks.counts(channel=key, since=since)

        async def hand(key: ChannelKey) -> dict[str, int]:
            async with engine.connect() as conn:
                result = await conn.execute(text(HAND_SQL), {"c": pks[key], "since": since})
                return {person: int(count) for person, count in result}

        repo_times: list[float] = []
        hand_times: list[float] = []
        mismatches = 0
        for n, key in enumerate(sample):
            if n % 2:
                hand_s, hand_counts = await timed(hand(key))
                repo_s, repo_counts = await timed(repository(key))
            else:
                repo_s, repo_counts = await timed(repository(key))
                hand_s, hand_counts = await timed(hand(key))
            if repo_counts != hand_counts:
                mismatches += 1
            if n >= args.warmup:
                repo_times.append(repo_s)
                hand_times.append(hand_s)

        board_times: list[float] = []
        entries = 0
        for key in sample[: args.board_runs]:
            seconds, board = await timed(services.boards.build_board(key, "week"))
            board_times.append(seconds)
            entries += len(board.entries)
        # The same board a second time per channel: no cold cache in the figure.
        warm_board_times = [
            (await timed(services.boards.build_board(key, "week")))[0]
            for key in sample[: args.board_runs]
        ]
        week_rows = sum([len(await repository(k)) for k in sample[:5]])

        plans: dict[str, list[str]] = {}
        if args.explain:
            capture = StatementCapture(engine)
            capture.active = True
            # The counts read through the engine, where the capture sees it (it normally goes
            # straight to the driver: see storage.db.Database.all).
            storage.breaks._db.direct_reads = False
            try:
                await repository(sample[0])
            finally:
                storage.breaks._db.direct_reads = True
            capture.active = False
            statement, parameters = capture.statements[-1]
            plans["repository"] = [
                statement.replace("\n", " "),
                *await explain(engine, statement, parameters),
            ]
            capture.statements.clear()
            capture.active = True
            await hand(sample[0])
            capture.active = False
            statement, parameters = capture.statements[-1]
            plans["hand SQL"] = [
                statement.replace("\n", " "),
                *await explain(engine, statement, parameters),
            ]
        return {
            "load": load_seconds,
            "repo": repo_times,
            "hand": hand_times,
            "board": board_times,
            "board_warm": warm_board_times,
            "entries": entries / max(1, len(board_times)),
            "mismatches": mismatches,
            "people_per_week": week_rows / 5,
            "plans": plans,
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
        "leaderboard: repository counts() vs hand-written SQL, plus build_board",
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
        repo_p50 = percentile(result["repo"], 0.5)
        hand_p50 = percentile(result["hand"], 0.5)
        ratios[label] = repo_p50 / hand_p50 if hand_p50 else float("inf")
        for name, times in (
            ("repository counts()", result["repo"]),
            ("hand SQL", result["hand"]),
            ("build_board week (1st)", result["board"]),
            ("build_board week (again)", result["board_warm"]),
        ):
            rows.append(
                [
                    f"{label} {name}",
                    len(times),
                    percentile(times, 0.5) * 1000,
                    percentile(times, 0.9) * 1000,
                    max(times, default=0.0) * 1000,
                ]
            )
        print(
            f"   {label}: {breaks:,} breaks loaded in {result['load']:.1f}s; ~"
            f"{result['people_per_week']:.0f} people per channel this week; boards have "
            f"{result['entries']:.0f} entries; counts differing between the two queries: "
            f"{result['mismatches']}"
        )
        for name, plan in result["plans"].items():
            print(f"   EXPLAIN {label} {name}:")
            for line in plan:
                print(f"      {line}")
        if result["mismatches"]:
            failures.append(
                f"{label}: repository and hand SQL disagreed {result['mismatches']} times"
            )
    table(rows, ["query", "runs", "p50 ms", "p90 ms", "max ms"])
    print(f"   logged warnings/errors: {tally.summary()}")
    for label, ratio in ratios.items():
        print(f"ratio {label}: p50 repository / p50 hand SQL = {ratio:.3f}")
        goal(f"ratio ({label}, repository/hand SQL p50)", ratio, "<=", GOAL_RATIO)
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    return 1 if failures else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.leaderboard", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--breaks", type=int, default=1_000_000, help="Postgres breaks (1,000,000)")
    parser.add_argument(
        "--sqlite-breaks", type=int, default=1_000_000, help="SQLite breaks (1,000,000)"
    )
    parser.add_argument("--people", type=int, default=10_000, help="people (10,000)")
    parser.add_argument("--channels", type=int, default=1_000, help="channels (1,000)")
    parser.add_argument("--days", type=int, default=100, help="days of history (100)")
    parser.add_argument("--runs", type=int, default=50, help="timed queries each (50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed first queries (5)")
    parser.add_argument("--board-runs", type=int, default=20, help="build_board runs (20)")
    parser.add_argument("--seed", type=int, default=1, help="channel sample seed")
    parser.add_argument("--explain", action="store_true", help="print both query plans")
    add_backend_args(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
