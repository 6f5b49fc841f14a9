"""Weekly recap: --channels (1,000) channels whose Friday board is due at one moment, posted by
two replicas at once through the real `SlackChat` against the fake Slack (own process); every
board and every chart must go out exactly once (the board claim per channel and week in
`storage/boards.py` covers both), and the cost of drawing one chart is measured.

Each channel gets a schedule, the weekly board on, a week of history (bench.leaderboard's
loader: two nudges a day, --breaks-per-channel breaks) and `next_board_at` = Fri 16:00 UTC.
Both replicas call `BoardService.run_due_boards(now)` until neither finds anything due.

Figures: wall time of the recap, charts per second, the drawing cost per chart (p50/p90 of
`render_png` on the recap's own charts, wall and CPU), PNG size, and this process's peak RSS
before and after the recap: the bot draws in a child process (bot/chart_process.py), so its own
RSS should not grow by matplotlib's ~50 MB.
Correctness: channels with other than one board message or one shared chart.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import update

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
from bench.fake_proc import FakeSlackProcess
from bench.leaderboard import history, load
from bot import charts
from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec
from bot.services import Services
from handlers.slack.chat import SlackChat, make_client
from storage.engine import create_engine, run_migrations
from storage.models import ChannelRow
from storage.sql import SqlStorage, SqlTenancy

DUE = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday 16:00 UTC (bench.leaderboard's week)
SPEC = ScheduleSpec(interval=timedelta(minutes=90), tz="UTC")
TOKEN = "xoxb-bench"
GOAL_DRAW_MS = 250.0  # one chart drawn with a quarter of a second of CPU at most (p50)


def channel_keys(channels: int) -> list[ChannelKey]:
    return [ChannelKey("slack", "T0001", f"CR{c:05d}") for c in range(channels)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def recap(
    slack: FakeSlackProcess, url: str, keys: list[ChannelKey], args: argparse.Namespace
) -> dict[str, Any]:
    engine = create_engine(url)
    http = aiohttp.ClientSession()
    try:
        await run_migrations(engine)
        pks = await seed_channels(engine, keys, SPEC, next_slot_at=DUE + timedelta(days=3))
        async with engine.begin() as conn:  # bound through the column type (UTCDateTime)
            await conn.execute(update(ChannelRow).values(weekly_board=True, next_board_at=DUE))
        nudge_rows, break_rows = history(
            [pks[k] for k in keys],
            breaks=args.breaks_per_channel * len(keys),
            people=args.people,
            days=args.days,
        )
        await load(engine, nudge_rows, break_rows)
        now = DUE + timedelta(seconds=5)
        replicas = []
        for _replica in range(2):
            client = make_client(TOKEN, base_url=slack.api_url, session=http)
            chat = SlackChat.single_workspace(client, per_workspace=args.per_workspace)
            replicas.append(
                Services.create(
                    SqlStorage(engine), SqlTenancy(engine), {chat.platform: chat}, clock=lambda: now
                )
            )
        rss_before = peak_rss_mb()
        decisions: Counter[str] = Counter()
        started = time.perf_counter()
        cpu_started = time.process_time()
        for _round in range(10 * (len(keys) // 500 + 2)):  # bounded: a pass posts up to 500
            passes = await asyncio.gather(*(s.boards.run_due_boards(now) for s in replicas))
            outcomes = [o for found in passes for o in found]
            if not outcomes:
                break
            decisions.update(f"{o.decision}{' ' + o.detail if o.detail else ''}" for o in outcomes)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        rss_after = peak_rss_mb()
        # The drawing cost, on charts of this recap (the first few channels' weeks).
        team = replicas[0].team
        draw_wall: list[float] = []
        draw_cpu: list[float] = []
        sizes: list[int] = []
        for key in keys[: args.draw_samples]:
            state = await replicas[0].storage.channels.get(key) or ChannelState(key=key)
            chart = await team.week_chart(state, now)
            wall_started, cpu_at = time.perf_counter(), time.process_time()
            png = charts.render_png(chart)
            draw_wall.append(time.perf_counter() - wall_started)
            draw_cpu.append(time.process_time() - cpu_at)
            sizes.append(len(png))
        return {
            "elapsed": elapsed,
            "cpu": cpu,
            "decisions": dict(decisions),
            "draw_wall": draw_wall,
            "draw_cpu": draw_cpu,
            "png_bytes": sum(sizes) / max(1, len(sizes)),
            "rss_before": rss_before,
            "rss_after": rss_after,
        }
    finally:
        await http.close()
        await engine.dispose()


async def run(args: argparse.Namespace) -> int:
    tally = install_error_tally()
    server = postgres_server_url(args.postgres)
    backends = [] if args.skip_sqlite else ["sqlite"]
    if server and not args.skip_postgres:
        backends.append("postgres")
    keys = channel_keys(args.channels)
    header(
        "weekly recap: Friday boards + charts for every channel at one moment, two replicas",
        channels=len(keys),
        breaks_per_channel=args.breaks_per_channel,
        backends="+".join(backends) or "none",
    )
    rows: list[list[Any]] = []
    failures: list[str] = []
    draw_p50: dict[str, float] = {}
    async with FakeSlackProcess() as slack:
        await slack.add_channels([k.channel_id for k in keys], member=True)
        for backend in backends:
            await slack.reset()
            async with database(backend, server) as url:
                result = await recap(slack, url, keys, args)
            label = backend_label(url)
            stats = await slack.stats()
            boards = stats["messages"]
            files = stats["files"]
            wrong = [
                k.channel_id
                for k in keys
                if boards.get(k.channel_id, 0) != 1 or files.get(k.channel_id, 0) != 1
            ]
            uploads = stats["calls"].get("files.completeUploadExternal 200", 0)
            print(
                f"   {label}: recap of {len(keys)} channels in {result['elapsed']:.1f}s "
                f"({len(keys) / result['elapsed']:.1f} charts/s, bench process CPU "
                f"{result['cpu']:.1f}s); outcomes {result['decisions']}; boards posted "
                f"{sum(boards.values())}, charts shared {sum(files.values())} "
                f"(completeUploadExternal ok: {uploads}); channels without exactly one of each: "
                f"{len(wrong)}"
            )
            print(
                f"   {label}: chart PNG {result['png_bytes'] / 1024:.0f} KiB on average; peak RSS "
                f"of this process {result['rss_before']:.0f} MB before the first chart, "
                f"{result['rss_after']:.0f} MB after"
            )
            rows.append(
                [
                    f"{label} render_png wall",
                    len(result["draw_wall"]),
                    percentile(result["draw_wall"], 0.5) * 1000,
                    percentile(result["draw_wall"], 0.9) * 1000,
                ]
            )
            rows.append(
                [
                    f"{label} render_png cpu",
                    len(result["draw_cpu"]),
                    percentile(result["draw_cpu"], 0.5) * 1000,
                    percentile(result["draw_cpu"], 0.9) * 1000,
                ]
            )
            draw_p50[label] = percentile(result["draw_cpu"], 0.5) * 1000
            if wrong:
                failures.append(
                    f"{label}: {len(wrong)} channels without exactly one board and one chart "
                    f"(e.g. {wrong[:3]})"
                )
    table(rows, ["per chart", "charts", "p50 ms", "p90 ms"])
    print(f"   logged warnings/errors: {tally.summary()}")
    for label, ms in draw_p50.items():
        print(f"rendering cost {label}: p50 {ms:.1f} ms of CPU per chart")
        goal(f"drawing one chart ({label}, p50 CPU ms)", ms, "<=", GOAL_DRAW_MS)
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    return 1 if failures else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.weekly_recap", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--channels", type=int, default=1_000, help="channels (1,000)")
    parser.add_argument("--breaks-per-channel", type=int, default=20, help="breaks each (20)")
    parser.add_argument("--people", type=int, default=2_000, help="people (2,000)")
    parser.add_argument("--days", type=int, default=7, help="days of history (7)")
    parser.add_argument("--draw-samples", type=int, default=20, help="charts timed alone (20)")
    parser.add_argument(
        "--per-workspace", type=int, default=4, help="SlackChat per-workspace cap (4, the bot's)"
    )
    add_backend_args(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
