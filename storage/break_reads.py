"""Reads of the `breaks` aggregate on SQL: counts per person, one person's counts, break
times for streaks and the people who moved on a nudge (`BreakReads`, a base of
`SqlBreakRepository`).

The hot reads are statements built once (bound parameters, open period ends as far-off
instants) and sent through the driver: no per-call statement construction or cache-key work.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, select

from bot.ports import ChannelKey
from storage.db import Database, bound_channel_pk, require_aware
from storage.models import BreakRow, ChannelRow, NudgeRow, UTCDateTime

# Leaderboards ask for the same GROUP BY with new values many times: build the statement once
# (bound parameters, open period ends as far-off instants) so each call skips SQLAlchemy's
# statement construction and cache-key work, which cost more than the query itself.
_NEVER_BEFORE = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER_AFTER = datetime(9999, 1, 1, tzinfo=UTC)
_COUNTS_BY_PERSON = (
    select(BreakRow.person_id, func.count())
    .where(
        BreakRow.channel_pk == bound_channel_pk(),
        BreakRow.logged_at >= bindparam("since", type_=UTCDateTime()),
        BreakRow.logged_at < bindparam("until", type_=UTCDateTime()),
    )
    .group_by(BreakRow.person_id)
)

# Built once: `/stretch stats`'s three figures (breaks since two instants and in all, bounded
# like `counts`) for one person in one statement, on ix_breaks_person_logged.
_PERSON_COUNTS = select(
    func.coalesce(
        func.sum(case((BreakRow.logged_at >= bindparam("first", type_=UTCDateTime()), 1), else_=0)),
        0,
    ),
    func.coalesce(
        func.sum(
            case((BreakRow.logged_at >= bindparam("second", type_=UTCDateTime()), 1), else_=0)
        ),
        0,
    ),
    func.count(),
).where(
    BreakRow.channel_pk == bound_channel_pk(),
    BreakRow.person_id == bindparam("person_id"),
    BreakRow.logged_at >= bindparam("since", type_=UTCDateTime()),
    BreakRow.logged_at < bindparam("until", type_=UTCDateTime()),
)

# Built once (bound parameters): every `/stretch stats`, team board and Home tab reads it.
_BREAK_TIMES = (
    select(BreakRow.person_id, BreakRow.logged_at)
    .where(
        BreakRow.channel_pk == bound_channel_pk(),
        BreakRow.logged_at >= bindparam("since", type_=UTCDateTime()),
    )
    .order_by(BreakRow.logged_at, BreakRow.id)
)
_BREAK_TIMES_OF = _BREAK_TIMES.where(
    BreakRow.person_id.in_(bindparam("person_ids", expanding=True))
)


class BreakReads:
    """The read half of the breaks repository (needs `_db`)."""

    _db: Database

    async def counts(
        self, *, channel: ChannelKey, since: datetime | None, until: datetime | None = None
    ) -> dict[str, int]:
        """Breaks per person in the channel with `since <= logged_at < until` (None: unbounded)."""
        require_aware(since=since, until=until)
        params = {
            "platform": channel.platform,
            "team_id": channel.team_id,
            "channel_id": channel.channel_id,
            "since": since or _NEVER_BEFORE,
            "until": until or _NEVER_AFTER,
        }
        rows = await self._db.all(_COUNTS_BY_PERSON, params, driver=True)
        return {person: int(count) for person, count in rows}

    async def person_counts(
        self, *, channel: ChannelKey, person_id: str, since: tuple[datetime, datetime]
    ) -> tuple[int, int, int]:
        """The person's breaks in the channel since each of the two instants, and in all: what
        `counts` gives them for those `since` values (and None), in one statement."""
        require_aware(first=since[0], second=since[1])
        params = {
            "platform": channel.platform,
            "team_id": channel.team_id,
            "channel_id": channel.channel_id,
            "person_id": person_id,
            "first": since[0],
            "second": since[1],
            "since": _NEVER_BEFORE,
            "until": _NEVER_AFTER,
        }
        rows = await self._db.all(_PERSON_COUNTS, params, driver=True)
        first, second, total = rows[0]
        return int(first), int(second), int(total)

    async def break_times(
        self, *, channel: ChannelKey, since: datetime, person_ids: list[str] | None = None
    ) -> list[tuple[str, datetime]]:
        """(person, logged_at) for the channel's breaks since `since`, oldest first (streaks).

        `person_ids` narrows the result to those people; an empty list gives nothing.
        """
        require_aware(since=since)
        if person_ids is not None and not person_ids:
            return []
        params: dict[str, Any] = {
            "platform": channel.platform,
            "team_id": channel.team_id,
            "channel_id": channel.channel_id,
            "since": since,
        }
        statement = _BREAK_TIMES
        if person_ids is not None:
            statement, params["person_ids"] = _BREAK_TIMES_OF, list(person_ids)
        return [
            (person, logged_at)
            for person, logged_at in await self._db.all(statement, params, driver=True)
        ]

    async def movers(self, *, nudge_id: int) -> list[str]:
        """People with a break on the nudge, first mover first (its who-moved line)."""
        query = (
            select(BreakRow.person_id)
            .where(BreakRow.nudge_id == nudge_id)
            .order_by(BreakRow.logged_at, BreakRow.id)
        )
        async with self._db.read() as session:
            return list(await session.scalars(query))

    async def nudges_moved_on(
        self, *, platform: str, team_id: str, person_id: str, since: datetime
    ) -> list[tuple[ChannelKey, str]]:
        """(channel, message id) of the workspace's posted nudges the person has a break on,
        logged since `since` (whose who-moved lines name them)."""
        require_aware(since=since)
        query = (
            select(ChannelRow.channel_id, NudgeRow.message_id)
            .select_from(BreakRow)
            .join(NudgeRow, NudgeRow.id == BreakRow.nudge_id)
            .join(ChannelRow, ChannelRow.id == BreakRow.channel_pk)
            .where(
                BreakRow.person_id == person_id,
                BreakRow.logged_at >= since,
                ChannelRow.platform == platform,
                ChannelRow.team_id == team_id,
                NudgeRow.message_id.is_not(None),
            )
            .order_by(BreakRow.logged_at)
        )
        async with self._db.read() as session:
            return [
                (ChannelKey(platform, team_id, channel_id), message_id)
                for channel_id, message_id in await session.execute(query)
                if message_id is not None
            ]
