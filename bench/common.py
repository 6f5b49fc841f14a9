"""Shared helpers: throwaway databases, bulk seeding, figures and goal lines."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.ports import ChannelKey
from bot.schedules import ScheduleSpec
from storage.channels import spec_to_columns
from storage.models import ChannelRow

POSTGRES_ENV = "TEST_POSTGRES_URL"
INSERT_CHUNK = 5_000


# ---- printing -------------------------------------------------------------------------------


def header(title: str, **params: Any) -> None:
    """The benchmark's name, its parameters and the machine, on two lines."""
    print(f"== {title}")
    settings = " ".join(f"{k}={v}" for k, v in params.items())
    print(f"   {settings}  (python {platform.python_version()}, {os.cpu_count()} cores)")


def table(rows: Sequence[Sequence[Any]], headings: Sequence[str]) -> None:
    """A plain aligned text table."""
    cells = [[str(h) for h in headings]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headings))]
    for n, row in enumerate(cells):
        print(
            "  ".join(
                value.rjust(widths[i]) if i else value.ljust(widths[i])
                for i, value in enumerate(row)
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return (
            f"{value:.3f}"
            if abs(value) < 10
            else f"{value:.2f}"
            if abs(value) < 100
            else f"{value:.1f}"
        )
    return str(value)


def goal(label: str, value: float, op: str, target: float, *, note: str = "") -> bool:
    """Print `goal: <label> <op> <target> (measured X) MET|MISSED` and return whether it is met."""
    met = value <= target if op == "<=" else value < target if op == "<" else value >= target
    suffix = f"  [{note}]" if note else ""
    print(
        f"goal: {label} {op} {target:g} (measured {value:.3f}) {'MET' if met else 'MISSED'}{suffix}"
    )
    return met


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stopwatch:
    """`with Stopwatch() as sw: ...; sw.seconds` (perf_counter)."""

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


# ---- databases ------------------------------------------------------------------------------


def postgres_server_url(explicit: str | None) -> str | None:
    """The Postgres server to create throwaway databases on: --postgres, else TEST_POSTGRES_URL."""
    return explicit or os.environ.get(POSTGRES_ENV) or None


@contextlib.asynccontextmanager
async def sqlite_database(prefix: str = "stretchbench") -> AsyncIterator[str]:
    """A SQLite file URL in a fresh temporary directory, removed afterwards."""
    directory = tempfile.mkdtemp(prefix=f"{prefix}-")
    try:
        yield f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.asynccontextmanager
async def postgres_database(server_url: str, prefix: str = "stretchbench") -> AsyncIterator[str]:
    """A fresh database on `server_url` (never its own tables), dropped afterwards."""
    admin = create_async_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@contextlib.asynccontextmanager
async def database(backend: str, server_url: str | None = None) -> AsyncIterator[str]:
    """`database("sqlite")` or `database("postgres", url)`: a throwaway database URL."""
    if backend == "sqlite":
        async with sqlite_database() as url:
            yield url
    else:
        assert server_url, "postgres needs a server URL"
        async with postgres_database(server_url) as url:
            yield url


def backend_label(url: str) -> str:
    return "postgres" if url.startswith("postgresql") else "sqlite"


# ---- seeding --------------------------------------------------------------------------------


def chunks(rows: list[dict[str, Any]], size: int = INSERT_CHUNK) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def bulk_insert(engine: AsyncEngine, table: Any, rows: list[dict[str, Any]]) -> None:
    """executemany INSERTs in chunks, one transaction (insertmanyvalues on both drivers)."""
    async with engine.begin() as conn:
        for part in chunks(rows):
            await conn.execute(insert(table), part)


def channel_row(
    key: ChannelKey,
    spec: ScheduleSpec | None,
    *,
    next_slot_at: datetime | None,
    enabled: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A `channels` row as `SqlChannelRepository.save` would write it (weekly board off)."""
    now = now or datetime.now(UTC)
    return {
        "platform": key.platform,
        "team_id": key.team_id,
        "channel_id": key.channel_id,
        **spec_to_columns(spec),
        "enabled": enabled,
        "paused": False,
        "paused_until": None,
        "seated_only": False,
        "weekly_board": False,
        "next_slot_at": next_slot_at,
        "next_board_at": None,
        "updated_by": "UBENCH",
        "created_at": now,
        "updated_at": now,
        "disabled_reason": None,
    }


async def seed_channels(
    engine: AsyncEngine,
    keys: Sequence[ChannelKey],
    spec: ScheduleSpec | None,
    *,
    next_slot_at: datetime | None,
    enabled: bool = True,
) -> dict[ChannelKey, int]:
    """Bulk-insert channels; return their primary keys."""
    now = datetime.now(UTC)
    rows = [channel_row(k, spec, next_slot_at=next_slot_at, enabled=enabled, now=now) for k in keys]
    await bulk_insert(engine, ChannelRow.__table__, rows)
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT id, platform, team_id, channel_id FROM channels"))
        return {ChannelKey(p, t, c): int(i) for i, p, t, c in result}


# ---- logged errors ----------------------------------------------------------------------------


class ErrorTally(logging.Handler):
    """Counts WARNING+ log records (instead of printing tracebacks) for a one-line summary."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().split(" ", 1)[0]
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message += f" ({type(error).__name__}: {str(error).splitlines()[0][:80]})"
        self.counts[f"{record.levelname} {record.name}: {message}"] += 1

    def summary(self) -> str:
        if not self.counts:
            return "none"
        return "; ".join(f"{n} x {what}" for what, n in self.counts.most_common(6))

    def reset(self) -> None:
        self.counts.clear()


def install_error_tally() -> ErrorTally:
    """Count WARNING+ records of every logger in a fresh ErrorTally on the root logger.

    From the command line the root logger has no other handler, so nothing is printed (no
    tracebacks between the figures); handlers someone else installed (pytest's) stay.
    """
    tally = ErrorTally()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, ErrorTally):
            root.removeHandler(handler)
    root.addHandler(tally)
    return tally


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    """The database flags every storage benchmark takes: --postgres, --skip-sqlite, --skip-postgres."""
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=None,
        help="Postgres server for a throwaway database (default: $TEST_POSTGRES_URL)",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="Postgres only")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
