"""Engine creation, URL handling and the migration entry points (beyond the contract suite)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import event, inspect, text

from storage import engine as engine_module
from storage.engine import (
    alembic_config,
    create_engine,
    current_revision,
    head_revision,
    normalize_url,
    run_migrations,
)

TABLES = {
    "alembic_version",
    "channels",
    "nudges",
    "breaks",
    "break_marks",
    "board_posts",
    "workspaces",
    "people",
    "conversation_refs",
    "slack_installations",
    "slack_bots",
    "slack_oauth_states",
    "cooldowns",
    "group_breaks",
    "group_break_joiners",
    "custom_exercises",
    "exercise_switches",
    "channel_exercise_packs",
    "slack_picture_files",
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite+aiosqlite:///data/bot.db", "sqlite+aiosqlite:///data/bot.db"),
        ("sqlite:///data/bot.db", "sqlite+aiosqlite:///data/bot.db"),
        ("postgresql+asyncpg://u:p@db:5432/bot", "postgresql+asyncpg://u:p@db:5432/bot"),
        ("postgresql://u@db/bot", "postgresql+asyncpg://u@db/bot"),
        ("postgres://u@db/bot", "postgresql+asyncpg://u@db/bot"),
    ],
)
def test_normalize_url_picks_the_async_driver(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql+aiomysql://u@db/bot", "unsupported"),
        ("postgresql+psycopg2://u@db/bot", "unsupported"),
        ("sqlite+pysqlite:///bot.db", "unsupported"),
        ("sqlite+aiosqlite://", "in-memory"),
        ("sqlite+aiosqlite:///:memory:", "in-memory"),
        ("not a url", "malformed"),
    ],
)
def test_normalize_url_rejects_what_we_cannot_run(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_url(url)


async def test_sqlite_engine_settings_and_parent_directory(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            }
        assert pragmas == {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1}
        assert path.exists()
    finally:
        await engine.dispose()


async def test_postgres_engine_connects(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_postgres_pool_keeps_a_command_burst_open(postgres_url: str) -> None:
    """Both kinds of command work at full strength, the break writer and the scheduler hold
    their connections at once without opening (and closing again) overflow ones."""
    from handlers.slack.commands import COMMAND_WORKERS

    engine = create_engine(postgres_url)
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda *_args: opened.append(1))
    try:
        burst = 2 * COMMAND_WORKERS + 2
        for _ in range(2):  # a second burst reuses the first one's connections
            conns = [await engine.connect() for _ in range(burst)]
            for conn in conns:
                await conn.close()
        assert len(opened) == burst
        assert engine.pool.size() >= burst  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def _kill_connections(url: str) -> int:
    """What a Postgres restart (or an idle-connection reaper) does to the bot's pool."""
    admin = create_engine(url)
    try:
        async with admin.connect() as conn:
            killed = await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(killed.scalar_one())
    finally:
        await admin.dispose()


async def test_postgres_pool_survives_a_restart_of_idle_connections(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)  # every reused connection is idle
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            backend = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert await _kill_connections(postgres_url) == 1
        async with engine.connect() as conn:  # pinged, found dead, replaced: no error
            again = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != backend
    finally:
        await engine.dispose()


async def test_postgres_pool_pings_only_connections_that_sat_idle(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        pings.append(1)
        return bool(real_ping(dbapi_connection))

    engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    try:
        for _ in range(5):  # back to back: no ping on the hot path
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert pings == []
        pool_entry = None
        async with engine.connect() as conn:
            pool_entry = (await conn.get_raw_connection())._connection_record
        assert pool_entry is not None
        pool_entry.info["idle_since"] -= engine_module.IDLE_PING_SECONDS + 1  # as if it sat idle
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        assert pings == [1]
    finally:
        await engine.dispose()


async def test_revision_is_none_before_the_first_migration(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) is None
        await run_migrations(engine)
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert tables == TABLES
    finally:
        await engine.dispose()


async def test_migrations_need_no_alembic_ini_or_cwd(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    engine = create_engine(sqlite_url)
    try:
        await run_migrations(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
    assert list(elsewhere.iterdir()) == []


def test_head_revision() -> None:
    assert head_revision() == "0013"


def test_alembic_cli_path_uses_database_url(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `alembic upgrade head` does with no connection handed in: env.py opens its own."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    command.upgrade(alembic_config(), "head")

    async def check() -> str | None:
        engine = create_engine(sqlite_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    assert asyncio.run(check()) == head_revision()
    command.downgrade(alembic_config(), "base")
    assert asyncio.run(check()) is None


def test_alembic_offline_sql(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@db/bot")
    command.upgrade(alembic_config(), "head", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE channels" in sql
    assert "CREATE INDEX ix_channels_due_nudge ON channels (next_slot_at) WHERE enabled" in sql


def test_the_head_read_from_the_files_is_alembics() -> None:
    from storage.engine import head_revision, shipped_head

    assert shipped_head() == head_revision()


async def test_a_database_at_head_starts_without_importing_alembic(tmp_path: Path) -> None:
    """Every start but the first after an upgrade skips Alembic (and its 8 MB)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'at-head.db'}"
    engine = create_engine(url)
    try:
        await run_migrations(engine)
    finally:
        await engine.dispose()
    code = (
        "import asyncio, sys\n"
        "from storage.engine import create_engine, run_migrations\n"
        f"engine = create_engine({url!r})\n"
        "asyncio.run(run_migrations(engine))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]", result.stdout
