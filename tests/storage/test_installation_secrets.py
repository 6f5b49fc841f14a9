"""Installation writes never leak tokens, on each backend (issue 9, item 9): a failed write
raises `InstallationSaveError`, whose text, chain and traceback hold no token, even on an engine
built without `hide_parameters`; and `storage.engine.create_engine` hides statement
parameters."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.ports import InstallationSaveError
from storage.engine import create_engine, run_migrations
from storage.installations import EncryptedInstallationStore, TokenCipher

TOKEN = "xoxb-1111-2222-tokenthatmustneverbelogged"


@pytest.fixture
async def raw_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database behind an engine built the plain way: no `hide_parameters`."""
    migrated = create_engine(database_url)
    await run_migrations(migrated)
    await migrated.dispose()
    engine = create_async_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def refuse_inserts(engine: AsyncEngine, table: str) -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            await conn.execute(
                text(
                    f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
            return
        await conn.execute(
            text(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
            )
        )
        await conn.execute(
            text(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        )


def installation() -> Installation:
    return Installation(
        app_id="A0001",
        team_id="T0001",
        team_name="Acme",
        bot_token=TOKEN,
        bot_id="B0001",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        user_id="U0001",
        is_enterprise_install=False,
    )


@pytest.mark.parametrize("table", ["slack_installations", "slack_bots"])
async def test_a_failed_write_carries_no_token(
    raw_engine: AsyncEngine, caplog: pytest.LogCaptureFixture, table: str
) -> None:
    await refuse_inserts(raw_engine, table)
    store = EncryptedInstallationStore(
        client_id="1111.2222",
        engine=raw_engine,
        cipher=TokenCipher(),  # no key: stored plain
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(InstallationSaveError) as caught:
        await store.async_save(installation())

    error = caught.value
    assert error.__cause__ is None and error.__suppress_context__
    assert table in str(error) and TOKEN not in str(error)
    assert TOKEN not in "".join(traceback.format_exception(error))
    formatter = logging.Formatter()
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert not record.exc_info or TOKEN not in formatter.formatException(record.exc_info)
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.startswith("saving a Slack installation failed: ") and table in line


async def test_the_bots_engine_hides_statement_parameters(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(SQLAlchemyError) as caught:
                await conn.execute(
                    text("SELECT * FROM no_such_table WHERE token = :token"), {"token": TOKEN}
                )
        assert TOKEN not in str(caught.value)
        assert "parameters hidden" in str(caught.value)
    finally:
        await engine.dispose()
