"""What a workspace's own exercises cost the scheduler: one pass over 10,000 due channels in 100
workspaces (claim batches of 100, shuffled as `run_due_nudges` does), reading the catalogs
(`ExerciseService.catalogs`, once per workspace per pass) and picking each channel's catalog,
with no workspace changing anything and with every workspace holding 20 exercises of its own,
one built-in off and one channel pack. Compare with a fan-out pass of the same size
(`bench.fanout`: ~9 s on a quiet host)."""

from __future__ import annotations

import argparse
import asyncio
import random
from collections.abc import Sequence

from bench.common import Stopwatch, database, goal, header, postgres_server_url, table
from bot.custom_exercises import CustomExercise, WorkspaceExercises
from bot.exercise_service import ExerciseService
from bot.ports import ChannelKey
from storage.engine import create_engine, run_migrations
from storage.sql import SqlStorage

BATCH = 100


async def one_pass(service: ExerciseService, channels: list[ChannelKey]) -> None:
    known: dict[tuple[str, str], WorkspaceExercises] = {}
    random.shuffle(channels)
    for start in range(0, len(channels), BATCH):
        batch = channels[start : start + BATCH]
        catalogs = await service.catalogs(batch, known)
        for key in batch:
            service.catalog_of(catalogs, key)


async def measure(url: str, args: argparse.Namespace) -> list[list[object]]:
    engine = create_engine(url)
    rows: list[list[object]] = []
    try:
        await run_migrations(engine)
        storage = SqlStorage(engine)
        service = ExerciseService(storage)
        teams = [f"T{n:04d}" for n in range(args.workspaces)]
        channels = [
            ChannelKey("slack", teams[n % len(teams)], f"C{n:05d}") for n in range(args.channels)
        ]
        for label in ("no changes", f"{args.own} own each"):
            if label != "no changes":
                for team in teams:
                    await storage.exercises.replace(
                        platform="slack",
                        team_id=team,
                        exercises=[
                            CustomExercise(
                                key=f"x-move-{i}",
                                name=f"Move {i}",
                                how_to="Do it slowly.",
                                amount=10,
                                unit="reps",
                                position="seated" if i % 2 else "standing",
                                pack="physio" if i % 5 == 0 else None,
                            )
                            for i in range(args.own)
                        ],
                        off=frozenset({"lunges"}),
                        by="bench",
                    )
                    await storage.exercises.use_pack(
                        platform="slack", team_id=team, channel_id="C00000", pack="physio"
                    )
            await one_pass(service, channels)  # warm up
            times = []
            for _ in range(args.runs):
                with Stopwatch() as watch:
                    await one_pass(service, channels)
                times.append(watch.seconds)
            rows.append([label, min(times) * 1000, sorted(times)[len(times) // 2] * 1000])
    finally:
        await engine.dispose()
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=10_000, help="due channels (10,000)")
    parser.add_argument("--workspaces", type=int, default=100, help="workspaces (100)")
    parser.add_argument("--own", type=int, default=20, help="own exercises each (20)")
    parser.add_argument("--runs", type=int, default=5, help="timed passes (5)")
    parser.add_argument("--postgres", metavar="URL", help="Postgres server (TEST_POSTGRES_URL)")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    server = None if args.skip_postgres else postgres_server_url(args.postgres)
    header(
        "exercise catalogs: one scheduler pass",
        channels=args.channels,
        workspaces=args.workspaces,
        own=args.own,
    )
    for backend in ("sqlite", "postgres") if server else ("sqlite",):

        async def run(backend: str = backend) -> list[list[object]]:
            async with database(backend, server) as url:
                return await measure(url, args)

        rows = asyncio.run(run())
        print(f"-- {backend}")
        table(rows, ["workspaces", "best ms/pass", "median ms/pass"])
        goal(
            f"{backend}: catalogs of a pass, {args.own} own each (ms)",
            float(rows[-1][2]),
            "<=",
            1000,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
