"""Retry-After under a per-workspace limit: one slot of N channels in one workspace, posted by
the real bot (`bot.app.start`, SQLite, POST_CONCURRENCY 8, SLACK_WORKSPACE_CONCURRENCY 4)
against the fake Slack (in this process) limiting the workspace to R chat.postMessage a second.

    floor  = N / R                    (Slack's limit allows no faster)
    inside = posts the fake received inside a Retry-After window it had already announced
    ratio  = elapsed / floor          goal: inside = 0, every channel posted once

    .venv/bin/python -m bench.retry_after [--channels 500] [--limit 50]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.app import start
from bot.config import Settings
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import SECRET, FakeClock
from tests.scenario.test_replicas import EVERY_15M_ALL_DAY, seed_channels

SLOT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def measure(channels: int, limit: float, latency: float) -> int:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        async with FakeSlack() as slack:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                SLACK_BOT_TOKEN="xoxb-bench",
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_APP_TOKEN="",
                SLACK_API_URL=slack.api_url,
                DATABASE_URL=url,
                HOST="127.0.0.1",
                PORT=0,
                LOG_LEVEL="WARNING",
                POST_CONCURRENCY=8,
                SLACK_WORKSPACE_CONCURRENCY=4,
            )
            runtime = await start(settings, clock=FakeClock(SLOT), scheduler_on=False)
            try:
                ids = [f"CB{i:05d}" for i in range(channels)]
                await seed_channels(runtime.engine, slack, ids, EVERY_15M_ALL_DAY, SLOT)
                slack.latency = latency
                slack.workspace_limit = limit
                started = time.perf_counter()
                outcomes = await runtime.services.nudging.run_due_nudges(SLOT)
                elapsed = time.perf_counter() - started
            finally:
                await runtime.stop()
            decided = collections.Counter(o.decision for o in outcomes)
            posted = collections.Counter(
                str(c.params.get("channel"))
                for c in slack.calls_to("chat.postMessage")
                if c.status == 200
            )
            limited = sum(1 for c in slack.calls_to("chat.postMessage") if c.status == 429)
            floor = channels / limit
            print(
                f"channels={channels} limit={limit:g}/s latency={latency:g}s: "
                f"{elapsed:.1f} s (floor {floor:.1f} s, ratio {elapsed / floor:.2f}); "
                f"outcomes {dict(decided)}; posted once {sum(1 for n in posted.values() if n == 1)}, "
                f"twice+ {sum(1 for n in posted.values() if n > 1)}; 429s {limited}; "
                f"posts inside a Retry-After window: {len(slack.posts_in_retry_window)}"
            )
            ok = not slack.posts_in_retry_window and decided == {"posted": channels}
            print(f"goal: 0 inside, every channel posted once: {'MET' if ok else 'MISSED'}")
            return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retry_after", description=__doc__)
    parser.add_argument("--channels", type=int, default=500, help="channels due (500)")
    parser.add_argument("--limit", type=float, default=50.0, help="workspace posts/s (50)")
    parser.add_argument("--latency", type=float, default=0.02, help="fake Slack s/call (0.02)")
    args = parser.parse_args(argv)
    return asyncio.run(measure(args.channels, args.limit, args.latency))


if __name__ == "__main__":
    sys.exit(main())
