"""Slack installations at rest: slack_sdk's SQLAlchemy stores with tokens encrypted by Fernet.

With `STRETCHBOT_ENCRYPTION_KEY` set, every token column (bot, user, refresh tokens and the
incoming-webhook URL) holds `fernet:<ciphertext>`, never the token. The setting may list several
comma-separated keys (`cryptography`'s MultiFernet): the first encrypts, all decrypt, so a key
is rotated by putting the new one first, running `stretchbot rotate-key` (re-encrypts every row
with the first key), then dropping the old one.

Values without the prefix are plain tokens written before a key was set; they are still read,
and `rotate-key` encrypts them.

A failed write is logged as one line (error class and table) and re-raised as
`InstallationSaveError`, never with SQLAlchemy's message: that carries the statement's
parameters, the tokens themselves when no key is set.
"""

from __future__ import annotations

import copy
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import Table, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import parse_keys
from bot.ports import InstallationSaveError
from storage.models import SLACK_BOTS, SLACK_INSTALLATIONS

logger = logging.getLogger("stretchbot.storage")

PREFIX = "fernet:"
INSTALLATION_SECRETS = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",
)
BOT_SECRETS = ("bot_token", "bot_refresh_token")
_SECRET_COLUMNS: dict[str, tuple[str, ...]] = {
    SLACK_INSTALLATIONS.name: INSTALLATION_SECRETS,
    SLACK_BOTS.name: BOT_SECRETS,
}

T = TypeVar("T", Installation, Bot)


def _no_driver_call_lines(record: logging.LogRecord) -> bool:
    # aiosqlite logs every call at DEBUG with its arguments: the statement's parameters, tokens
    # included when no key is set. SQLAlchemy's own statement log (parameters hidden) remains.
    return not (
        record.levelno <= logging.DEBUG and str(record.msg).startswith(("executing", "operation"))
    )


def _hide_driver_call_lines() -> None:
    logging.getLogger("aiosqlite").addFilter(_no_driver_call_lines)  # once: same filter object


class TokenKeyError(Exception):
    """A stored token cannot be decrypted with the configured keys (or no key is set)."""


class TokenCipher:
    """Encrypts tokens for the database with the first key; decrypts with any of them."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    @classmethod
    def from_setting(cls, value: str) -> TokenCipher:
        """A cipher for a `STRETCHBOT_ENCRYPTION_KEY` value ("" gives one that stores plain)."""
        return cls(parse_keys(value))

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str | None) -> str | None:
        """The database form of a token: encrypted when a key is set (idempotent)."""
        if value is None or value.startswith(PREFIX) or self._fernet is None:
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        """The token of a database value.

        Raises:
            TokenKeyError: the value is encrypted and no configured key decrypts it.
        """
        if value is None or not value.startswith(PREFIX):
            return value
        if self._fernet is None:
            raise TokenKeyError(
                "a stored token is encrypted but STRETCHBOT_ENCRYPTION_KEY is not set"
            )
        try:
            return self._fernet.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise TokenKeyError(
                "a stored token does not decrypt with any key in STRETCHBOT_ENCRYPTION_KEY"
            ) from None

    def rotate(self, value: str | None) -> str | None:
        """Re-encrypt a database value with the first key (plain values get encrypted)."""
        if value is None or self._fernet is None:
            return value
        if not value.startswith(PREFIX):
            return self.seal(value)
        try:
            return PREFIX + self._fernet.rotate(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise TokenKeyError(
                "a stored token does not decrypt with any key in STRETCHBOT_ENCRYPTION_KEY"
            ) from None


class EncryptedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's AsyncSQLAlchemyInstallationStore (tables from our migrations), encrypting
    token columns on the way in and decrypting them on the way out."""

    def __init__(
        self,
        *,
        client_id: str,
        engine: AsyncEngine,
        cipher: TokenCipher,
        logger: logging.Logger = logger,
    ) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=logger)
        self.cipher = cipher
        _hide_driver_call_lines()

    def _with(self, entity: T, fields: Sequence[str], *, sealed: bool) -> T:
        changed = copy.copy(entity)
        convert = self.cipher.seal if sealed else self.cipher.open
        for name in fields:
            setattr(changed, name, convert(getattr(changed, name, None)))
        return changed

    def _opened(self, entity: T | None, fields: Sequence[str]) -> T | None:
        """The entity with its tokens decrypted; None (as if not installed) when they cannot
        be: the start-up check names the cause, requests must not fail on it."""
        if entity is None:
            return None
        try:
            return self._with(entity, fields, sealed=False)
        except TokenKeyError as exc:
            self.logger.error(
                "token of team=%s enterprise=%s unreadable: %s",
                entity.team_id,
                entity.enterprise_id,
                exc,
            )
            return None

    async def async_save(self, installation: Installation) -> None:
        # The parent saves the bot row through `self.async_save_bot`; sealing is idempotent.
        sealed = self._with(installation, INSTALLATION_SECRETS, sealed=True)
        try:
            await super().async_save(sealed)
        except SQLAlchemyError as exc:
            raise self._save_failed(exc, SLACK_INSTALLATIONS.name, installation) from None

    async def async_save_bot(self, bot: Bot) -> None:
        try:
            await super().async_save_bot(self._with(bot, BOT_SECRETS, sealed=True))
        except SQLAlchemyError as exc:
            raise self._save_failed(exc, SLACK_BOTS.name, bot) from None

    def _save_failed(
        self, exc: SQLAlchemyError, table: str, entity: Installation | Bot
    ) -> InstallationSaveError:
        # Only the class and the table: `str(exc)`, `exc.params` and a traceback of `exc` all
        # carry the row being written, tokens included.
        self.logger.error(
            "saving a Slack installation failed: %s on %s (team=%s enterprise=%s)",
            type(exc).__name__,
            table,
            entity.team_id,
            entity.enterprise_id,
        )
        return InstallationSaveError(f"{type(exc).__name__} on {table}")

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        bot = await super().async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return self._opened(bot, BOT_SECRETS)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        installation = await super().async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return self._opened(installation, INSTALLATION_SECRETS)


