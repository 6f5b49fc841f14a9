"""A person's page on SQL: `SqlHomeRepository`, two statements whatever the number of channels.

`person_channels` reads the workspace's `admins_only`, the person's opt-out and one page of the
scheduled channels among the ids a platform listed (a JSON array bound as one parameter, read
as a table, so the statement text never changes), with their total; `person_breaks` the
person's breaks since the lookback with their channels' schedules, through
`ix_breaks_person_logged`. Both are scoped by (platform, team_id), or by a workspace id prefix
for a Teams tenant, and run outside a transaction (each its own snapshot).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
)
from sqlalchemy import select as sql_select
from sqlalchemy.orm import aliased

from bot.home import ChannelBreaks, PersonRows
from bot.ports import ChannelKey
from storage.channels import spec_from_row, state_from_row
from storage.db import Database, require_aware
from storage.models import BreakRow, ChannelRow, PersonRow, UTCDateTime, WorkspaceRow

_SINCE = bindparam("since", type_=UTCDateTime())
MINE = "mine_"  # the label prefix of the person's reminder columns
_CHANNEL_KEYS = tuple(column.key for column in ChannelRow.__table__.columns)


def like_prefix(prefix: str) -> str:
    """A LIKE pattern for ids starting with `prefix` (its own `%`, `_` and `\\` escaped)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _in_scope(prefixed: bool) -> ColumnElement[bool]:
    """The channel belongs to the workspace, or to a workspace whose id has the prefix."""
    if prefixed:
        return ChannelRow.team_id.like(bindparam("team_prefix", type_=String), escape="\\")
    return ChannelRow.team_id == bindparam("team_id", type_=String)


def _given_ids(dialect: str) -> Any:
    """The JSON array of channel ids bound as `ids`, as a one-column table (`value`)."""
    array = bindparam("ids", type_=String)
    if dialect == "postgresql":
        return func.json_array_elements_text(cast(array, JSON)).table_valued("value").alias("ids")
    return func.json_each(array).table_valued("value").alias("ids")


