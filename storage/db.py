"""Statement execution for the repositories: the shared `Database` over one engine and its helpers.

Every repository runs its SQL through a `Database`: sessions for reads and write transactions
(writers to one SQLite file queue in-process), a fast path for single-row lookups, and the
dialect's INSERT ... ON CONFLICT. One `Database` serves every repository on an engine with the
same clock (`Database.shared`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Executable,
    Select,
    bindparam,
    event,
    func,
    select,
)
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn

from bot.ports import ChannelKey
from storage.engine import SQLITE_BEGIN
from storage.models import ChannelRow, NudgeRow, UTCDateTime
from storage.pg_direct import driver_param, driver_statement
from storage.sqlite_direct import direct_statement

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock of every repository."""
    return datetime.now(UTC)


def require_aware(**values: datetime | None) -> None:
    """Raise ValueError for naive datetimes before they reach SQL (where the error would arrive
    wrapped in a StatementError)."""
    for name, value in values.items():
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def is_channel(key: ChannelKey) -> ColumnElement[bool]:
    """The `channels` row of `key`, as a WHERE condition."""
    return (
        (ChannelRow.platform == key.platform)
        & (ChannelRow.team_id == key.team_id)
        & (ChannelRow.channel_id == key.channel_id)
    )


def channel_pk(key: ChannelKey) -> Select[int]:
    """The primary key of the `channels` row of `key` (use `.scalar_subquery()` inside SQL)."""
    return select(ChannelRow.id).where(is_channel(key))


def bound_channel_pk() -> Any:
    """The primary key of the `channels` row named by the bound parameters `platform`,
    `team_id` and `channel_id`: for statements built once and run with new values."""
    return (
        select(ChannelRow.id)
        .where(
            ChannelRow.platform == bindparam("platform"),
            ChannelRow.team_id == bindparam("team_id"),
            ChannelRow.channel_id == bindparam("channel_id"),
        )
        .scalar_subquery()
    )


def channels_of(platform: str, team_id: str) -> Select[int]:
    """The primary keys of a workspace's channels (a subquery for its nudges and breaks)."""
    return select(ChannelRow.id).where(
        ChannelRow.platform == platform, ChannelRow.team_id == team_id
    )


def nudges_of(platform: str, team_id: str) -> Select[int]:
    """The ids of a workspace's nudges (a subquery)."""
    return select(NudgeRow.id).where(NudgeRow.channel_pk.in_(channels_of(platform, team_id)))


async def count_rows(session: AsyncSession, query: Select[Any]) -> int:
    """How many rows `query` gives."""
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


# ---- SQLite's inline reader -------------------------------------------------------------------


class InlineReader:
    """Runs one short read-only statement inline on the event loop's thread, on SQLite.

    A SQLite lookup by index takes microseconds, while running it through aiosqlite costs
    several hops to its thread and back plus SQLAlchemy's async layer (0.3-0.8 ms of CPU here).
    This reads through a synchronous engine on the same file instead, keeping one connection
    between calls (no awaits happen in a call, so calls on one loop never overlap). Each
    statement runs on its own, outside any transaction: in WAL mode that is a consistent
    snapshot of the last commit, and readers never wait for writers. The busy timeout is 0, so
    a read can never stall the loop on a lock: `OperationalError` ("database is locked", rare
    for a WAL reader) means "take the async way". Only for reads of a few rows: a long query
    would hold up every other task meanwhile.
    """

    def __init__(self, url: URL) -> None:
        self._engine = create_sync_engine(
            url.set(drivername="sqlite+pysqlite"),
            connect_args={"timeout": 0, "check_same_thread": False},
        )
        self._idle: Connection | None = None

    def first(self, statement: Executable, params: Mapping[str, Any]) -> Any:
        """The first row of `statement` (None when it has none)."""
        conn, self._idle = self._idle, None
        if conn is None:
            conn = self._engine.connect()
        try:
            direct = direct_statement(statement, self._engine.dialect)
            if direct is not None:  # straight on sqlite3 (see storage.sqlite_direct)
                row = direct.first(self._driver(conn), params)
            else:
                row = conn.execute(statement, params).first()
                conn.rollback()  # ends SQLAlchemy's transaction; SQLite had none open
        except BaseException:
            conn.close()
            raise
        self._idle = conn
        return row

    def all(self, statement: Executable, params: Mapping[str, Any]) -> list[Any]:
        """Every row of `statement` (a read of one channel's rows: an index range)."""
        conn, self._idle = self._idle, None
        if conn is None:
            conn = self._engine.connect()
        try:
            direct = direct_statement(statement, self._engine.dialect)
            if direct is not None:
                rows = direct.all(self._driver(conn), params)
            else:
                rows = list(conn.execute(statement, params))
                conn.rollback()
        except BaseException:
            conn.close()
            raise
        self._idle = conn
        return rows

    @staticmethod
    def _driver(conn: Connection) -> sqlite3.Connection:
        """The connection's `sqlite3` connection. A SELECT run on it opens no transaction
        (the module begins one only before a write), so each read sees the last commit."""
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver

    def dispose(self) -> None:
        """Close the connections (a later call opens a new one)."""
        idle, self._idle = self._idle, None
        if idle is not None:
            idle.close()
        self._engine.dispose()


