"""Engine creation and schema migrations: how stretchbot opens and upgrades its database.

SQLite (aiosqlite) is the embedded default, PostgreSQL (asyncpg) the scale-out store. Migrations
are Alembic scripts shipped inside the package, run programmatically: no alembic.ini needed.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

if TYPE_CHECKING:  # Alembic is imported only when a migration has to run (memory, start-up)
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Execution option read by the SQLite `begin` listener: "IMMEDIATE" takes the write lock when the
# transaction starts. Write transactions need it: a deferred transaction that read first and then
# tries to write can fail at once with SQLITE_BUSY (the busy timeout does not apply to a stale
# WAL snapshot), which would turn ordinary contention into errors.
SQLITE_BEGIN = "stretchbot_sqlite_begin"
_SQLITE_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})

SQLITE_BUSY_TIMEOUT_MS = 5000

# Serialises `run_migrations` across replicas starting at once against one Postgres database
# (an arbitrary constant; "stretch" in ASCII).
_PG_MIGRATION_LOCK = 0x73747265746368


def normalize_url(url: str) -> URL:
    """Parse a database URL, choosing the async driver when none is given.

    Accepts `sqlite+aiosqlite:///path`, `postgresql+asyncpg://...` and the driverless
    `sqlite:///path`, `postgresql://...`, `postgres://...` spellings.

    Raises:
        ValueError: the URL is malformed, names another database or driver, or is an
            in-memory SQLite database (each pooled connection would get its own empty one).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"malformed database URL {url!r}: {exc}") from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":  # Heroku-style spelling
        backend = "postgresql"
    wanted = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}.get(backend)
    if wanted is None or driver not in ("", wanted):
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}: use "
            "sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host/db"
        )
    parsed = parsed.set(drivername=f"{backend}+{wanted}")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError(
            "in-memory SQLite is not supported (every connection would see its own empty "
            "database); use a file, e.g. sqlite+aiosqlite:///stretchbot.db"
        )
    return parsed


def create_engine(url: str) -> AsyncEngine:
    """Create the async engine for `url` (see `normalize_url` for accepted forms).

    SQLite gets WAL journaling, a 5 s busy timeout, enforced foreign keys and explicit BEGIN
    handling (see `SQLITE_BEGIN`); a missing parent directory of the database file is created.
    Postgres gets a bounded pool that checks a connection before use when it sat idle.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed)
    engine = create_async_engine(
        parsed,
        hide_parameters=True,  # errors and SQL logs would show values, tokens included
        # Measured (bench.commands, pool events): a burst of commands holds up to 16
        # connections at once (two kinds of command work, COMMAND_WORKERS = 8 each), the
        # fan-out 2, the break writer and the scheduler one each. With 10 pooled, every burst
        # opened overflow connections and closed them again on return: a new connection is
        # several round trips and loses asyncpg's prepared statements.
        pool_size=POOL_SIZE,
        max_overflow=10,
        pool_timeout=30,
        pool_recycle=1800,
        connect_args={"timeout": 10, "server_settings": {"application_name": "stretchbot"}},
    )
    _ping_when_idle(engine, IDLE_PING_SECONDS)
    return engine


IDLE_PING_SECONDS = 5.0
POOL_SIZE = 20  # Postgres connections kept open (see create_engine)


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle for `idle_seconds`.

    This survives a Postgres restart or an idle-connection reaper like `pool_pre_ping` does,
    without its cost on every checkout: asyncpg's ping is BEGIN, a statement and ROLLBACK,
    three round trips, which was about half the database CPU of a `/stretch status` under load.
    A connection that broke while in busy use fails its one statement; SQLAlchemy then
    invalidates the pool, so the next checkouts connect afresh. Raising DisconnectionError
    from `checkout` makes the pool throw the connection away and take another (documented in
    `PoolEvents.checkout`).
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError(f"stale connection: {error!r}") from error


def _create_sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    if not database.startswith("file:"):  # URI filenames are the caller's business
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, hide_parameters=True)  # see create_engine

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the sqlite3 module from issuing its own implicit BEGINs (it only does so before
        # DML, so DDL and reads would escape the transaction); `_on_begin` issues them instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL needs a lock another connection may hold.
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode")
            if str(cursor.fetchone()[0]).lower() != "wal":
                _switch_to_wal(cursor)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = str(connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")).upper()
        if mode not in _SQLITE_BEGIN_MODES:
            raise ValueError(f"{SQLITE_BEGIN} must be one of {sorted(_SQLITE_BEGIN_MODES)}")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _switch_to_wal(cursor: Any) -> None:
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as exc:
        # Switching needs an exclusive lock and SQLite reports "locked" at once (no busy wait)
        # while another connection, typically one doing this very switch, holds the file. WAL
        # is a property of the file, so this connection follows once that switch is done;
        # until then it works in rollback-journal mode, which is slower, not wrong.
        if "locked" not in str(exc):
            raise


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, optionally bound to `connection`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def run_migrations(engine: AsyncEngine) -> None:
    """Bring the schema up to the latest revision (`alembic upgrade head`); a no-op when current.

    Runs in one transaction; safe when several processes start at once. A database already at
    the shipped head (every start but the first after an upgrade) is told from one SELECT,
    without importing Alembic: it and its template engine cost about 8 MB of a running bot.
    """
    if await _recorded_revision(engine) == shipped_head():
        return
    begin_engine = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    async with begin_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        await conn.run_sync(_upgrade_head)


async def _recorded_revision(engine: AsyncEngine) -> str | None:
    """`alembic_version.version_num`, read with plain SQL; None when there is none yet."""
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
    except DBAPIError:  # no such table: never migrated
        return None
    return str(row[0]) if row is not None else None


_REVISION = re.compile(r'^revision(?:\s*:\s*str)?\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)
_DOWN_REVISION = re.compile(
    r'^down_revision(?:\s*:\s*[^=]+)?\s*=\s*(?:["\']([^"\']+)["\']|None)', re.MULTILINE
)


@functools.lru_cache(maxsize=1)
def shipped_head() -> str:
    """The head revision of the packaged migrations, read from their files without Alembic
    (`head_revision` asks Alembic; tests/storage/test_engine.py checks that both agree)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is not None:
            revisions.add(revision.group(1))
        if down is not None and down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"expected one head revision in {MIGRATIONS_DIR}, found {sorted(heads)}")
    return heads.pop()


def _upgrade_head(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema revision the database is at; None for an empty (never migrated) database."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current_revision)


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this code."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revisions found in {MIGRATIONS_DIR}")
    return head
