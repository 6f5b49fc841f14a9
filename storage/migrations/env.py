"""Alembic environment for stretchbot.

Two ways in:
- `storage.engine.run_migrations` passes an open connection (already in a transaction) in
  `config.attributes["connection"]`; we migrate on it and leave committing to the caller.
- The `alembic` CLI (with a config whose `script_location` points here): the database comes from
  `DATABASE_URL` (or `sqlalchemy.url`) and we open our own async engine via `storage.engine`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from storage.engine import create_engine, normalize_url
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    # bot.config is the one reader of the environment (and of .env), as for `stretchbot db`.
    from bot.config import load_database_settings

    return config.get_main_option("sqlalchemy.url") or load_database_settings().DATABASE_URL


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run_on(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    engine = create_engine(_database_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_on)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: render the SQL without a database."""
    context.configure(
        url=normalize_url(_database_url()),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate on the connection we were given, or on our own engine."""
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(_run_with_own_engine())
    else:
        _run_on(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
