"""The storage contract for `SqlBoardRepository`: one weekly board per channel and period.

Each test runs once per backend through the `storage` fixture ("sqlite" always, "postgres" when
TEST_POSTGRES_URL is set), each on a fresh, migrated database.
"""

from __future__ import annotations

import asyncio

from storage.sql import SqlStorage
from tests.storage.contract import KEY, OTHER, schedule


async def test_claim_board_once_per_channel_and_period(storage: SqlStorage) -> None:
    await schedule(storage)
    assert await storage.boards.claim_board(channel=KEY, period_key="2026-W48")
    assert not await storage.boards.claim_board(channel=KEY, period_key="2026-W48")
    assert await storage.boards.claim_board(channel=KEY, period_key="2026-W49")
    assert await storage.boards.claim_board(channel=OTHER, period_key="2026-W48")


async def test_concurrent_board_claims_have_one_winner(storage: SqlStorage) -> None:
    await schedule(storage)
    results = await asyncio.gather(
        *(storage.boards.claim_board(channel=KEY, period_key="2026-W48") for _ in range(10))
    )
    assert results.count(True) == 1
