"""Who moved: coalesced, paced `chat.update` edits of nudges under ✅ bursts, vs a bare ack.

Two parts, against the real bot (`bot.app.start`, scheduler off, real clock, the shipped
figures: one edit per message every 3 s, 40 edits a minute per workspace with bursts of 10)
and the fake Slack in its own process (chat.update limited to Slack's Tier 3, 50 a minute,
and one injected 429 with Retry-After):

1. burst: --burst (500) signed ✅ `reaction_added` events from distinct people on ONE nudge,
   spread evenly over --burst-seconds (10). Measured: chat.update calls on that message, the
   shortest gap between two of them (goal >= 3 s, i.e. at most one per 3 s), the final line
   (goal: exactly "✅ 500 moved"), and calls that arrived inside a Retry-After (goal 0).
2. many: --nudges (2,000) nudges in --channels channels of one workspace, each getting one ✅
   at once (--concurrency in flight). ✅ ingest = N / seconds until all N breaks are committed,
   against a bare Bolt app that only acks (before and after); goal ratio >= 0.5. Then the
   edits are watched for --watch (20) seconds: their count must stay within the per-workspace
   budget (10 + 40 per minute of the window), with no 429 left unhonoured.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import sys
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import database, goal, header, install_error_tally, percentile, table
from bench.fake_proc import FakeSlackProcess
from bench.load import TEAM, client_session, fire, wait_until
from bench.reactions import (
    bare_run,
    bot_settings,
    channel_id,
    message_ts,
    nudge_channel,
    reaction_bodies,
    runtime_url,
    seed_nudges,
)
from bot.app import start
from handlers.slack import update_pacing
from tests.fakes import slack_payloads as payloads

GOAL_RATIO = 0.5
ROLL_SECONDS = 3.0
SLACK_TIER3_PER_MINUTE = 50


def budget(seconds: float) -> int:
    """Edits the pacer allows one workspace in `seconds`: its burst plus its rate."""
    return int(update_pacing.BURST + update_pacing.PER_MINUTE * seconds / 60.0)


async def count_breaks(engine: Any) -> int:
    async with engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM breaks"))).scalar_one()
        await conn.rollback()
        return int(count)


async def paced_fire(http: Any, url: str, bodies: list[str], seconds: float) -> int:
    """POST the bodies spread evenly over `seconds`; returns how many got 200."""
    ok = 0
    started = time.perf_counter()

    async def post(body: str) -> None:
        nonlocal ok
        headers = payloads.signed_headers(payloads_secret(), body)
        async with http.post(url, data=body.encode(), headers=headers) as response:
            await response.read()
            ok += response.status == 200

    tasks = []
    for i, body in enumerate(bodies):
        due = started + i * seconds / len(bodies)
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(post(body)))
    await asyncio.gather(*tasks)
    return ok


def payloads_secret() -> str:
    from bench.load import SECRET

    return SECRET


def roll_text(message: dict[str, Any] | None) -> str | None:
    for block in (message or {}).get("blocks") or []:
        if block.get("block_id") == "stretch_roll":
            return str(block["elements"][0]["text"])
    return None


async def burst_part(
    slack: FakeSlackProcess, http: Any, url: str, args: argparse.Namespace
) -> list[str]:
    """Part 1; returns correctness failures."""
    n = args.burst
    await slack.reset()
    channel, ts = channel_id(0), message_ts(0)
    await slack.add_channels([channel])
    await slack.request("seed_messages", messages=[[channel, ts]])
    await slack.request("limits", limits={"chat.update": SLACK_TIER3_PER_MINUTE})
    await slack.request("rate_limit", method="chat.update", times=1, retry_after=2)
    runtime = await start(bot_settings(slack.api_url, url), scheduler_on=False)
    try:
        await seed_nudges(runtime.engine, 1, 1)
        bodies = [
            payloads.event_callback_body(
                payloads.reaction_added_event(
                    user=f"U{i:05d}", reaction="white_check_mark", channel=channel, ts=ts
                ),
                team_id=TEAM,
            )
            for i in range(n)
        ]
        started = time.perf_counter()
        ok = await paced_fire(http, runtime_url(runtime.port), bodies, args.burst_seconds)
        sent = time.perf_counter() - started
        want = f"✅ {n} moved"

        async def final() -> str | None:
            line = roll_text((await slack.request("message", channel=channel, ts=ts))["message"])
            return line if line and line.startswith(want + ":") else None

        line, _waited = await wait_until(final, within=args.burst_seconds + 15, interval=0.2)
        edits = (await slack.request("edits"))["edits"]
        mine = [e for e in edits if e["ts"] == ts]
        answered = [e for e in mine if e["status"] == 200]
        gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(answered)]
        unhonoured = (await slack.request("edits"))["unhonoured_429s"]
        span = answered[-1]["at"] - answered[0]["at"] if answered else 0.0
    finally:
        await runtime.stop()
    allowed = math.floor(span / ROLL_SECONDS) + 1
    print(
        f"   burst: {ok}/{n} ✅ acked in {sent:.1f}s; chat.update: {len(answered)} ok + "
        f"{len(mine) - len(answered)} answered 429, over {span:.1f}s (at most {allowed} at one "
        f"per {ROLL_SECONDS:.0f} s); shortest gap {min(gaps, default=0):.2f}s; final line "
        f"{(line or roll_text(None) or 'missing')[:40]!r}...; calls inside a Retry-After: "
        f"{sum(unhonoured.values())}"
    )
    goal("burst: shortest gap between edits of one message, s", min(gaps, default=99), ">=", 2.95)
    goal("burst: edits of the message", len(answered), "<=", allowed)
    failures = []
    if ok != n:
        failures.append(f"burst: {n - ok} ✅ events not acked with 200")
    if line is None:
        failures.append(f"burst: the nudge never showed {want!r}")
    if sum(unhonoured.values()):
        failures.append(f"burst: {unhonoured} calls made inside a Retry-After")
    return failures


async def many_part(
    slack: FakeSlackProcess, http: Any, url: str, args: argparse.Namespace
) -> tuple[list[str], dict[str, Any]]:
    """Part 2; returns correctness failures and the figures."""
    n = args.nudges
    await slack.reset()
    await slack.add_channels([channel_id(c) for c in range(args.channels)])
    await slack.request(
        "seed_messages",
        messages=[[channel_id(nudge_channel(i, args.channels)), message_ts(i)] for i in range(n)],
    )
    await slack.request("limits", limits={"chat.update": SLACK_TIER3_PER_MINUTE})
    runtime = await start(bot_settings(slack.api_url, url), scheduler_on=False)
    counter = create_async_engine(url, pool_size=1, max_overflow=0)
    try:
        await seed_nudges(runtime.engine, n, args.channels)
        bodies = reaction_bodies(n, args.channels, args.users)

        async def all_committed() -> int | None:
            count = await count_breaks(counter)
            return count if count >= n else None

        started = time.perf_counter()
        load = await fire(http, runtime_url(runtime.port), bodies, concurrency=args.concurrency)
        await wait_until(all_committed, within=180, interval=0.05)
        seconds = time.perf_counter() - started
        breaks = await count_breaks(counter)
        remaining = args.watch - (time.perf_counter() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        watched = time.perf_counter() - started
        answer = await slack.request("edits")
        edits = answer["edits"]
        pending = runtime.services.who_moved.updates.pending
    finally:
        await counter.dispose()
        await runtime.stop()
    ok_edits = sum(1 for e in edits if e["status"] == 200)
    limited = sum(1 for e in edits if e["status"] == 429)
    figures = {
        "load": load,
        "seconds": seconds,
        "rate": breaks / seconds if breaks >= n else 0.0,
        "edits": ok_edits,
        "limited": limited,
        "watched": watched,
        "budget": budget(watched),
        "pending": pending,
        "unhonoured": sum(answer["unhonoured_429s"].values()),
    }
    failures = []
    if breaks != n:
        failures.append(f"many: {breaks} breaks for {n} ✅ events")
    if load.ok != n:
        failures.append(f"many: {n - load.ok} ✅ events not acked with 200")
    if figures["unhonoured"]:
        failures.append(f"many: {figures['unhonoured']} calls made inside a Retry-After")
    return failures, figures


async def run(args: argparse.Namespace) -> int:
    tally = install_error_tally()
    header(
        "who_moved: coalesced, paced chat.update under ✅ bursts vs a bare Bolt ack",
        burst=args.burst,
        burst_seconds=args.burst_seconds,
        nudges=args.nudges,
        channels=args.channels,
        concurrency=args.concurrency,
        watch=args.watch,
        budget=f"{update_pacing.BURST:.0f} + {update_pacing.PER_MINUTE:.0f}/min per workspace",
    )
    failures: list[str] = []
    async with FakeSlackProcess(team_id=TEAM) as slack, client_session(args.concurrency) as http:
        async with database("sqlite") as url:
            failures += await burst_part(slack, http, url, args)
        bodies = reaction_bodies(args.nudges, args.channels, args.users)
        bare = await bare_run(http, bodies, args.concurrency)
        tally.reset()
        async with database("sqlite") as url:
            more, figures = await many_part(slack, http, url, args)
        failures += more
        bare.add(await bare_run(http, bodies, args.concurrency))
    bare_rate = bare.ok / bare.seconds if bare.seconds else 0.0
    load = figures["load"]
    table(
        [
            [
                "bare Bolt ack (before+after)",
                bare.ok // 2,
                bare.seconds / 2,
                bare_rate,
                percentile(bare.latencies, 0.5) * 1000,
                "-",
            ],
            [
                "stretchbot (✅ until committed)",
                load.ok,
                figures["seconds"],
                figures["rate"],
                percentile(load.latencies, 0.5) * 1000,
                figures["edits"],
            ],
        ],
        ["server", "200s", "seconds", "events/s", "ack p50 ms", "chat.update ok"],
    )
    print(
        f"   many: {figures['edits']} edits ok, {figures['limited']} answered 429, in "
        f"{figures['watched']:.1f}s (budget {figures['budget']}: {update_pacing.BURST:.0f} + "
        f"{update_pacing.PER_MINUTE:.0f}/min); {figures['pending']} nudges still waiting their "
        f"turn; calls inside a Retry-After: {figures['unhonoured']}; logged warnings/errors: "
        f"{tally.summary()}"
    )
    ratio = figures["rate"] / bare_rate if bare_rate else 0.0
    print(f"ratio: ✅ ingest events/s / bare ack events/s = {ratio:.3f}")
    goal("ratio (✅ ingest / bare ack)", ratio, ">=", GOAL_RATIO)
    goal("many: edits within the per-workspace budget", figures["edits"], "<=", figures["budget"])
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    return 1 if failures else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.who_moved", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--burst", type=int, default=500, help="✅ on one nudge (500)")
    parser.add_argument("--burst-seconds", type=float, default=10.0, help="spread over (10 s)")
    parser.add_argument("--nudges", type=int, default=2000, help="nudges, one ✅ each (2000)")
    parser.add_argument("--channels", type=int, default=100, help="channels (default 100)")
    parser.add_argument("--users", type=int, default=500, help="distinct people (default 500)")
    parser.add_argument("--concurrency", type=int, default=32, help="in flight (default 32)")
    parser.add_argument("--watch", type=float, default=20.0, help="watch edits this long (20 s)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
