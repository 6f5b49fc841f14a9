"""The hello and the shortcut under load: acks stay fast and every channel hears one hello.

The real bot (`bot.app.start`, scheduler off; SQLite, or Postgres with `--postgres URL` or
$TEST_POSTGRES_URL) against the fake Slack in this process, over HTTP:

- baseline: `member_joined_channel` for people other than the bot (nothing to do after the ack);
- hello: the bot invited to C channels (default 300), each event delivered twice at once (Slack
  retrying, or two replicas' worth of deliveries), `--concurrency` requests in flight; time =
  the HTTP ack; then how long until every hello is posted, and how many hellos each channel got;
- shortcut: S "Take a movement break" submissions picking a channel, whose checks (the person's
  channels, the bot's membership) run before the ack; time = the HTTP ack (Slack gives 3 s).

Goals: exactly one hello per channel (a duplicate or a missing one is a correctness failure),
hello ack p50 <= 2 x baseline p50, shortcut ack p99 < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench.common import (
    add_backend_args,
    database,
    goal,
    header,
    percentile,
    postgres_server_url,
    table,
)
from bench.load import SECRET, TEAM
from bot.app import start
from tests.fakes import slack_payloads as payloads
from tests.fakes import slack_surface_payloads as surface
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import bot_settings


async def timed(
    http: aiohttp.ClientSession, url: str, body: str, slots: asyncio.Semaphore
) -> float:
    async with slots:
        headers = payloads.signed_headers(SECRET, body)
        started = time.perf_counter()
        async with http.post(url, data=body.encode(), headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
        return time.perf_counter() - started


async def run(args: argparse.Namespace, backend: str, server: str | None) -> int:
    header(
        "onboarding: hello per channel and the shortcut's ack",
        channels=args.channels,
        shortcuts=args.shortcuts,
        concurrency=args.concurrency,
        backend=backend,
    )
    async with FakeSlack(team_id=TEAM) as slack, database(backend, server) as url:
        channels = [f"C{n:07d}" for n in range(args.channels)]
        for channel in channels:
            slack.add_channel(channel, name=channel.lower(), member=True)
        slack.set_user("U0001", tz="Europe/Berlin")
        slack.surfaces.join("U0001", *channels[:50])
        settings = bot_settings(slack, url, SLACK_SIGNING_SECRET=SECRET, LOG_LEVEL="WARNING")
        runtime = await start(settings, clock=lambda: datetime.now(UTC), scheduler_on=False)
        events_url = f"http://127.0.0.1:{runtime.port}/slack/events"
        slots = asyncio.Semaphore(args.concurrency)
        try:
            async with aiohttp.ClientSession() as http:

                async def burst(bodies: list[str]) -> list[float]:
                    return list(
                        await asyncio.gather(*(timed(http, events_url, b, slots) for b in bodies))
                    )

                def event(user: str, channel: str) -> str:
                    joined = surface.member_joined_channel_event(user=user, channel=channel)
                    return payloads.event_callback_body(joined, team_id=TEAM)

                baseline = await burst([event("U0002", c) for c in channels])
                started = time.perf_counter()
                hello = await burst([event(slack.bot_user_id, c) for c in channels for _ in "ab"])
                said = await until(lambda: hello_count(slack, channels) >= len(channels))
                posted_s = time.perf_counter() - started
                await asyncio.sleep(0.5)  # late duplicates would show by now
                per_channel = [hellos_in(slack, c) for c in channels]

                modal = None
                shortcut: list[float] = []
                for n in range(args.shortcuts):
                    if modal is None:
                        trigger = slack.surfaces.issue_trigger("U0001")
                        opened = surface.global_shortcut(
                            callback_id="stretch_break_shortcut", trigger_id=trigger
                        )
                        await timed(http, events_url, payloads.interactivity_body(opened), slots)
                        [call] = await slack.wait_for("views.open")
                        modal = call.response["view"]
                    picked = channels[n % 50]
                    submitted = surface.view_submission(modal, {"pick_channel": picked})
                    body = payloads.interactivity_body(submitted)
                    shortcut.append(await timed(http, events_url, body, slots))
        finally:
            await runtime.stop()

    rows = [
        ("baseline: someone else joined", len(baseline), baseline),
        ("hello: the bot joined (x2 each)", len(hello), hello),
        ("shortcut: a channel picked", len(shortcut), shortcut),
    ]
    table(
        [
            (name, n, 1000 * percentile(v, 0.5), 1000 * percentile(v, 0.99), 1000 * max(v or [0]))
            for name, n, v in rows
        ],
        ["request", "n", "ack p50 ms", "ack p99 ms", "max ms"],
    )
    print(f"   every hello posted {posted_s:.2f} s after the first delivery (said={said})")
    duplicates = sum(1 for c in per_channel if c > 1)
    missing = sum(1 for c in per_channel if c == 0)
    print(
        f"   channels with one hello: {per_channel.count(1)}, more: {duplicates}, none: {missing}"
    )
    ratio = percentile(hello, 0.5) / max(percentile(baseline, 0.5), 1e-9)
    goal("hello ack p50 / baseline ack p50", ratio, "<=", 2.0)
    goal("shortcut ack p99 (s)", percentile(shortcut, 0.99), "<", 3.0)
    if duplicates or missing:
        print(f"CORRECTNESS FAILURE: {duplicates} channels with extra hellos, {missing} without")
        return 1
    return 0


def hellos_in(slack: FakeSlack, channel: str) -> int:
    return sum(1 for m in slack.messages_in(channel) if "Hi, I'm stretchbot" in m["text"])


def hello_count(slack: FakeSlack, channels: list[str]) -> int:
    return sum(1 for c in channels if hellos_in(slack, c))


async def until(condition: Callable[[], bool | Awaitable[bool]], within: float = 120.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value: Any = condition()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return True
        await asyncio.sleep(0.02)
    return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=300)
    parser.add_argument("--shortcuts", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    add_backend_args(parser)
    args = parser.parse_args(argv)
    server = postgres_server_url(args.postgres)
    failed = 0
    if not args.skip_sqlite:
        failed |= asyncio.run(run(args, "sqlite", None))
    if server and not args.skip_postgres:
        failed |= asyncio.run(run(args, "postgres", server))
    return failed


if __name__ == "__main__":
    sys.exit(main())
