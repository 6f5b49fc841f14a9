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
