"""Home tab: `app_home_opened` for people in 500 channels vs `/stretch status`, in one run.

P people (default 60), each in C channels (default 500), all of them scheduled; each person has
breaks in 10 of them over the last 30 days. The real bot (`bot.app.start`, scheduler off;
SQLite, and Postgres with `--postgres URL` or $TEST_POSTGRES_URL) against the fake Slack in its
own process (`users.conversations` answers the person's 500 channels as full channel objects,
999 a page, as Slack does). One request at a time, so the figures are server time, not queueing:

- status: a signed `/stretch status` in a scheduled channel, answered in the ack; time = its
  HTTP round trip.
- Home, cold: a signed `app_home_opened` for a person whose channel list is not cached; time =
  from sending the event until the fake Slack receives the `views.publish` (the bot acks at
  once, lists the person's channels, reads the database twice, renders the view, publishes it).
  Arrival times are the fake's `time.monotonic()`, the same clock as the sender's.
- Home, warm: the same person again (their listing cached, as within one visit).

Rounds alternate status, cold and warm. The bot's own users.conversations budget (40 a minute
per workspace, Slack's Tier 3) is lifted for the run: it would turn all but the first cold
opens into the fallback, which is what production does at that pace, but not what this
measures. Figures: p50/p99 per kind, the database statements per open (SQLAlchemy
`before_cursor_execute` on every engine while that open alone runs), blocks per view and views
the fake refused (it checks Block Kit's limits). Goals: at most 2 statements per open, no view
refused, Home p50 (cold and warm) <= 2 x status p50.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bench.common import (
    add_backend_args,
    bulk_insert,
    channel_row,
    database,
    goal,
    header,
    install_error_tally,
    percentile,
    postgres_server_url,
    table,
)
from bench.fake_proc import FakeSlackProcess
from bench.load import SECRET, TEAM, client_session
from bot.app import start
from bot.ports import ChannelKey
from bot.schedules import ScheduleSpec, next_slot_after
from handlers.slack import members
from storage.models import BreakRow, ChannelRow, NudgeRow
from tests.fakes import slack_payloads as payloads
from tests.fakes import slack_surface_payloads as surface

SPEC = ScheduleSpec(interval=timedelta(minutes=45), tz="Europe/Berlin")
GOAL_RATIO = 2.0
GOAL_STATEMENTS = 2
MOVED_CHANNELS = 10  # channels each person has breaks in
HISTORY_DAYS = 30


def bot_settings(api_url: str, database_url: str) -> Any:
    from bench.commands import bot_settings as settings

    return settings(api_url, database_url)


class StatementCount:
    """Statements any engine sends (SQLite's own BEGIN/COMMIT/ROLLBACK aside)."""

    def __init__(self) -> None:
        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.count += 1

    def close(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._seen)


@dataclass
class Measured:
    status: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)  # until the view arrived
    warm: list[float] = field(default_factory=list)
    cold_own: list[float] = field(default_factory=list)  # minus the fake Slack's own time
    warm_own: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)
    refused: int = 0
    missing: int = 0
    errors: str = ""


async def seed_breaks(
    engine: Any, pks: dict[ChannelKey, int], people: list[str], now: datetime
) -> int:
    """For each person, breaks on half the nudges (two a day) of 10 of their channels."""
    rng = random.Random(7)
    chosen = sorted(pks.items(), key=lambda item: item[0].channel_id)[: MOVED_CHANNELS * 3]
    nudges = []
    for _key, pk in chosen:
        for day in range(HISTORY_DAYS):
            for hour in (9, 14):
                at = (now - timedelta(days=day)).replace(
                    hour=hour, minute=0, second=0, microsecond=0
                )
                nudges.append(
                    {
                        "channel_pk": pk,
                        "slot_at": at,
                        "exercise_key": "heel-lifts",
                        "status": "posted",
                        "message_id": f"{at.timestamp():.6f}",
                        "claimed_at": at,
                        "posted_at": at,
                        "error": None,
                    }
                )
    await bulk_insert(engine, NudgeRow.__table__, nudges)
    posted = {(row["channel_pk"], row["message_id"]): row["posted_at"] for row in nudges}
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, channel_pk, message_id FROM nudges"))).all()
    by_channel: dict[int, list[tuple[int, datetime]]] = {}
    for nudge_id, pk, message_id in rows:
        by_channel.setdefault(pk, []).append((nudge_id, posted[(pk, message_id)]))
    breaks = []
    channel_pks = sorted(by_channel)
    for person in people:
        for pk in rng.sample(channel_pks, MOVED_CHANNELS):
            for nudge_id, posted_at in by_channel[pk]:
                if rng.random() < 0.5:
                    breaks.append(
                        {
                            "nudge_id": nudge_id,
                            "channel_pk": pk,
                            "person_id": person,
                            "logged_at": posted_at + timedelta(minutes=3),
                        }
                    )
    await bulk_insert(engine, BreakRow.__table__, breaks)
    return len(breaks)