# slack_sdk issues `str(uuid4())`: anything else cannot be a state we issued.
_STATE_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PRUNE_EVERY_SECONDS = 60.0


class PrunedOAuthStateStore(AsyncSQLAlchemyOAuthStateStore):
    """slack_sdk's AsyncSQLAlchemyOAuthStateStore that drops expired states, so visits to
    /slack/install that never come back cannot pile up rows.

    Expired rows are deleted at most once per `prune_every` seconds per process (an index range
    on `expire_at`, migration 0005), not on every install start. A state that is not shaped
    like one we issue is refused without a query.
    """

    def __init__(
        self,
        *,
        expiration_seconds: int,
        engine: AsyncEngine,
        logger: logging.Logger = logger,
        prune_every: float = PRUNE_EVERY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine, logger=logger)
        self.prune_every = prune_every
        self.monotonic = monotonic
        self._next_prune = 0.0

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        now = self.monotonic()
        if now >= self._next_prune:
            self._next_prune = now + self.prune_every  # before the await: one pruner at a time
            await self.prune()
        state: str = await super().async_issue(*args, **kwargs)
        return state

    async def async_consume(self, state: str) -> bool:
        if not isinstance(state, str) or not _STATE_SHAPE.fullmatch(state):
            return False
        consumed: bool = await super().async_consume(state)
        return consumed

    async def prune(self) -> int:
        """Delete the expired states now; returns how many there were."""
        now = datetime.now(UTC).replace(tzinfo=None)  # slack_sdk stores naive UTC
        states = self.oauth_states
        async with self.engine.begin() as conn:
            result = await conn.execute(states.delete().where(states.c.expire_at <= now))
        return int(result.rowcount or 0)


@dataclass(frozen=True)
class TokenCheck:
    """What the stored token columns hold, per the configured keys."""

    encrypted: int = 0
    plain: int = 0
    unreadable: int = 0


async def check_tokens(engine: AsyncEngine, cipher: TokenCipher) -> TokenCheck:
    """Count stored tokens that are encrypted, plain, and encrypted but unreadable with the
    configured keys (a missing or wrong STRETCHBOT_ENCRYPTION_KEY)."""
    encrypted = plain = unreadable = 0
    async with engine.connect() as conn:
        for table in (SLACK_INSTALLATIONS, SLACK_BOTS):
            for value in await _secret_values(conn, table):
                if not value.startswith(PREFIX):
                    plain += 1
                    continue
                encrypted += 1
                try:
                    cipher.open(value)
                except TokenKeyError:
                    unreadable += 1
    return TokenCheck(encrypted=encrypted, plain=plain, unreadable=unreadable)


async def _secret_values(conn: Any, table: Table) -> list[str]:
    columns = [table.c[name] for name in _SECRET_COLUMNS[table.name]]
    rows = await conn.execute(select(*columns))
    return [value for row in rows for value in row if value]


async def rotate_tokens(engine: AsyncEngine, cipher: TokenCipher) -> int:
    """Re-encrypt every stored token with the cipher's first key, in one transaction.

    Plain tokens get encrypted too. Returns the number of token values rewritten.

    Raises:
        TokenKeyError: some token decrypts with none of the keys (nothing is changed).
        ValueError: the cipher has no key.
    """
    if not cipher.enabled:
        raise ValueError("no encryption key given")
    _hide_driver_call_lines()
    rewritten = 0
    async with engine.begin() as conn:
        for table in (SLACK_INSTALLATIONS, SLACK_BOTS):
            names = _SECRET_COLUMNS[table.name]
            rows = await conn.execute(select(table.c.id, *(table.c[name] for name in names)))
            for row_id, *values in rows.all():
                new = {
                    name: cipher.rotate(value)
                    for name, value in zip(names, values, strict=True)
                    if value
                }
                if new:
                    await conn.execute(update(table).where(table.c.id == row_id).values(new))
                    rewritten += len(new)
    return rewritten
