"""Round trips to PostgreSQL counted at the driver: every asyncpg protocol call that waits for
the server (a simple query such as BEGIN or ROLLBACK, a prepare, an execute) counts one.

    counter = RoundTrips.attach(engine)   # connections opened from now on are counted
    with RoundTrips.everywhere() as counter: ...   # every pool's new connections
    counter.total, counter.by_kind; counter.reset()

A measuring tool for bench.commands and tests: it wraps each new connection's protocol object
(asyncpg's Python-level `Connection._protocol`), so nothing else about the driver changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool

# Protocol methods that send a message and wait for the server's answer.
WAITING_CALLS = frozenset(
    {"query", "prepare", "bind_execute", "bind_execute_many", "bind", "execute", "close_statement"}
)


class _CountingProtocol:
    def __init__(self, inner: Any, counter: RoundTrips) -> None:
        self._inner = inner
        self._counter = counter

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in WAITING_CALLS:
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._counter.by_kind[name] += 1
            if name == "query" and args:
                self._counter.by_kind[f"query {str(args[0]).split()[0].upper()}"] += 1
            return value(*args, **kwargs)

        return counted


class RoundTrips:
    """Counts the round trips of every connection `engine`'s pool opens after `attach`."""

    def __init__(self) -> None:
        self.by_kind: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(n for kind, n in self.by_kind.items() if not kind.startswith("query "))

    def reset(self) -> None:
        self.by_kind.clear()

    def wrap(self, dbapi_connection: Any, _record: Any = None) -> None:
        """Count a new asyncpg connection's round trips (a pool `connect` listener)."""
        raw = getattr(dbapi_connection, "driver_connection", None)
        if raw is not None and hasattr(raw, "_protocol"):
            raw._protocol = _CountingProtocol(raw._protocol, self)

    @classmethod
    def attach(cls, engine: AsyncEngine) -> RoundTrips:
        """Count the connections `engine`'s pool opens from now on."""
        counter = cls()
        event.listen(engine.sync_engine, "connect", counter.wrap)
        return counter

    @classmethod
    @contextmanager
    def everywhere(cls) -> Iterator[RoundTrips]:
        """Count the Postgres connections every pool opens inside the block (for engines made
        where the caller cannot reach, e.g. inside `bot.app.start`)."""
        counter = cls()
        event.listen(Pool, "connect", counter.wrap)
        try:
            yield counter
        finally:
            event.remove(Pool, "connect", counter.wrap)


# ---- `python -m bench.roundtrips`: round trips per /stretch command on Postgres -------------


async def _per_command(server: str, words: list[str]) -> dict[str, RoundTrips]:
    import asyncio
    from datetime import UTC, datetime

    from bench.commands import CHANNEL, SPEC, Users, bot_settings, command_bodies
    from bench.common import database
    from bench.fake_proc import FakeSlackProcess
    from bench.load import TEAM, client_session, fire
    from bot.app import start
    from bot.ports import ChannelKey, ChannelState
    from bot.schedules import next_slot_after

    found: dict[str, RoundTrips] = {}
    async with FakeSlackProcess(team_id=TEAM) as slack, client_session(1) as http:
        await slack.add_channels([CHANNEL], member=True)
        async with database("postgres", server) as url:
            with RoundTrips.everywhere() as counter:
                runtime = await start(bot_settings(slack.api_url, url), scheduler_on=False)
                try:
                    await runtime.services.storage.channels.save(
                        ChannelState(
                            key=ChannelKey("slack", TEAM, CHANNEL),
                            spec=SPEC,
                            enabled=True,
                            next_slot_at=next_slot_after(SPEC, datetime.now(UTC)),
                        )
                    )
                    users = Users()
                    url_ = f"http://127.0.0.1:{runtime.port}/slack/events"
                    for turn in range(3):  # the last turn counts: statements prepared by then
                        for word in words:
                            bodies = command_bodies(slack, 1, f"rt{turn}-{word}-", (word,), users)
                            await asyncio.sleep(0.3)  # earlier work (response posts) done
                            counter.reset()
                            await fire(http, url_, bodies, concurrency=1)
                            await asyncio.sleep(0.5)  # its own post-ack work done
                            found[word] = RoundTrips()
                            found[word].by_kind.update(counter.by_kind)
                finally:
                    await runtime.stop()
    return found


def main(argv: list[str] | None = None) -> int:
    import argparse
    import asyncio

    from bench.commands import MIXED
    from bench.common import postgres_server_url

    parser = argparse.ArgumentParser(
        prog="python -m bench.roundtrips",
        description="Postgres round trips per /stretch command (the mixed workload's words), "
        "one command at a time, counted at the driver once statements are prepared.",
    )
    parser.add_argument("--postgres", metavar="URL", help="default: $TEST_POSTGRES_URL")
    args = parser.parse_args(argv)
    server = postgres_server_url(args.postgres)
    if not server:
        print("bench.roundtrips needs --postgres URL or $TEST_POSTGRES_URL")
        return 2
    words = list(dict.fromkeys(MIXED))
    for word, counter in asyncio.run(_per_command(server, words)).items():
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(counter.by_kind.items()))
        print(f"/stretch {word:<11} {counter.total:3d} round trips  ({kinds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
