"""The `breaks` aggregate on SQL: `SqlBreakRepository` (marks and the breaks they make, counts).

Every method is one short transaction and takes and returns `bot.ports` records, never ORM
objects. Races between replicas (or between two deliveries of one Slack event) are settled by
the database: unique constraints with ON CONFLICT DO NOTHING and row locks on the nudge, so no
method needs a retry loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports import BreakChange, MarkChange, MarkOutcome
from storage.break_reads import BreakReads
from storage.db import Database, require_aware
from storage.models import (
    BigIntId,
    BreakMarkRow,
    BreakRow,
    ChannelRow,
    NudgeRow,
    PersonRow,
)

# Marks found by their message (SqlBreakRepository.apply_marks): a handful of statements per
# batch of any size, built once per dialect. Each batch's keys go in as one JSON array of
# arrays, read as a table (`json_each` on SQLite, `json_array_elements` on Postgres) and joined
# to the table's index: the statement text never changes (asyncpg prepares it once, SQLAlchemy
# compiles it once) and both engines look each key up in the index (for a row-value IN list of
# bound values SQLite scans the whole table instead).


def _json(rows: Iterable[Sequence[Any]]) -> str:
    """Rows (tuples) as the JSON array of arrays a `_json_table` reads."""
    return json.dumps([list(row) for row in rows], separators=(",", ":"))


def _json_table(dialect: str, name: str) -> Any:
    """The JSON array of arrays bound as `name`, as a table of its elements (`value`)."""
    array = bindparam(name, type_=String)
    alias = f"given_{name}"  # never a table's name
    if dialect == "postgresql":
        return func.json_array_elements(cast(array, JSON)).table_valued("value").alias(alias)
    return func.json_each(array).table_valued("value").alias(alias)


def _json_item(dialect: str, table: Any, index: int, type_: Any = None) -> ColumnElement[Any]:
    """Element `index` of each array of a `_json_table` (text unless `type_` is given)."""
    if dialect == "postgresql":
        item: ColumnElement[Any] = table.c.value.op("->>")(literal_column(str(index)))
    else:
        item = func.json_extract(table.c.value, literal_column(f"'$[{index}]'"))
    return cast(item, type_) if type_ is not None else item


@dataclass(frozen=True)
class _MarkStatements:
    lock_nudges: Any  # [[platform, team_id, channel_id, message_id]] -> the nudges, locked
    opted_out: Any  # [[platform, team_id, person_id]] -> those who opted out
    insert_marks: Any  # executemany
    insert_breaks: Any  # executemany, RETURNING the (nudge, person) of the breaks made
    delete_marks: Any  # [[nudge_id, person_id, mark]] -> RETURNING the marks deleted
    delete_unmarked_breaks: Any  # [[nudge_id, person_id]] -> RETURNING the breaks deleted
    breaks_per_nudge: Any  # [[nudge_id]] -> (nudge_id, count)


def _mark_statements(dialect: str) -> _MarkStatements:
    def item(table: Any, index: int, type_: Any = None) -> ColumnElement[Any]:
        return _json_item(dialect, table, index, type_)

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    messages = _json_table(dialect, "messages")
    people = _json_table(dialect, "people")
    marks = _json_table(dialect, "marks")
    breaks = _json_table(dialect, "breaks")
    nudges = _json_table(dialect, "nudges")
    return _MarkStatements(
        # The lock serialises mark changes per nudge, so an add racing a remove of another
        # mark cannot leave a mark without a break (or a break without marks); FOR NO KEY
        # UPDATE lets foreign-key checks elsewhere proceed. Locked in id order, so two batches
        # (two replicas) never wait on each other in a cycle. SQLite renders no FOR UPDATE:
        # BEGIN IMMEDIATE serialised the writers already.
        lock_nudges=select(
            ChannelRow.platform,
            ChannelRow.team_id,
            ChannelRow.channel_id,
            NudgeRow.message_id,
            NudgeRow.id,
            NudgeRow.channel_pk,
        )
        .select_from(messages)
        .join(
            ChannelRow,
            and_(
                ChannelRow.platform == item(messages, 0),
                ChannelRow.team_id == item(messages, 1),
                ChannelRow.channel_id == item(messages, 2),
            ),
        )
        .join(
            NudgeRow,
            and_(NudgeRow.channel_pk == ChannelRow.id, NudgeRow.message_id == item(messages, 3)),
        )
        .order_by(NudgeRow.id)
        .with_for_update(of=NudgeRow, key_share=True),
        opted_out=select(PersonRow.platform, PersonRow.team_id, PersonRow.person_id)
        .select_from(people)
        .join(
            PersonRow,
            and_(
                PersonRow.platform == item(people, 0),
                PersonRow.team_id == item(people, 1),
                PersonRow.person_id == item(people, 2),
            ),
        )
        .where(PersonRow.opted_out),
        insert_marks=insert(BreakMarkRow).on_conflict_do_nothing(
            index_elements=["nudge_id", "person_id", "mark"]
        ),
        insert_breaks=insert(BreakRow)
        .on_conflict_do_nothing(index_elements=["nudge_id", "person_id"])
        .returning(BreakRow.nudge_id, BreakRow.person_id),
        delete_marks=delete(BreakMarkRow)
        .where(
            tuple_(BreakMarkRow.nudge_id, BreakMarkRow.person_id, BreakMarkRow.mark).in_(
                select(item(marks, 0, BigIntId), item(marks, 1), item(marks, 2)).select_from(marks)
            )
        )
        .returning(BreakMarkRow.nudge_id, BreakMarkRow.person_id, BreakMarkRow.mark),
        delete_unmarked_breaks=delete(BreakRow)
        .where(
            tuple_(BreakRow.nudge_id, BreakRow.person_id).in_(
                select(item(breaks, 0, BigIntId), item(breaks, 1)).select_from(breaks)
            ),
            ~exists().where(
                BreakMarkRow.nudge_id == BreakRow.nudge_id,
                BreakMarkRow.person_id == BreakRow.person_id,
            ),
        )
        .returning(BreakRow.nudge_id, BreakRow.person_id),
        breaks_per_nudge=select(BreakRow.nudge_id, func.count())
        .where(BreakRow.nudge_id.in_(select(item(nudges, 0, BigIntId)).select_from(nudges)))
        .group_by(BreakRow.nudge_id),
    )


_MARK_SQL = {dialect: _mark_statements(dialect) for dialect in ("postgresql", "sqlite")}


# ---- the repository ---------------------------------------------------------------------------


class SqlBreakRepository(BreakReads):
    """`bot.ports.BreakRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def apply_marks(
        self, changes: Sequence[MarkChange], *, opt_outs: bool = True
    ) -> list[MarkOutcome]:
        """Apply marks found by their message, in order, in one transaction (see `bot.ports`).

        A handful of statements whatever the number of changes (see `_MARK_SQL`): the nudges
        (locked), the people who opted out (with `opt_outs`), per run of consecutive adds one
        INSERT of marks and one of breaks (per run of removes, one DELETE of marks and one of
        the breaks left without a mark), then the breaks per nudge. Each change gets the
        `changed` and `breaks_on_nudge` it would have got applied alone, in this order.
        """
        if not changes:
            return []
        for change in changes:
            require_aware(at=change.at)
        sql = _MARK_SQL[self._db.dialect]
        messages = {
            (c.channel.platform, c.channel.team_id, c.channel.channel_id, c.message_id)
            for c in changes
        }
        # Per change: the nudge (id, channel pk) its message is; None: nothing to store.
        targets: list[tuple[int, int] | None] = [None] * len(changes)
        opted_out = [False] * len(changes)
        delta = [0] * len(changes)  # +1: made its break, -1: took its break back
        async with self._db.write() as session:
            conn = await session.connection()
            found: dict[tuple[str, str, str, str | None], tuple[int, int]] = {}
            # Ascending ids: the latest nudge posted as the message wins, as in find_by_message.
            for (
                platform,
                team_id,
                channel_id,
                message_id,
                nudge_id,
                channel_pk,
            ) in await conn.execute(sql.lock_nudges, {"messages": _json(messages)}):
                found[(platform, team_id, channel_id, message_id)] = (nudge_id, channel_pk)
            for i, c in enumerate(changes):
                key = (c.channel.platform, c.channel.team_id, c.channel.channel_id, c.message_id)
                targets[i] = found.get(key)
            if opt_outs:
                await self._drop_opted_out(conn, changes, targets, opted_out)
            start = 0
            while start < len(changes):
                end = start
                while end < len(changes) and changes[end].added == changes[start].added:
                    end += 1
                run = [i for i in range(start, end) if targets[i] is not None]
                if run and changes[start].added:
                    await self._add_run(conn, changes, targets, run, delta)
                elif run:
                    await self._remove_run(conn, changes, targets, run, delta)
                start = end
            nudge_ids = {target[0] for target in targets if target is not None}
            counts: dict[int, int] = {}
            if nudge_ids:
                counts = {
                    nudge_id: int(count)
                    for nudge_id, count in await conn.execute(
                        sql.breaks_per_nudge, {"nudges": _json((n,) for n in nudge_ids)}
                    )
                }
            await session.commit()
        # Replay the batch on the counts from before it, so each change sees the count it made.
        running = dict(counts)
        for target, step in zip(targets, delta, strict=True):
            if target is not None:
                running[target[0]] = running.get(target[0], 0) - step
        outcomes: list[MarkOutcome] = []
        for i, target in enumerate(targets):
            if target is None:
                nothing = BreakChange(changed=False, breaks_on_nudge=0)
                outcomes.append(MarkOutcome(nudge_id=None, change=nothing, opted_out=opted_out[i]))
                continue
            running[target[0]] += delta[i]
            made = BreakChange(changed=delta[i] != 0, breaks_on_nudge=running[target[0]])
            outcomes.append(MarkOutcome(nudge_id=target[0], change=made))
        return outcomes

    async def _drop_opted_out(
        self,
        conn: AsyncConnection,
        changes: Sequence[MarkChange],
        targets: list[tuple[int, int] | None],
        opted_out: list[bool],
    ) -> None:
        """Forget the targets of added marks whose person opted out in the workspace."""
        people = {
            (c.channel.platform, c.channel.team_id, c.person_id)
            for c, target in zip(changes, targets, strict=True)
            if c.added and target is not None
        }
        if not people:
            return
        hidden = {
            (platform, team_id, person_id)
            for platform, team_id, person_id in await conn.execute(
                _MARK_SQL[self._db.dialect].opted_out, {"people": _json(people)}
            )
        }
        for i, c in enumerate(changes):
            if c.added and (c.channel.platform, c.channel.team_id, c.person_id) in hidden:
                targets[i] = None
                opted_out[i] = True

    async def _add_run(
        self,
        conn: AsyncConnection,
        changes: Sequence[MarkChange],
        targets: list[tuple[int, int] | None],
        run: list[int],
        delta: list[int],
    ) -> None:
        """Insert the run's marks and the breaks they make; the first add per (nudge, person)
        gets the break it made."""
        sql = _MARK_SQL[self._db.dialect]
        marks: dict[tuple[int, str, str], dict[str, Any]] = {}
        first: dict[tuple[int, str], int] = {}
        for i in run:
            change, target = changes[i], targets[i]
            assert target is not None
            nudge_id = target[0]
            marks.setdefault(
                (nudge_id, change.person_id, change.mark),
                {
                    "nudge_id": nudge_id,
                    "person_id": change.person_id,
                    "mark": change.mark,
                    "created_at": change.at,
                },
            )
            first.setdefault((nudge_id, change.person_id), i)
        await conn.execute(sql.insert_marks, list(marks.values()))
        # Inserted whether or not the mark was new, so a mark never lacks its break.
        breaks = []
        for (nudge_id, person_id), i in first.items():
            target = targets[i]
            assert target is not None
            breaks.append(
                {
                    "nudge_id": nudge_id,
                    "channel_pk": target[1],
                    "person_id": person_id,
                    "logged_at": changes[i].at,
                }
            )
        for nudge_id, person_id in await conn.execute(sql.insert_breaks, breaks):
            delta[first[(nudge_id, person_id)]] = 1

    async def _remove_run(
        self,
        conn: AsyncConnection,
        changes: Sequence[MarkChange],
        targets: list[tuple[int, int] | None],
        run: list[int],
        delta: list[int],
    ) -> None:
        """Delete the run's marks and the breaks left without one; a break taken back goes to
        the last change that removed one of its marks."""
        sql = _MARK_SQL[self._db.dialect]
        wanted: set[tuple[int, str, str]] = set()
        groups: dict[tuple[int, str], int] = {}  # (nudge, person) -> the run's last change
        for i in run:
            target = targets[i]
            assert target is not None
            wanted.add((target[0], changes[i].person_id, changes[i].mark))
            groups[(target[0], changes[i].person_id)] = i
        deleted = {
            (nudge_id, person_id, mark)
            for nudge_id, person_id, mark in await conn.execute(
                sql.delete_marks, {"marks": _json(wanted)}
            )
        }
        gone = {
            (nudge_id, person_id)
            for nudge_id, person_id in await conn.execute(
                sql.delete_unmarked_breaks, {"breaks": _json(groups)}
            )
        }
        if not gone:
            return
        taker = dict(groups)  # a break without marks left (none of ours): the last change
        removed: set[tuple[int, str, str]] = set()
        for i in run:
            target = targets[i]
            assert target is not None
            mark = (target[0], changes[i].person_id, changes[i].mark)
            if mark in deleted and mark not in removed:  # each mark is removed once
                removed.add(mark)
                taker[(target[0], changes[i].person_id)] = i
        for group in gone:
            delta[taker[group]] = -1
