"""The Slack OAuth state table on each backend (issue 9, item 10): migration 0005 indexes it by
`state` and `expire_at`; `PrunedOAuthStateStore` deletes expired states at most once a minute
(injected clock) and refuses a state it could not have issued without a query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.installations import PrunedOAuthStateStore


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def statements(engine: AsyncEngine, into: list[str]) -> None:
    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        into.append(" ".join(statement.split()).upper())

    event.listen(engine.sync_engine, "before_cursor_execute", seen)


async def count_states(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM slack_oauth_states"))).scalar())


async def test_the_state_table_is_indexed_by_state_and_expiry(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as conn:
        indexes = await conn.run_sync(lambda sync: inspect(sync).get_indexes("slack_oauth_states"))
    assert {tuple(index["column_names"]) for index in indexes} >= {("state",), ("expire_at",)}


async def test_expired_states_are_pruned_at_most_once_a_minute(db_engine: AsyncEngine) -> None:
    clock = Clock()
    store = PrunedOAuthStateStore(expiration_seconds=600, engine=db_engine, monotonic=clock)
    seen: list[str] = []
    statements(db_engine, seen)

    states = [await store.async_issue() for _ in range(3)]
    assert sum(s.startswith("DELETE") for s in seen) == 1  # the first issue pruned, once
    clock.now += 59
    states.append(await store.async_issue())
    assert sum(s.startswith("DELETE") for s in seen) == 1

    past = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    async with db_engine.begin() as conn:
        await conn.execute(
            text("UPDATE slack_oauth_states SET expire_at = :t WHERE state IN (:a, :b)"),
            {"t": past, "a": states[0], "b": states[1]},
        )
    clock.now += 1
    fresh = await store.async_issue()
    assert sum(s.startswith("DELETE") for s in seen) == 2
    assert await count_states(db_engine) == 3  # states[2], states[3] and the fresh one
    assert not await store.async_consume(states[0])  # expired, gone
    assert await store.async_consume(states[2])
    assert await store.async_consume(fresh)
    assert not await store.async_consume(fresh)  # once only


async def test_a_state_we_never_issued_costs_no_query(db_engine: AsyncEngine) -> None:
    store = PrunedOAuthStateStore(expiration_seconds=600, engine=db_engine)
    seen: list[str] = []
    statements(db_engine, seen)
    for forged in ("", "x" * 5000, "' OR 1=1 --", "00000000-0000-0000-0000-00000000000\n"):
        assert not await store.async_consume(forged)
    assert seen == []
