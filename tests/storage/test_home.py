"""The storage contract for `SqlHomeRepository`: a person's page in two statements.

Each test runs once per backend (SQLite always, Postgres with TEST_POSTGRES_URL).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.home import ChannelBreaks, PersonRows
from bot.ports import ChannelKey, ChannelState
from storage.home import like_prefix
from storage.sql import SqlStorage, SqlTenancy
from tests.storage.contract import SLOT, SPEC, T0, add, posted_nudge, schedule

SINCE = T0 - timedelta(days=400)


def key(channel: str, team: str = "T1", platform: str = "slack") -> ChannelKey:
    return ChannelKey(platform, team, channel)


@dataclass(frozen=True)
class Read:
    rows: PersonRows
    breaks: tuple[ChannelBreaks, ...]

    def __getattr__(self, name: str) -> object:
        return getattr(self.rows, name)


async def read(
    engine: AsyncEngine,
    ids: list[str] | None,
    *,
    person: str = "U1",
    team: str = "T1",
    limit: int = 20,
    offset: int = 0,
    prefix: str | None = None,
    platform: str = "slack",
) -> Read:
    """Both reads of a person's page."""
    home = SqlTenancy(engine).home
    rows = await home.person_channels(
        platform=platform,
        team_id=team,
        person_id=person,
        channel_ids=ids,
        since=SINCE,
        limit=limit,
        offset=offset,
        team_prefix=prefix,
    )
    breaks = await home.person_breaks(
        platform=platform, team_id=team, person_id=person, since=SINCE, team_prefix=prefix
    )
    return Read(rows, breaks)


async def test_only_listed_channels_with_a_schedule_soonest_first(
    storage: SqlStorage, db_engine: AsyncEngine
) -> None:
    for n in range(5):
        await schedule(storage, key(f"C{n}"), next_slot_at=T0 + SLOT * (5 - n))
    await storage.channels.save(ChannelState(key=key("C9")))  # stored, no schedule
    await schedule(storage, key("C0", team="T2"))  # same id, another workspace
    rows = await read(db_engine, ["C0", "C1", "C3", "C9", "CX"])
    assert [state.key.channel_id for state in rows.channels] == ["C3", "C1", "C0"]
    assert rows.total_channels == 3
    assert all(state.key.team_id == "T1" and state.spec == SPEC for state in rows.channels)


async def test_pages_and_a_page_past_the_end(storage: SqlStorage, db_engine: AsyncEngine) -> None:
    ids = [f"C{n:02d}" for n in range(7)]
    for n, channel in enumerate(ids):
        await schedule(storage, key(channel), next_slot_at=T0 + SLOT * n)
    first = await read(db_engine, ids, limit=3)
    second = await read(db_engine, ids, limit=3, offset=3)
    last = await read(db_engine, ids, limit=3, offset=6)
    assert [s.key.channel_id for s in first.channels] == ids[:3]
    assert [s.key.channel_id for s in second.channels] == ids[3:6]
    assert [s.key.channel_id for s in last.channels] == ids[6:]
    assert first.total_channels == second.total_channels == 7 and second.offset == 3
    beyond = await read(db_engine, ids, limit=3, offset=30)
    assert beyond.offset == 0 and [s.key.channel_id for s in beyond.channels] == ids[:3]


async def test_channels_turned_off_come_after_running_ones(
    storage: SqlStorage, db_engine: AsyncEngine
) -> None:
    off = await schedule(storage, key("C1"), next_slot_at=T0)
    await storage.channels.save(replace(off, enabled=False, next_slot_at=None))
    await schedule(storage, key("C2"), next_slot_at=T0 + SLOT * 9)
    rows = await read(db_engine, ["C1", "C2"])
    assert [(s.key.channel_id, s.enabled) for s in rows.channels] == [("C2", True), ("C1", False)]