# The inline readers of SQLite engines, by the engine they read for.
_INLINE_READERS: weakref.WeakKeyDictionary[Engine, InlineReader] = weakref.WeakKeyDictionary()


def inline_reader(engine: AsyncEngine) -> InlineReader | None:
    """The `InlineReader` of a SQLite engine (one per engine, disposed with it); None for
    other databases."""
    if engine.dialect.name != "sqlite":
        return None
    reader = _INLINE_READERS.get(engine.sync_engine)
    if reader is None:
        reader = _INLINE_READERS[engine.sync_engine] = InlineReader(engine.url)
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: reader.dispose())
    return reader


# ---- the Database -----------------------------------------------------------------------------

_WRITE_TURNS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def sqlite_write_turn(engine: AsyncEngine) -> asyncio.Lock:
    """The in-process queue of writers to one SQLite engine's file (see `Database.write`)."""
    return _WRITE_TURNS.setdefault(engine.sync_engine, asyncio.Lock())


# The live Databases by engine and clock (see `Database.shared`). Weak both ways: a Database
# holds its engine, so a strong value here would keep every engine alive.
_SHARED: weakref.WeakKeyDictionary[AsyncEngine, weakref.WeakValueDictionary[Clock, Database]] = (
    weakref.WeakKeyDictionary()
)


