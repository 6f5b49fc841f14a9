"""Slot outcomes on SQL (`SqlSlotOutcomeRepository`): which of a channel's scheduled nudges got
at least one break, for slot insights."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, exists, select

from bot.ports import ChannelKey, NudgeStatus
from storage.db import Database, bound_channel_pk, require_aware
from storage.models import BreakRow, NudgeRow, UTCDateTime

# Built once (bound parameters): the weekly board and every `/stretch status` ask it. The range
# on slot_at reads uq_nudges_channel_slot; each EXISTS one entry of uq_breaks_nudge_person.
_OUTCOMES = (
    select(
        NudgeRow.slot_at,
        exists().where(BreakRow.nudge_id == NudgeRow.id).label("answered"),
    )
    .where(
        NudgeRow.channel_pk == bound_channel_pk(),
        NudgeRow.slot_at >= bindparam("since", type_=UTCDateTime()),
        NudgeRow.slot_at < bindparam("until", type_=UTCDateTime()),
        NudgeRow.status == NudgeStatus.POSTED.value,
    )
    .order_by(NudgeRow.slot_at)
)


class SqlSlotOutcomeRepository:
    """`bot.team_ports.SlotOutcomeRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def slot_outcomes(
        self, *, channel: ChannelKey, since: datetime, until: datetime
    ) -> list[tuple[datetime, bool]]:
        """(slot_at, answered) of the channel's posted scheduled nudges in [since, until)."""
        require_aware(since=since, until=until)
        params = {
            "platform": channel.platform,
            "team_id": channel.team_id,
            "channel_id": channel.channel_id,
            "since": since,
            "until": until,
        }
        rows = await self._db.all(_OUTCOMES, params, driver=True)
        return [(slot_at, bool(answered)) for slot_at, answered in rows if slot_at is not None]