async def test_workspace_person_and_breaks(storage: SqlStorage, db_engine: AsyncEngine) -> None:
    tenancy = SqlTenancy(db_engine)
    await tenancy.workspaces.ensure(platform="slack", team_id="T1")
    await tenancy.workspaces.set_admins_only(platform="slack", team_id="T1", enabled=True)
    await tenancy.people.set_opted_out(
        platform="slack", team_id="T1", person_id="U1", opted_out=True
    )
    await schedule(storage, key("C1"))
    await storage.channels.save(ChannelState(key=key("C2")))  # breaks, no schedule
    await posted_nudge(storage, key("C1"), message_id="m1")
    await posted_nudge(storage, key("C2"), message_id="m2")
    await posted_nudge(storage, key("C1", team="T2"), message_id="m3")
    await storage.breaks.apply_marks(
        [
            add("m1", "U1", key=key("C1"), at=T0),
            add("m2", "U1", key=key("C2"), at=T0 + SLOT),
            add("m3", "U1", key=key("C1", team="T2"), at=T0),  # another workspace
            add("m1", "U2", key=key("C1"), at=T0),  # someone else
        ],
        opt_outs=False,
    )
    rows = await read(db_engine, ["C1", "C2"])
    assert rows.workspace_known and rows.admins_only and rows.opted_out
    assert [s.key for s in rows.channels] == [key("C1")]
    moved = {b.key: b for b in rows.breaks}
    assert set(moved) == {key("C1"), key("C2")}
    assert moved[key("C1")].times == (T0,) and moved[key("C1")].spec == SPEC
    assert moved[key("C2")].times == (T0 + SLOT,) and moved[key("C2")].spec is None
    # Someone unknown in a workspace the bot never saw: one empty answer.
    assert await read(db_engine, ["C1"], team="T404", person="U9") == Read(PersonRows(), ())


async def test_without_a_listing_the_channels_where_the_person_moved(
    storage: SqlStorage, db_engine: AsyncEngine
) -> None:
    for channel in ("C1", "C2", "C3"):
        await schedule(storage, key(channel))
    await posted_nudge(storage, key("C2"), message_id="m2")
    await storage.breaks.apply_marks([add("m2", "U1", key=key("C2"))])
    rows = await read(db_engine, None)
    assert [s.key.channel_id for s in rows.channels] == ["C2"]
    assert rows.total_channels == 1


async def test_a_tenant_prefix_spans_its_workspaces_only(
    storage: SqlStorage, db_engine: AsyncEngine
) -> None:
    teams = [
        key("19:a", team="ten_1:team-a", platform="teams"),
        key("19:b", team="ten_1:team-b", platform="teams"),
    ]
    stranger = key("19:c", team="tenX1:team-c", platform="teams")  # `_` must not match any char
    for where in (*teams, stranger):
        await schedule(storage, where)
        await posted_nudge(storage, where, message_id=f"m-{where.channel_id}")
        await storage.breaks.apply_marks([add(f"m-{where.channel_id}", "aad-1", key=where)])
    rows = await read(
        db_engine, None, person="aad-1", team="ten_1:a:1personal", prefix="ten_1:", platform="teams"
    )
    assert sorted(s.key.channel_id for s in rows.channels) == ["19:a", "19:b"]
    assert sorted(b.key.channel_id for b in rows.breaks) == ["19:a", "19:b"]
    assert like_prefix("a%b_c\\") == "a\\%b\\_c\\\\%"


async def test_five_hundred_channels_take_two_statements(
    storage: SqlStorage, db_engine: AsyncEngine
) -> None:
    ids = [f"C{n:04d}" for n in range(500)]
    for n, channel in enumerate(ids):
        await schedule(storage, key(channel), next_slot_at=T0 + timedelta(minutes=n))
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):  # SQLite's own BEGIN
            statements.append(statement)

    event.listen(db_engine.sync_engine, "before_cursor_execute", count)
    try:
        rows = await read(db_engine, ids)
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements
    assert rows.total_channels == 500 and len(rows.channels) == 20
    assert rows.channels[0].key.channel_id == "C0000"