async def measure(
    args: argparse.Namespace,
    slack: FakeSlackProcess,
    http: aiohttp.ClientSession,
    db_url: str,
    channels: list[str],
    people: list[str],
) -> Measured:
    out = Measured()
    runtime = await start(bot_settings(slack.api_url, db_url), scheduler_on=False)
    counter = StatementCount()
    try:
        now = datetime.now(UTC)
        first = next_slot_after(SPEC, now) or now
        # Each channel's next slot a second after the one before: "soonest first" is an order.
        rows = [
            channel_row(
                ChannelKey("slack", TEAM, channel), SPEC, next_slot_at=first + timedelta(seconds=n)
            )
            for n, channel in enumerate(channels)
        ]
        await bulk_insert(runtime.engine, ChannelRow.__table__, rows)
        async with runtime.engine.connect() as conn:
            found = await conn.execute(text("SELECT id, channel_id FROM channels"))
            pks = {ChannelKey("slack", TEAM, channel): int(pk) for pk, channel in found}
        breaks = await seed_breaks(runtime.engine, pks, people, now)
        print(
            f"   seeded {len(channels)} scheduled channels, {breaks} breaks of {len(people)} people"
        )
        url = f"http://127.0.0.1:{runtime.port}/slack/events"

        async def status(user: str) -> float:
            body = payloads.slash_command_body(
                text="status",
                team_id=TEAM,
                channel_id=channels[0],
                user_id=user,
                response_url=slack.response_url(f"s-{user}"),
            )
            started = time.perf_counter()
            async with http.post(
                url, data=body.encode(), headers=payloads.signed_headers(SECRET, body)
            ) as response:
                answer = await response.text()
            elapsed = time.perf_counter() - started
            if response.status != 200 or "Movement breaks here" not in answer:
                out.missing += 1
            return elapsed

        published = 0

        async def home(user: str) -> tuple[float, float] | None:
            nonlocal published
            body = payloads.event_callback_body(
                surface.app_home_opened_event(user=user, channel="D" + user[1:]), team_id=TEAM
            )
            statements = counter.count
            sent = time.monotonic()
            async with http.post(
                url, data=body.encode(), headers=payloads.signed_headers(SECRET, body)
            ) as response:
                await response.read()
            published += 1
            answer = await slack.request("wait_publishes", count=published, timeout=args.wait)
            arrival = answer.get("publish")
            out.statements.append(counter.count - statements)
            if not arrival:
                out.missing += 1
                return None
            if not arrival["ok"]:
                out.refused += 1
            out.blocks.append(int(arrival["blocks"]))
            wall = float(arrival["at"]) - sent
            return wall, wall - float(arrival.get("slack_seconds", 0.0))

        for user in people[: args.warmup]:  # warm-up: the first people are not measured
            await status(user)
            await home(user)
            await home(user)
        rest = people[args.warmup :]
        size = max(1, len(rest) // args.rounds)
        for start_at in range(0, len(rest), size):
            group = rest[start_at : start_at + size]
            for user in group:
                out.status.append(await status(user))
            for user in group:
                cold = await home(user)
                if cold is not None:
                    out.cold.append(cold[0])
                    out.cold_own.append(cold[1])
            for user in group:
                warm = await home(user)
                if warm is not None:
                    out.warm.append(warm[0])
                    out.warm_own.append(warm[1])
    finally:
        counter.close()
        await runtime.stop()
    return out


async def run(args: argparse.Namespace) -> int:
    tally = install_error_tally()
    server = postgres_server_url(args.postgres)
    backends = [] if args.skip_sqlite else ["sqlite"]
    if server and not args.skip_postgres:
        backends.append("postgres")
    header(
        "home: app_home_opened for people in many channels vs /stretch status (one at a time)",
        people=args.people,
        channels=args.channels,
        rounds=args.rounds,
        warmup=args.warmup,
        backends="+".join(backends) or "none",
    )
    # The bot's Tier 3 budget for users.conversations would make most cold opens fall back
    # (by design); this run measures the listing path itself.
    members.CALLS_PER_MINUTE = members.BURST = 1e9
    channels = [f"C{1000 + n}" for n in range(args.channels)]
    people = [f"U{n:05d}" for n in range(args.people)]
    runs: dict[str, Measured] = {}
    async with FakeSlackProcess(team_id=TEAM) as slack, client_session(4) as http:
        await slack.add_channels(channels, member=True)
        await slack.join(people, channels)
        for backend in backends:
            await slack.reset()
            async with database(backend, server) as db_url:
                runs[backend] = await measure(args, slack, http, db_url, channels, people)
            runs[backend].errors = tally.summary()
            tally.reset()
    rows = []
    for backend, m in runs.items():
        for label, values in (
            ("status", m.status),
            ("home cold", m.cold),
            ("home cold, server time", m.cold_own),
            ("home warm", m.warm),
            ("home warm, server time", m.warm_own),
        ):
            rows.append(
                [
                    f"{label} ({backend})",
                    len(values),
                    percentile(values, 0.5) * 1000,
                    percentile(values, 0.99) * 1000,
                    max(values, default=0.0) * 1000,
                ]
            )
    table(rows, ["what", "n", "p50 ms", "p99 ms", "max ms"])
    failures = []
    for backend, m in runs.items():
        status = percentile(m.status, 0.5)

        def ratio(values: list[float], status: float = status) -> float:
            return percentile(values, 0.5) / status if status else float("inf")

        cold, warm, cold_own = ratio(m.cold), ratio(m.warm), ratio(m.cold_own)
        print(
            f"{backend}: statements per open: max {max(m.statements, default=0)}, "
            f"all {sorted(set(m.statements))}; blocks per view: max {max(m.blocks, default=0)}; "
            f"views refused {m.refused}; answers missing {m.missing}"
        )
        print(f"   logged warnings/errors: {m.errors}")
        print(
            f"ratio {backend}: home p50 / status p50: cold {cold:.3f} (server time, the fake "
            f"Slack's own time taken out: {cold_own:.3f}), warm {warm:.3f}"
        )
        goal(
            f"statements per Home ({backend})", max(m.statements, default=99), "<=", GOAL_STATEMENTS
        )
        goal(f"views refused by Block Kit's limits ({backend})", m.refused, "<=", 0)
        goal(
            f"Home cold p50 / status p50, server time ({backend})",
            cold_own,
            "<=",
            GOAL_RATIO,
            note=f"with the fake Slack's own time: {cold:.2f}",
        )
        goal(f"Home warm p50 / status p50 ({backend})", warm, "<=", GOAL_RATIO)
        if m.missing:
            failures.append(f"{backend}: {m.missing} answers or views never arrived")
        if m.refused:
            failures.append(f"{backend}: {m.refused} Home views refused")
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    return 1 if failures else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.home", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--people", type=int, default=60, help="people, each in every channel (60)")
    parser.add_argument("--channels", type=int, default=500, help="scheduled channels (500)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (5)")
    parser.add_argument("--warmup", type=int, default=5, help="people opened before measuring (5)")
    parser.add_argument("--wait", type=float, default=30.0, help="max seconds for one view")
    add_backend_args(parser)
    args = parser.parse_args(argv)
    args.warmup = min(args.warmup, max(0, args.people - 1))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    budget = members.CALLS_PER_MINUTE, members.BURST
    try:
        return asyncio.run(run(parse_args(argv)))
    finally:  # run in-process (the smoke test): leave the bot's figures as they were
        members.CALLS_PER_MINUTE, members.BURST = budget


if __name__ == "__main__":
    sys.exit(main())