class Database:
    """Sessions and dialect helpers shared by the repositories on one engine.

    Args:
        engine: from `storage.engine.create_engine`, schema migrated.
        clock: source of "now" for bookkeeping columns (created/updated/claimed at).
    """

    def __init__(self, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self.dialect = engine.dialect.name
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database dialect {self.dialect!r}")
        self.clock = clock
        self.engine = engine
        # One statement needs no transaction around it: on Postgres reads run in autocommit,
        # which saves the BEGIN and ROLLBACK round trips (two of the three a one-statement read
        # cost). Under READ COMMITTED, Postgres's level here, every statement of a transaction
        # takes its own snapshot anyway, so a read session of several statements sees nothing
        # different. SQLite's async path keeps its own BEGIN (see storage.engine).
        self._single = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.dialect == "postgresql"
            else engine
        )
        self._reads = async_sessionmaker(self._single, expire_on_commit=False)
        # On SQLite, writers take the write lock at BEGIN (see storage.engine.SQLITE_BEGIN);
        # Postgres ignores the option.
        self._writes = async_sessionmaker(
            engine, expire_on_commit=False, execution_options={SQLITE_BEGIN: "IMMEDIATE"}
        )
        # SQLite has one writer at a time and a bot process is alone on its file (bot.app locks
        # it), so queue writers here instead of on the file lock: pooled connections waiting on
        # BEGIN IMMEDIATE gave up after busy_timeout under a big fan-out ("database is locked"),
        # which could leave a posted nudge without its message id.
        # The lock belongs to the engine, so every `Database` on it (storage, tenancy, Teams
        # conversations, whatever their clocks) queues in the same line.
        self._write_turn = sqlite_write_turn(engine) if self.dialect == "sqlite" else None
        self._inline = inline_reader(engine)
        # `UTCDateTime` as the driver takes it, for statements run on the driver itself.
        stored = UTCDateTime().dialect_impl(engine.dialect)
        processor = stored.bind_processor(engine.dialect)
        self._datetime_processor: Callable[[Any], Any] = processor or (lambda value: value)
        # False: `all` reads go through SQLAlchemy's async engine too, where statement events
        # see them (for tests that look at the SQL or its plan).
        self.direct_reads = True

    @classmethod
    def shared(cls, engine: AsyncEngine, clock: Clock = utc_now) -> Database:
        """The `Database` every repository bundle on `engine` with this `clock` uses, made on
        first use (the process's storage, tenancy and Teams conversations share one)."""
        by_clock = _SHARED.setdefault(engine, weakref.WeakValueDictionary())
        db = by_clock.get(clock)
        if db is None:
            db = by_clock[clock] = cls(engine, clock)
        return db

    async def first(self, statement: Executable, params: dict[str, Any]) -> Any:
        """The first row (columns as attributes) of one short read-only statement (a lookup by
        index), or None. On SQLite it runs inline on this thread (see `inline_reader`), or
        through aiosqlite when the file is busy; on Postgres in autocommit (the statement is its
        own snapshot), straight on asyncpg when every parameter is text (see
        `DriverStatement`)."""
        if self._inline is not None:
            try:
                return self._inline.first(statement, params)
            except (OperationalError, sqlite3.OperationalError):
                pass  # busy or locked: wait for it the async way
        if (
            self.dialect == "postgresql"
            and isinstance(statement, Select)
            and all(isinstance(value, str) for value in params.values())
        ):
            driver = driver_statement(statement, self.engine.dialect)
            # The statement goes to asyncpg directly, so SQLAlchemy never begins a transaction
            # on this connection: the read is its own snapshot, as in autocommit.
            async with self._asyncpg() as raw:
                record = await raw.fetchrow(driver.sql, *driver.arguments(params))
            return None if record is None else driver.row(*record)
        async with self._single.connect() as conn:
            return (await conn.execute(statement, params)).first()

    async def all(
        self, statement: Executable, params: dict[str, Any], *, driver: bool = False
    ) -> list[Any]:
        """Every row of one read-only statement over an index range of one channel's rows
        (its slot outcomes of four weeks, its break times): on SQLite inline on this thread
        like `first` (each aiosqlite read took ~8 hops to its thread and back, most of the
        CPU of `/stretch status` once it showed the team goal and slot insights), through
        aiosqlite when the file is busy; on Postgres in autocommit, one round trip, and with
        `driver` (columns of text, numbers, booleans and `UTCDateTime` only) straight on
        asyncpg when every parameter is text or an aware datetime (see `DriverStatement`)."""
        if self._inline is not None and self.direct_reads:
            try:
                return self._inline.all(statement, params)
            except (OperationalError, sqlite3.OperationalError):
                pass  # busy or locked: wait for it the async way
        if (
            driver
            and self.direct_reads
            and self.dialect == "postgresql"
            and isinstance(statement, Select)
            and all(driver_param(value) for value in params.values())
        ):
            compiled = driver_statement(statement, self.engine.dialect)
            async with self._asyncpg() as raw:
                records = await raw.fetch(compiled.sql, *compiled.arguments(params))
            return [compiled.row(*record) for record in records]
        async with self._single.connect() as conn:
            return list(await conn.execute(statement, params))

    @asynccontextmanager
    async def _asyncpg(self) -> AsyncIterator[Any]:
        """The asyncpg connection of one pool checkout, without SQLAlchemy's `Connection`
        around it (0.11 instead of 0.16 ms of CPU per checkout and return, measured; the
        pool's checkout and checkin events, the idle ping among them, run all the same)."""
        pooled = await self.engine.raw_connection()
        try:
            yield pooled.driver_connection
        finally:
            await greenlet_spawn(pooled.close)

    async def write_on_driver(self, sql: str, args: Sequence[Any]) -> list[Any]:
        """The rows of one write statement run on the driver itself, as its own transaction.

        For hot writes whose one statement settles everything (a compare-and-set UPDATE).
        On SQLite in the write turn through aiosqlite's `execute_fetchall`: one hop to its
        thread, where the statement commits on its own (the connections issue no implicit
        BEGIN, see storage.engine); an ORM write session cost eight hops and 1.6 ms of CPU.
        On Postgres with asyncpg's `fetch` outside a transaction (autocommit): one round trip
        instead of BEGIN, statement and COMMIT. `sql` is in the driver's style (`?` on SQLite,
        `$n` on Postgres) and `args` already the driver's values (see `driver_datetime`).
        """
        if self._write_turn is None:
            return await self._on_driver(sql, args)
        async with self._write_turn:
            return await self._on_driver(sql, args)

    async def _on_driver(self, sql: str, args: Sequence[Any]) -> list[Any]:
        async with self.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            if self.dialect == "sqlite":
                return list(await raw.execute_fetchall(sql, args))  # type: ignore[union-attr]
            return list(await raw.fetch(sql, *args))  # type: ignore[union-attr]

    async def write_many_on_driver(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One write statement run for each of `rows` on the driver itself, in one transaction
        (see `write_on_driver` for `sql` and the values): on SQLite BEGIN IMMEDIATE, aiosqlite's
        `executemany` and COMMIT in the write turn, three hops; on Postgres asyncpg's
        `executemany`, atomic on its own."""
        if self._write_turn is None:
            async with self.engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                await raw.executemany(sql, rows)  # type: ignore[union-attr]
            return
        async with self._write_turn, self.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            await raw.execute_fetchall("BEGIN IMMEDIATE")  # type: ignore[union-attr]
            try:
                await raw.executemany(sql, rows)  # type: ignore[union-attr]
                await raw.commit()  # type: ignore[union-attr]
            except BaseException:
                await raw.rollback()  # type: ignore[union-attr]
                raise

    def driver_datetime(self, value: datetime) -> Any:
        """`value` as `UTCDateTime` hands it to this engine's driver (for `write_on_driver`)."""
        require_aware(value=value)
        return self._datetime_processor(value)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection for hot read-only queries (no ORM session around them); in
        autocommit on Postgres (one round trip per statement, no BEGIN/ROLLBACK)."""
        async with self._single.connect() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only, in autocommit on Postgres (see `__init__`): never write
        through it (a write would be kept at once); use `write()`."""
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session for one write transaction. Call `commit()` to keep the work: leaving
        without committing (early return or exception) rolls it back."""
        if self._write_turn is None:
            async with self._writes() as session:
                yield session
            return
        async with self._write_turn, self._writes() as session:
            await session.connection()  # BEGIN now, so SQLite takes the write lock up front
            yield session

    def insert(self, model: type[Any]) -> sqlite.Insert | postgresql.Insert:
        """INSERT with ON CONFLICT support for the engine's dialect."""
        return postgresql.insert(model) if self.dialect == "postgresql" else sqlite.insert(model)

    async def ensure_channel(self, session: AsyncSession, key: ChannelKey) -> int:
        """The channel's primary key, inserting a default (unscheduled) row when it is new."""
        now = self.clock()
        await session.execute(
            self.insert(ChannelRow)
            .values(
                platform=key.platform,
                team_id=key.team_id,
                channel_id=key.channel_id,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["platform", "team_id", "channel_id"])
        )
        return (await session.execute(channel_pk(key))).scalar_one()
