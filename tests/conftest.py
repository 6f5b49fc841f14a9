"""Shared pytest fixtures.

Database fixtures:
- `sqlite_url`: URL of a fresh (empty, not yet migrated) SQLite file in `tmp_path`.
- `postgres_url`: URL of a fresh, empty Postgres database, dropped after the test; skips unless
  `TEST_POSTGRES_URL` is set.
- `database_url`: parametrized over "sqlite" and "postgres" (the latter skipping as above).
- `db_engine`: an engine on `database_url` with the schema migrated; disposed after the test.
- `storage`: a `SqlStorage` on `db_engine`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.engine import create_engine, run_migrations
from storage.sql import SqlStorage

POSTGRES_ENV = "TEST_POSTGRES_URL"


@asynccontextmanager
async def _fresh_postgres_database() -> AsyncIterator[str]:
    """Create a throwaway database on the TEST_POSTGRES_URL server; yield its URL; drop it."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        if os.environ.get("STRETCHBOT_REQUIRE_POSTGRES"):  # CI: a Postgres test may not skip
            pytest.fail(f"{POSTGRES_ENV} is not set but STRETCHBOT_REQUIRE_POSTGRES is")
        pytest.skip(f"{POSTGRES_ENV} not set")
    # CREATE/DROP DATABASE cannot run inside a transaction, hence AUTOCOMMIT.
    admin = create_async_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"stretchbot_t_{uuid.uuid4().hex}"
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                # FORCE: a test that failed mid-way may have left connections open.
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL in this test's tmp_path (the file does not exist yet)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'stretchbot.db'}"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty Postgres database for this test; skips without TEST_POSTGRES_URL."""
    async with _fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'stretchbot.db'}"
        return
    async with _fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on `database_url` with the schema at head."""
    engine = create_engine(database_url)
    try:
        await run_migrations(engine)
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def storage(db_engine: AsyncEngine) -> SqlStorage:
    """SQL storage on a freshly migrated database (each backend in turn)."""
    return SqlStorage(db_engine)
