"""The `cooldowns` aggregate on SQL: `SqlCooldownRepository`, rate limits shared by replicas."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from storage.db import Database
from storage.models import CooldownRow


class SqlCooldownRepository:
    """`bot.workspaces.CooldownRepository` on SQL: one upsert decides, whatever the replicas."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(
        self,
        *,
        platform: str,
        team_id: str,
        action: str,
        subject: str,
        now: datetime,
        period_seconds: float,
    ) -> datetime | None:
        """Start the cooldown unless one is running; None when taken, else when it ends."""
        ends_at = now + timedelta(seconds=period_seconds)
        key = {"platform": platform, "team_id": team_id, "action": action, "subject": subject}
        statement = (
            self._db.insert(CooldownRow)
            .values(**key, ends_at=ends_at)
            .on_conflict_do_update(
                index_elements=list(key),
                set_={"ends_at": ends_at},
                where=CooldownRow.ends_at <= now,
            )
            .returning(CooldownRow.ends_at)
        )
        async with self._db.write() as session:
            taken = (await session.execute(statement)).scalar_one_or_none()
            if taken is not None:
                await session.commit()
                return None
            running: datetime | None = await session.scalar(
                select(CooldownRow.ends_at).where(
                    *(getattr(CooldownRow, name) == value for name, value in key.items())
                )
            )
        return running or ends_at

    async def release(self, *, platform: str, team_id: str, action: str, subject: str) -> None:
        """End a cooldown early (the action it guarded did not happen)."""
        async with self._db.write() as session:
            await session.execute(
                delete(CooldownRow).where(
                    CooldownRow.platform == platform,
                    CooldownRow.team_id == team_id,
                    CooldownRow.action == action,
                    CooldownRow.subject == subject,
                )
            )
            await session.commit()
