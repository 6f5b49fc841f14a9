"""`bot.sending.SendQueue`: claims are marked as sending in chunks, just before the workers
take them, with at most `room` marked claims waiting for a worker."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.sending import SendQueue


async def test_few_marked_claims_wait_and_lost_ones_are_reported() -> None:
    marked_batches: list[list[int]] = []
    taken_over = {7}

    async def mark(ids: Sequence[int]) -> set[int]:
        marked_batches.append(list(ids))
        return {i for i in ids if i not in taken_over}

    unsent: list[tuple[int, str]] = []
    queue: SendQueue[int] = SendQueue(
        mark, ident=lambda i: i, ahead=50, room=4, on_unsent=lambda i, r: unsent.append((i, r))
    )
    queue.start()
    for i in range(20):
        await queue.put(i)
    await asyncio.sleep(0.01)
    # Nobody takes any: only `room` are marked, the rest wait unmarked.
    assert sum(len(b) for b in marked_batches) == 4
    got: list[int] = []

    async def worker() -> None:
        while (item := await queue.get()) is not None:
            got.append(item)
            await asyncio.sleep(0)

    workers = [asyncio.create_task(worker()) for _ in range(3)]
    await queue.close(len(workers))
    await asyncio.gather(*workers)
    assert sorted(got) == [i for i in range(20) if i != 7]
    assert unsent == [(7, "taken_over")]
    assert all(len(batch) <= 4 for batch in marked_batches)
    assert sorted(i for batch in marked_batches for i in batch) == list(range(20))
    assert queue.marks == len(marked_batches) < 20  # chunks, not one transaction a claim


async def test_a_failed_mark_sends_nothing_of_its_chunk() -> None:
    async def mark(ids: Sequence[int]) -> set[int]:
        raise OSError("database gone")

    unsent: list[tuple[int, str]] = []
    queue: SendQueue[int] = SendQueue(
        mark, ident=lambda i: i, ahead=10, room=2, on_unsent=lambda i, r: unsent.append((i, r))
    )
    queue.start()
    for i in range(3):
        await queue.put(i)
    await queue.close(1)
    assert await queue.get() is None
    assert sorted(unsent) == [(0, "error"), (1, "error"), (2, "error")]
