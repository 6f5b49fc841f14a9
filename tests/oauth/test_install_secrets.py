"""A failed save of an installation never logs the token (issue 9, item 9): no encryption key,
SQLAlchemy's statement log and slack_sdk's DEBUG lines on, the write refused by the database."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tests.oauth.conftest import T1, OAuthBot, StartBot


def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    """Each record's message and its formatted traceback, as a handler would write them."""
    formatter = logging.Formatter()
    for record in caplog.records:
        yield record.getMessage()
        if record.exc_info:
            yield formatter.formatException(record.exc_info)
        if record.stack_info:
            yield record.stack_info


async def _refuse_writes(bot: OAuthBot, table: str) -> None:
    """Make every INSERT into `table` fail inside the database, as a full disk or a broken
    constraint would: the driver's error then comes back with the statement's parameters."""
    async with bot.runtime.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            await conn.execute(
                text(
                    f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE FUNCTION refuse_write() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text(
                    f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_write()"
                )
            )


@pytest.mark.parametrize("table", ["slack_installations", "slack_bots"])
async def test_a_failed_save_never_logs_the_token(
    start_oauth_bot: StartBot, caplog: pytest.LogCaptureFixture, table: str
) -> None:
    bot = await start_oauth_bot(STRETCHBOT_ENCRYPTION_KEY="")  # tokens stored as they come
    await _refuse_writes(bot, table)
    # An operator debugging: SQLAlchemy logs every statement it runs, slack_sdk every
    # response (`set_level` also sets the capturing handler's level: DEBUG goes last).
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    caplog.set_level(logging.DEBUG)

    _, cookie, state = await bot.start_install()
    page = await bot.finish_install(code=bot.grid.install_code(T1), state=state, cookie=cookie)

    assert page.status == 503, page.text
    assert "Slack approved it, but stretchbot" in page.text
    token = bot.grid.token_of(T1)
    logged = list(everything_logged(caplog))
    assert any("INSERT INTO" in line for line in logged)  # the SQL log was on
    assert any("oauth.v2.access" in line for line in logged)  # and slack_sdk's
    assert [line for line in logged if token in line] == []
    [failure] = [r for r in caplog.records if "saving a Slack installation failed" in r.message]
    assert failure.getMessage() == (
        f"saving a Slack installation failed: {_error_class(bot)} on {table} "
        f"(team={T1} enterprise=None)"
    )
    assert failure.exc_info is None
    assert await bot.count("slack_bots") == 0
    # A later install, once the database accepts writes again, works.
    async with bot.runtime.engine.begin() as conn:
        await conn.execute(text(f"DROP TRIGGER refuse_{table}" + _on(conn.dialect.name, table)))
    await bot.install(T1)


def _error_class(bot: OAuthBot) -> str:
    # How SQLAlchemy classifies a trigger's error on each driver.
    return "IntegrityError" if bot.runtime.engine.dialect.name == "sqlite" else "DBAPIError"


def _on(dialect: str, table: str) -> str:
    return "" if dialect == "sqlite" else f" ON {table}"
