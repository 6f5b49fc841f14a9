"""SQL implementations of the repositories in `bot.ports` (SQLite and PostgreSQL).

Every method is one short transaction and takes and returns `bot.ports` records, never ORM
objects. Races between replicas (or between two deliveries of one Slack event) are settled by
the database: compare-and-set updates, unique constraints with ON CONFLICT DO NOTHING, and row
locks, so no method needs a retry loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import (
    BoardRepository,
    BreakRepository,
    ChannelKey,
    ChannelRepository,
    NudgeRepository,
    Storage,
)
from storage.breaks import SqlBreakRepository
from storage.channels import SqlChannelRepository
from storage.db import Clock, Database, utc_now
from storage.models import (
    BoardPostRow,
)
from storage.nudges import SqlNudgeRepository

# ---- repositories -----------------------------------------------------------------------------


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


class SqlStorage:
    """All repositories over one engine; satisfies `bot.ports.Storage`.

    Args:
        engine: from `storage.engine.create_engine`, schema migrated (`storage.engine.run_migrations`).
        clock: source of "now" for bookkeeping columns (created/updated/claimed at).
    """

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        db = Database.shared(engine, clock)
        # Annotated with the port types: `Storage` declares plain (hence invariant) attributes.
        self.channels: ChannelRepository = SqlChannelRepository(db)
        self.nudges: NudgeRepository = SqlNudgeRepository(db)
        self.breaks: BreakRepository = SqlBreakRepository(db)
        self.boards: BoardRepository = SqlBoardRepository(db)


if TYPE_CHECKING:

    def _satisfies_storage_port(storage: SqlStorage) -> Storage:
        # mypy proves here that SqlStorage structurally implements bot.ports.Storage.
        return storage
