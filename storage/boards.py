"""The `board_posts` aggregate on SQL: `SqlBoardRepository`, one weekly board claim per period."""

from __future__ import annotations

from bot.ports import ChannelKey
from storage.db import Database
from storage.models import BoardPostRow


class SqlBoardRepository:
    """`bot.ports.BoardRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim_board(self, *, channel: ChannelKey, period_key: str) -> bool:
        """Claim posting the board for this period ('2026-W47'); False if already claimed."""
        async with self._db.write() as session:
            channel_pk = await self._db.ensure_channel(session, channel)
            claimed = (
                await session.execute(
                    self._db.insert(BoardPostRow)
                    .values(
                        channel_pk=channel_pk, period_key=period_key, posted_at=self._db.clock()
                    )
                    .on_conflict_do_nothing(index_elements=["channel_pk", "period_key"])
                    .returning(BoardPostRow.channel_pk)
                )
            ).scalar_one_or_none()
            if claimed is None:
                return False
            await session.commit()
            return True
