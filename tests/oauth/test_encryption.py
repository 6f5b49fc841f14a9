"""Tokens at rest: Fernet-encrypted in every token column, readable with any configured key,
re-encrypted by `stretchbot rotate-key`; a wrong key stops the bot at start with one line."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import cli
from bot.app import StartupError, start
from storage.engine import create_engine, run_migrations
from storage.installations import (
    PREFIX,
    EncryptedInstallationStore,
    TokenCipher,
    TokenKeyError,
    check_tokens,
    rotate_tokens,
)
from tests.oauth.conftest import CLIENT_ID, T1, oauth_settings
from tests.oauth.slack_grid import FakeSlackGrid

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
BOT_TOKEN = "xoxb-1111-2222-secretbottoken"
USER_TOKEN = "xoxp-1111-3333-secretusertoken"
REFRESH = "xoxe-1-secretrefresh"


def installation(team: str = T1, *, installed_at: float = 1_700_000_000.0) -> Installation:
    return Installation(
        app_id="A0001",
        team_id=team,
        team_name="Acme",
        bot_token=BOT_TOKEN,
        bot_id="BBOT",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        bot_refresh_token=REFRESH,
        user_id="U0001",
        user_token=USER_TOKEN,
        user_scopes="identify",
        incoming_webhook_url="https://hooks.slack.com/services/T/B/secret",
        installed_at=installed_at,
    )


def store(engine: AsyncEngine, keys: str) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(
        client_id=CLIENT_ID, engine=engine, cipher=TokenCipher.from_setting(keys)
    )


async def everything_stored(engine: AsyncEngine) -> str:
    """Every value of the two installation tables, as one string to search for secrets."""
    dump = []
    async with engine.connect() as conn:
        for table in ("slack_installations", "slack_bots"):
            dump += [repr(tuple(row)) for row in await conn.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(dump)


# ---- the cipher ----------------------------------------------------------------------------


def test_cipher_round_trip_and_idempotent_seal() -> None:
    cipher = TokenCipher.from_setting(NEW)
    sealed = cipher.seal(BOT_TOKEN)
    assert sealed is not None and sealed.startswith(PREFIX) and BOT_TOKEN not in sealed
    assert cipher.seal(sealed) == sealed  # sealing twice changes nothing
    assert cipher.seal(BOT_TOKEN) != sealed  # a fresh IV each time
    assert cipher.open(sealed) == BOT_TOKEN
    assert cipher.open(None) is None and cipher.seal(None) is None
    assert cipher.open(BOT_TOKEN) == BOT_TOKEN  # plain values from before the key was set


def test_cipher_refuses_what_it_cannot_read() -> None:
    sealed = TokenCipher.from_setting(OLD).seal(BOT_TOKEN)
    with pytest.raises(TokenKeyError, match="any key"):
        TokenCipher.from_setting(NEW).open(sealed)
    with pytest.raises(TokenKeyError, match="not set"):
        TokenCipher().open(sealed)
    assert TokenCipher().seal(BOT_TOKEN) == BOT_TOKEN  # no key: plain (the bot warns)


def test_several_keys_first_encrypts_all_decrypt() -> None:
    old_only = TokenCipher.from_setting(OLD)
    both = TokenCipher.from_setting(f"{NEW}, {OLD}")
    sealed_old = old_only.seal(BOT_TOKEN)
    assert both.open(sealed_old) == BOT_TOKEN
    rotated = both.rotate(sealed_old)
    assert TokenCipher.from_setting(NEW).open(rotated) == BOT_TOKEN
    with pytest.raises(TokenKeyError):
        old_only.open(rotated)
    assert TokenCipher.from_setting(NEW).open(both.seal(BOT_TOKEN)) == BOT_TOKEN


# ---- the installation store on each backend ------------------------------------------------


async def test_no_token_is_written_in_plain_text(db_engine: AsyncEngine) -> None:
    installs = store(db_engine, NEW)
    await installs.async_save(installation())
    dump = await everything_stored(db_engine)
    for secret in (BOT_TOKEN, USER_TOKEN, REFRESH, "services/T/B/secret"):
        assert secret not in dump
    assert dump.count(PREFIX) == 6  # 4 set token columns of the installation, 2 of the bot

    bot = await installs.async_find_bot(enterprise_id=None, team_id=T1)
    assert bot is not None and (bot.bot_token, bot.bot_refresh_token) == (BOT_TOKEN, REFRESH)
    found = await installs.async_find_installation(enterprise_id=None, team_id=T1)
    assert found is not None
    assert (found.bot_token, found.user_token, found.user_refresh_token) == (
        BOT_TOKEN,
        USER_TOKEN,
        None,  # Installation keeps the user's refresh token only when it has one
    )
    assert found.incoming_webhook_url == "https://hooks.slack.com/services/T/B/secret"
    assert (await store(db_engine, OLD).async_find_bot(enterprise_id=None, team_id=T1)) is None


async def test_rotate_key_reencrypts_every_row_and_encrypts_plain_ones(
    db_engine: AsyncEngine,
) -> None:
    await store(db_engine, OLD).async_save(installation("T0001"))
    await store(db_engine, "").async_save(installation("T0002"))  # before a key was set
    both = TokenCipher.from_setting(f"{NEW},{OLD}")
    before = await check_tokens(db_engine, both)
    assert (before.encrypted, before.plain, before.unreadable) == (6, 6, 0)

    assert await rotate_tokens(db_engine, both) == 12
    new_only = TokenCipher.from_setting(NEW)
    after = await check_tokens(db_engine, new_only)
    assert (after.encrypted, after.plain, after.unreadable) == (12, 0, 0)
    for team in ("T0001", "T0002"):
        bot = await store(db_engine, NEW).async_find_bot(enterprise_id=None, team_id=team)
        assert bot is not None and bot.bot_token == BOT_TOKEN
    assert BOT_TOKEN not in await everything_stored(db_engine)


async def test_rotate_key_changes_nothing_when_a_token_is_unreadable(
    db_engine: AsyncEngine,
) -> None:
    await store(db_engine, OLD).async_save(installation())
    dump = await everything_stored(db_engine)
    with pytest.raises(TokenKeyError):
        await rotate_tokens(db_engine, TokenCipher.from_setting(NEW))
    assert await everything_stored(db_engine) == dump


# ---- the running bot and the CLI -----------------------------------------------------------


async def test_the_bot_refuses_to_start_with_the_wrong_key(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        await run_migrations(engine)
        await store(engine, OLD).async_save(installation())
    finally:
        await engine.dispose()
    async with FakeSlackGrid() as grid:
        with pytest.raises(StartupError) as refused:
            await start(oauth_settings(grid, sqlite_url, STRETCHBOT_ENCRYPTION_KEY=NEW))
        message = str(refused.value)
        assert "STRETCHBOT_ENCRYPTION_KEY" in message and "rotate-key" in message
        assert OLD not in message and NEW not in message
        # With the old key after the new one it starts (and serves the old tokens).
        runtime = await start(
            oauth_settings(grid, sqlite_url, STRETCHBOT_ENCRYPTION_KEY=f"{NEW},{OLD}"),
            scheduler_on=False,
        )
        await runtime.stop()


async def test_oauth_mode_without_a_key_warns_at_start(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeSlackGrid() as grid:
        with caplog.at_level(logging.WARNING, logger="stretchbot"):
            runtime = await start(
                oauth_settings(grid, sqlite_url, STRETCHBOT_ENCRYPTION_KEY=""), scheduler_on=False
            )
            await runtime.stop()
    assert any(
        "STRETCHBOT_ENCRYPTION_KEY is not set" in r.getMessage() and "plain text" in r.getMessage()
        for r in caplog.records
    )


def test_keygen_and_rotate_key_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("DATABASE_URL", url)

    assert cli.main(["keygen"]) == 0
    key = capsys.readouterr().out.strip()
    Fernet(key)  # a valid key

    async def seed() -> None:
        engine = create_engine(url)
        try:
            await run_migrations(engine)
            await store(engine, OLD).async_save(installation())
        finally:
            await engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("STRETCHBOT_ENCRYPTION_KEY", key)  # the old key forgotten
    assert cli.main(["rotate-key"]) == 1
    assert "nothing was changed" in capsys.readouterr().err

    monkeypatch.setenv("STRETCHBOT_ENCRYPTION_KEY", f"{key},{OLD}")
    assert cli.main(["rotate-key"]) == 0
    assert "re-encrypted 6 token value(s)" in capsys.readouterr().out

    async def read_with_new_key_only() -> str | None:
        engine = create_engine(url)
        try:
            bot = await store(engine, key).async_find_bot(enterprise_id=None, team_id=T1)
            return bot.bot_token if bot else None
        finally:
            await engine.dispose()

    assert asyncio.run(read_with_new_key_only()) == BOT_TOKEN

    monkeypatch.setenv("STRETCHBOT_ENCRYPTION_KEY", "not-a-key")
    assert cli.main(["rotate-key"]) == 2
    err = capsys.readouterr().err
    assert "STRETCHBOT_ENCRYPTION_KEY key 1 of 1 is not a Fernet key" in err
    assert "not-a-key" not in err
