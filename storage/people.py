"""The `people` aggregate on SQL: `SqlPeopleRepository` (opt-outs, and forgetting a person).

Scoped by workspace like every workspace-level statement: a person is (platform, team_id,
person_id), so the same user id in another workspace is someone else.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select, update

from storage.db import Database, channels_of, count_rows, nudges_of
from storage.models import (
    BreakMarkRow,
    BreakRow,
    ChannelRow,
    GroupBreakJoinerRow,
    GroupBreakRow,
    PersonRow,
)


class SqlPeopleRepository:
    """`bot.workspaces.PeopleRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def opted_out(
        self, *, platform: str, team_id: str, person_ids: Collection[str]
    ) -> frozenset[str]:
        """Those of `person_ids` who opted out in this workspace."""
        if not person_ids:
            return frozenset()
        query = select(PersonRow.person_id).where(
            PersonRow.platform == platform,
            PersonRow.team_id == team_id,
            PersonRow.opted_out,
            PersonRow.person_id.in_(list(person_ids)),
        )
        async with self._db.read() as session:
            return frozenset(await session.scalars(query))

    async def set_opted_out(
        self, *, platform: str, team_id: str, person_id: str, opted_out: bool
    ) -> bool:
        """Record the person's choice; True when it changed."""
        now = self._db.clock()
        key = (
            (PersonRow.platform == platform)
            & (PersonRow.team_id == team_id)
            & (PersonRow.person_id == person_id)
        )
        async with self._db.write() as session:
            before = await session.scalar(select(PersonRow.opted_out).where(key))
            if before is None:
                await session.execute(
                    self._db.insert(PersonRow).values(
                        platform=platform,
                        team_id=team_id,
                        person_id=person_id,
                        opted_out=opted_out,
                        updated_at=now,
                    )
                )
            elif before != opted_out:
                await session.execute(
                    update(PersonRow).where(key).values(opted_out=opted_out, updated_at=now)
                )
            await session.commit()
        return bool(before) != opted_out

    async def forget(self, *, platform: str, team_id: str, person_id: str) -> int:
        """Delete the person's breaks and marks in this workspace, their personal reminders and
        their name on channel settings; returns the number of breaks deleted. Their opt-out
        choice stays."""
        channels = channels_of(platform, team_id)
        theirs = (BreakRow.person_id == person_id) & BreakRow.channel_pk.in_(channels)
        async with self._db.write() as session:
            deleted = await count_rows(session, select(BreakRow.id).where(theirs))
            await session.execute(
                delete(BreakMarkRow).where(
                    BreakMarkRow.person_id == person_id,
                    BreakMarkRow.nudge_id.in_(nudges_of(platform, team_id)),
                )
            )
            await session.execute(delete(BreakRow).where(theirs))
            # Group breaks: off every roll call; a card they started or finished keeps no name.
            groups = select(GroupBreakRow.id).where(GroupBreakRow.channel_pk.in_(channels))
            await session.execute(
                delete(GroupBreakJoinerRow).where(
                    GroupBreakJoinerRow.person_id == person_id,
                    GroupBreakJoinerRow.group_break_id.in_(groups),
                )
            )
            for column in (GroupBreakRow.started_by, GroupBreakRow.done_by):
                await session.execute(
                    update(GroupBreakRow)
                    .where(GroupBreakRow.channel_pk.in_(channels), column == person_id)
                    .values({column.key: ""})
                )
            # Their personal reminders go entirely (the DM's nudges with them, by cascade).
            await session.execute(
                delete(ChannelRow).where(
                    ChannelRow.platform == platform,
                    ChannelRow.team_id == team_id,
                    ChannelRow.personal_for == person_id,
                )
            )
            await session.execute(
                update(ChannelRow)
                .where(
                    ChannelRow.platform == platform,
                    ChannelRow.team_id == team_id,
                    ChannelRow.updated_by == person_id,
                )
                .values(updated_by=None)
            )
            await session.execute(
                update(PersonRow)
                .where(
                    PersonRow.platform == platform,
                    PersonRow.team_id == team_id,
                    PersonRow.person_id == person_id,
                )
                .values(display_name=None, updated_at=self._db.clock())
            )
            await session.commit()
        return deleted
