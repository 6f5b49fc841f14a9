"""The composition root's operator side: what the short-lived `stretchbot` commands (`db`,
`purge`, `export`, `rotate-key`, `manifest`, `teams-package`) do with the database and the
platforms' files. Like `bot.app`, this module may import every layer; the CLI imports only it.

Failures an operator can fix come back as `CommandFailed` (one line, an exit code).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.cli_database import CommandFailed, check_sqlite_file, database_failure, missing_database

if TYPE_CHECKING:  # the commands that need no database stay fast
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.services import Services

T = TypeVar("T")


def _on_engine(
    database_url: str, work: Callable[[AsyncEngine], Awaitable[T]], *, migrate: bool
) -> T:
    """Run `work` on an engine for `database_url` (schema brought up to date first when
    `migrate`), in a fresh event loop; the engine is disposed of afterwards.

    Raises:
        CommandFailed: the database cannot be reached, opened or migrated; one line that
            names DATABASE_URL and says what to do.
    """
    from storage.engine import create_engine, run_migrations

    missing = missing_database(database_url)
    if missing is not None and not migrate:  # only a migration may create the file
        raise CommandFailed(
            f"no database file at {missing} (DATABASE_URL): set DATABASE_URL to the bot's "
            "database, or create it with `stretchbot db upgrade`"
        )
    check_sqlite_file(database_url)

    async def session() -> T:
        engine = create_engine(database_url)
        try:
            if migrate:
                await run_migrations(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(session())
    except CommandFailed:
        raise
    except Exception as exc:
        failure = database_failure(exc, database_url)
        if failure is None:
            raise
        raise failure from None


def on_services(
    database_url: str,
    work: Callable[[Services], Awaitable[T]],
    *,
    retention_days: int = 30,
) -> T:
    """Run `work` with the bot's services on its database (schema brought up to date), with
    no chat platform attached."""
    from bot.services import Services
    from storage.sql import SqlStorage, SqlTenancy

    async def with_services(engine: AsyncEngine) -> T:
        services = Services.create(
            SqlStorage(engine),
            SqlTenancy(engine),
            {},
            retention=timedelta(days=retention_days),
        )
        return await work(services)

    return _on_engine(database_url, with_services, migrate=True)


def upgrade_schema(database_url: str) -> str | None:
    """Bring the schema up to date (creating a missing SQLite file); the revision it is at."""
    from storage.engine import current_revision

    return _on_engine(database_url, current_revision, migrate=True)


def schema_revision(database_url: str) -> str | None:
    """The schema revision of an existing database (None: empty); changes nothing."""
    from storage.engine import current_revision

    return _on_engine(database_url, current_revision, migrate=False)


def head_revision() -> str:
    """The newest schema revision this code ships."""
    from storage.engine import head_revision as shipped_head

    return shipped_head()


def rotate_tokens(database_url: str, key_setting: str) -> int:
    """Re-encrypt every stored Slack token with the first key of `key_setting`; returns how
    many values were re-encrypted. A token no key opens changes nothing (CommandFailed)."""
    from storage.installations import TokenCipher, TokenKeyError
    from storage.installations import rotate_tokens as rotate

    cipher = TokenCipher.from_setting(key_setting)

    async def work(engine: AsyncEngine) -> int:
        return await rotate(engine, cipher)

    try:
        return _on_engine(database_url, work, migrate=True)
    except TokenKeyError as exc:
        raise CommandFailed(
            f"{exc}; nothing was changed. Add the key they were encrypted with after a comma "
            "and run this again"
        ) from None


def slack_manifest(*, url: str | None, source: Path | None, as_json: bool) -> str:
    """The Slack app manifest as text: the shipped one (or `source`), for HTTP mode at `url`."""
    from handlers.slack.manifest import (
        ManifestError,
        http_manifest,
        load_manifest,
        render,
        shipped_manifest,
    )

    try:
        manifest = load_manifest(source or shipped_manifest())
        if url:
            manifest = http_manifest(manifest, url)
    except ManifestError as exc:
        raise CommandFailed(str(exc), exit_code=2) from None
    return render(manifest, as_json=as_json)


def teams_package(out: Path, app_id: str, *, manifest: Path | None) -> Any:
    """Write the Microsoft Teams app package; returns what was built (its path, template and
    any example links still in it).

    Raises:
        CommandFailed: exit 2 for an unusable app id, template or icon; OSError when `out`
            cannot be written.
    """
    from handlers.teams.package import PackageError, build_package

    try:
        return build_package(out, app_id, manifest=manifest)
    except PackageError as exc:
        raise CommandFailed(str(exc), exit_code=2) from None
