"""How the short-lived `stretchbot` commands fail when the bot's database cannot be used.

An operator who gets DATABASE_URL wrong, or whose server is down, sees one line that names
DATABASE_URL and says what to do, never a driver traceback; a command that only reads never
leaves a new SQLite file behind. (bot/operations.py opens the database; this module only
looks at paths and translates errors.)
"""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

_SQLITE_PREFIX = "sqlite+aiosqlite:///"


class CommandFailed(Exception):
    """A `stretchbot` command could not do its job; the message is one line for the shell."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite DATABASE_URL (as already normalised by `bot.config`); None for
    PostgreSQL and for SQLite URI filenames (`file:...`), whose existence is theirs to judge."""
    if not database_url.startswith(_SQLITE_PREFIX):
        return None
    database = database_url.removeprefix(_SQLITE_PREFIX).split("?", 1)[0]
    if not database or database.startswith("file:") or database == ":memory:":
        return None
    return Path(database).expanduser()


def shown_url(database_url: str) -> str:
    """DATABASE_URL as it may be printed: the password masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable)"


def missing_database(database_url: str) -> Path | None:
    """The SQLite file DATABASE_URL names when it does not exist yet, else None."""
    path = sqlite_file(database_url)
    return path if path is not None and not path.exists() else None


def unwritable_reason(folder: Path) -> str | None:
    """Why `folder` (existing or to be made) cannot receive new files, or None if it can.

    Looks only, creates nothing: the nearest part of the path that exists must be a folder
    this user may write into.
    """
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable for this user"
    return None


def check_creatable(database_url: str) -> None:
    """Fail now if a missing SQLite file could not be created where DATABASE_URL puts it."""
    missing = missing_database(database_url)
    problem = unwritable_reason(missing.parent) if missing is not None else None
    if missing is not None and problem is not None:
        raise _sqlite_failure(missing, problem)


def check_sqlite_file(database_url: str) -> None:
    """Open a SQLite file with the standard library first: a folder that cannot be made or a
    file that is no database gets its one line before aiosqlite's worker thread is involved
    (a failed aiosqlite connect can print a thread traceback after the loop has closed)."""
    path = sqlite_file(database_url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=5.0)
        try:
            connection.execute("PRAGMA schema_version").fetchone()  # reads the header
        finally:
            connection.close()
    except (OSError, sqlite3.Error) as exc:
        raise _sqlite_failure(path, exc) from None


def _sqlite_failure(path: Path, problem: BaseException | str) -> CommandFailed:
    why = problem if isinstance(problem, str) else reason(problem)
    return CommandFailed(
        f"cannot open the SQLite database {path} from DATABASE_URL ({why}): set "
        "DATABASE_URL to a file in a folder this user can write, e.g. "
        "sqlite+aiosqlite:///stretchbot.db"
    )


def database_failure(exc: BaseException, database_url: str) -> CommandFailed | None:
    """The one-line failure for an exception from reaching or migrating the database; None
    when `exc` is something else (a bug, which deserves its traceback)."""
    import sqlalchemy.exc
    from alembic.util.exc import CommandError as AlembicError

    if isinstance(exc, BrokenPipeError):  # stdout closed under us: not the database's fault
        return None
    if isinstance(exc, AlembicError):
        return CommandFailed(
            f"the database at DATABASE_URL={shown_url(database_url)} has a schema this "
            f"stretchbot does not know ({reason(exc)}): run the newest stretchbot, or set "
            "DATABASE_URL to this version's database"
        )
    database_errors: tuple[type[BaseException], ...] = (
        sqlalchemy.exc.DBAPIError,
        sqlalchemy.exc.TimeoutError,  # no pooled connection came free
        OSError,  # refused, unknown host, timed out, a folder that cannot be made
        sqlite3.Error,
    )
    try:
        import asyncpg

        database_errors += (asyncpg.PostgresError, asyncpg.InterfaceError)
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pass
    if not isinstance(exc, database_errors):
        return None
    path = sqlite_file(database_url)
    if path is not None:
        return _sqlite_failure(path, exc)
    return CommandFailed(
        f"cannot use the database at DATABASE_URL={shown_url(database_url)} "
        f"({reason(exc)}): check that the server is running and reachable from here and "
        "that DATABASE_URL names the right host, port, user, password and database"
    )


def reason(exc: BaseException) -> str:
    """A short, single-line reason (no SQL, no parameters, no link to SQLAlchemy's docs)."""
    import sqlalchemy.exc

    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, FileExistsError | NotADirectoryError) and exc.filename:
        return f"{exc.filename} is a file, not a folder"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror.lower()}{where}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