def _page_statement(dialect: str, *, listed: bool, prefixed: bool) -> Any:
    if listed:
        ids = _given_ids(dialect)
        member: ColumnElement[bool] = ChannelRow.channel_id.in_(sql_select(ids.c.value))
    else:  # no listing: the channels where the person moved since the lookback
        member = ChannelRow.id.in_(
            sql_select(BreakRow.channel_pk).where(
                BreakRow.person_id == bindparam("person_id", type_=String),
                BreakRow.logged_at >= _SINCE,
            )
        )
    # One row even for an unknown workspace and a person without channels: every table hangs
    # off a constant row by an outer join.
    one = sql_select(literal_column("1").label("one")).subquery("one")
    # The person's own reminders (their DM's schedule, ix_channels_personal) ride along in the
    # same statement, under `mine_` names: the Home tab stays at two statements per open.
    mine = aliased(ChannelRow, name="mine")
    newest_mine = (
        sql_select(func.max(ChannelRow.id))
        .where(
            ChannelRow.platform == bindparam("platform", type_=String),
            ChannelRow.team_id == bindparam("team_id", type_=String),
            ChannelRow.personal_for == bindparam("person_id", type_=String),
        )
        .scalar_subquery()
    )
    return (
        sql_select(
            WorkspaceRow.id.label("ws_id"),
            WorkspaceRow.admins_only.label("ws_admins_only"),
            PersonRow.opted_out.label("p_opted_out"),
            *ChannelRow.__table__.columns,
            func.count(ChannelRow.id).over().label("total_channels"),
            *(getattr(mine, key).label(MINE + key) for key in _CHANNEL_KEYS),
        )
        .select_from(one)
        .outerjoin(mine, mine.id == newest_mine)
        .outerjoin(
            WorkspaceRow,
            and_(
                WorkspaceRow.platform == bindparam("platform", type_=String),
                WorkspaceRow.team_id == bindparam("team_id", type_=String),
            ),
        )
        .outerjoin(
            PersonRow,
            and_(
                PersonRow.platform == bindparam("platform", type_=String),
                PersonRow.team_id == bindparam("team_id", type_=String),
                PersonRow.person_id == bindparam("person_id", type_=String),
            ),
        )
        .outerjoin(
            ChannelRow,
            and_(
                ChannelRow.platform == bindparam("platform", type_=String),
                _in_scope(prefixed),
                ChannelRow.interval_minutes.is_not(None),
                ChannelRow.personal_for.is_(None),  # personal reminders are no team channel
                member,
            ),
        )
        # Running schedules first, soonest next slot first (NULLs last on both engines).
        .order_by(
            case((ChannelRow.enabled, 0), else_=1),
            ChannelRow.next_slot_at.is_(None),
            ChannelRow.next_slot_at,
            ChannelRow.team_id,
            ChannelRow.channel_id,
        )
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _breaks_statement(*, prefixed: bool) -> Any:
    return (
        sql_select(
            ChannelRow.team_id,
            ChannelRow.channel_id,
            ChannelRow.interval_minutes,
            ChannelRow.tz,
            ChannelRow.window_start,
            ChannelRow.window_end,
            ChannelRow.weekdays,
            ChannelRow.holidays,
            ChannelRow.streak_freezes,
            ChannelRow.personal_for,
            BreakRow.logged_at,
        )
        .select_from(BreakRow)
        .join(ChannelRow, ChannelRow.id == BreakRow.channel_pk)
        .where(
            BreakRow.person_id == bindparam("person_id", type_=String),
            BreakRow.logged_at >= _SINCE,
            ChannelRow.platform == bindparam("platform", type_=String),
            _in_scope(prefixed),
        )
    )


# Built once per shape: SQLAlchemy compiles each once, asyncpg prepares each once.
_PAGES = {
    (dialect, listed, prefixed): _page_statement(dialect, listed=listed, prefixed=prefixed)
    for dialect in ("postgresql", "sqlite")
    for listed in (True, False)
    for prefixed in (True, False)
}
_BREAKS = {prefixed: _breaks_statement(prefixed=prefixed) for prefixed in (True, False)}


class SqlHomeRepository:
    """`bot.home.HomeRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # Each read is one statement: no transaction around it saves the BEGIN and ROLLBACK
        # round trips on Postgres.
        self._engine = (
            db.engine.execution_options(isolation_level="AUTOCOMMIT")
            if db.dialect == "postgresql"
            else db.engine
        )

    async def person_channels(
        self,
        *,
        platform: str,
        team_id: str,
        person_id: str,
        channel_ids: Sequence[str] | None,
        since: datetime,
        limit: int,
        offset: int,
        team_prefix: str | None = None,
    ) -> PersonRows:
        require_aware(since=since)
        params = _params(platform, team_id, person_id, since, team_prefix)
        params.update(limit=max(1, limit), offset=max(0, offset))
        listed = channel_ids is not None
        if listed:
            params["ids"] = json.dumps(list(channel_ids or ()), separators=(",", ":"))
        page = _PAGES[(self._db.dialect, listed, team_prefix is not None)]
        async with self._engine.connect() as conn:
            rows = (await conn.execute(page, params)).all()
            if not rows and params["offset"]:  # a page past the end: the first one instead
                params["offset"] = 0
                rows = (await conn.execute(page, params)).all()
        if not rows:
            return PersonRows()
        first = rows[0]
        mine = None
        if first.mine_id is not None:  # the same columns under `mine_` names
            columns = {key: getattr(first, MINE + key) for key in _CHANNEL_KEYS}
            mine = state_from_row(typing.cast(Any, SimpleNamespace(**columns)))
        return PersonRows(
            reminders=mine,
            workspace_known=first.ws_id is not None,
            admins_only=bool(first.ws_admins_only),
            opted_out=bool(first.p_opted_out),
            channels=tuple(state_from_row(row) for row in rows if row.id is not None),
            total_channels=int(first.total_channels or 0),
            offset=params["offset"],
        )

    async def person_breaks(
        self,
        *,
        platform: str,
        team_id: str,
        person_id: str,
        since: datetime,
        team_prefix: str | None = None,
    ) -> tuple[ChannelBreaks, ...]:
        require_aware(since=since)
        params = _params(platform, team_id, person_id, since, team_prefix)
        grouped: dict[tuple[str, str], list[datetime]] = {}
        specs: dict[tuple[str, str], Any] = {}
        freezes: dict[tuple[str, str], int] = {}
        personal: set[tuple[str, str]] = set()
        async with self._engine.connect() as conn:
            for row in await conn.execute(_BREAKS[team_prefix is not None], params):
                where = (row.team_id, row.channel_id)
                times = grouped.get(where)
                if times is None:
                    times = grouped[where] = []
                    specs[where] = spec_from_row(row)
                    freezes[where] = row.streak_freezes
                    if row.personal_for is not None:
                        personal.add(where)
                times.append(row.logged_at)
        return tuple(
            ChannelBreaks(
                key=ChannelKey(platform, team, channel),
                spec=specs[(team, channel)],
                times=tuple(times),
                freezes_per_week=freezes[(team, channel)],
                personal=(team, channel) in personal,
            )
            for (team, channel), times in grouped.items()
        )


def _params(
    platform: str, team_id: str, person_id: str, since: datetime, team_prefix: str | None
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "platform": platform,
        "team_id": team_id,
        "person_id": person_id,
        "since": since,
    }
    if team_prefix is not None:
        params["team_prefix"] = like_prefix(team_prefix)
    return params
