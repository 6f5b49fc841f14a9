"""Operator commands: `stretchbot keygen | manifest | purge | export | rotate-key`.

Registered into the CLI by `bot.cli`; each is a short-lived process on the bot's database
(migrated first) that needs no Slack settings.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import MaintenanceSettings, load_maintenance_settings

T = TypeVar("T")

# A spreadsheet runs a cell starting with one of these as a formula; the exported ids and
# texts are ours or Slack's, but an admin opening the file should never run anything.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the operator commands to the `stretchbot` argument parser."""
    keygen = sub.add_parser("keygen", help="print a new key for STRETCHBOT_ENCRYPTION_KEY")
    keygen.set_defaults(func=_keygen)

    manifest = sub.add_parser(
        "manifest", help="print the Slack app manifest (for HTTP mode on a host with --url)"
    )
    manifest.add_argument(
        "--url", help="public https address of the bot, e.g. https://bot.example.com"
    )
    manifest.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    manifest.add_argument("--manifest", type=Path, help="manifest.yml to start from")
    manifest.set_defaults(func=_manifest)

    purge = sub.add_parser(
        "purge", help="delete the data of workspaces uninstalled longer than DATA_RETENTION_DAYS"
    )
    purge.add_argument("--team", help="purge this uninstalled workspace now, whatever its age")
    purge.add_argument("--platform", default="slack", choices=("slack", "teams"))
    purge.set_defaults(func=_purge)

    export = sub.add_parser("export", help="write a workspace's data as CSV files for its admins")
    export.add_argument("--team", required=True, help="the workspace (Slack team id, T...)")
    export.add_argument(
        "--out", type=Path, help="folder for the CSV files (default: ./export-TEAM)"
    )
    export.add_argument("--platform", default="slack", choices=("slack", "teams"))
    export.set_defaults(func=_export)

    rotate = sub.add_parser(
        "rotate-key",
        help="re-encrypt stored Slack tokens with the first key of STRETCHBOT_ENCRYPTION_KEY",
    )
    rotate.set_defaults(func=_rotate_key)


def _keygen(args: argparse.Namespace) -> int:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from handlers.slack.manifest import (
        ManifestError,
        find_manifest,
        http_manifest,
        load_manifest,
        render,
    )

    try:
        manifest = load_manifest(find_manifest(args.manifest))
        if args.url:
            manifest = http_manifest(manifest, args.url)
    except ManifestError as exc:
        print(f"stretchbot: {exc}", file=sys.stderr)
        return 2
    print(render(manifest, as_json=args.json))
    return 0


def _on_database(settings: MaintenanceSettings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from storage.engine import create_engine, run_migrations

    async def session() -> T:
        engine = create_engine(settings.DATABASE_URL)
        try:
            await run_migrations(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(session())


def _purge(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.services import Services
    from bot.workspaces import PurgeReport
    from storage.sql import SqlStorage, SqlTenancy

    settings = load_maintenance_settings()

    async def purge(engine: AsyncEngine) -> tuple[list[PurgeReport], str]:
        tenancy = SqlTenancy(engine)
        if args.team:
            workspace = await tenancy.workspaces.get(platform=args.platform, team_id=args.team)
            if workspace is not None and workspace.installed:
                return [], (
                    f"{args.team} is still installed: uninstall the app there first "
                    "(a purge deletes the data the bot is working with)"
                )
            return [await tenancy.workspaces.purge(platform=args.platform, team_id=args.team)], ""
        services = Services.create(
            SqlStorage(engine),
            tenancy,
            {},
            retention=timedelta(days=settings.DATA_RETENTION_DAYS),
        )
        return await services.installs.purge_expired(), ""

    reports, refusal = _on_database(settings, purge)
    if refusal:
        print(f"stretchbot: {refusal}", file=sys.stderr)
        return 2
    for report in reports:
        print(
            f"purged {report.platform} {report.team_id}: {report.channels} channel(s), "
            f"{report.nudges} nudge(s), {report.breaks} break(s), {report.people} person "
            f"setting(s), {report.tokens} token row(s)"
        )
    if not reports:
        print(
            f"nothing to purge: no workspace was uninstalled more than "
            f"{settings.DATA_RETENTION_DAYS} day(s) ago"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    from bot.workspaces import ExportTable
    from storage.sql import SqlTenancy

    settings = load_maintenance_settings()

    async def export(engine: AsyncEngine) -> list[ExportTable]:
        return await SqlTenancy(engine).workspaces.export(platform=args.platform, team_id=args.team)

    tables = _on_database(settings, export)
    if not any(table.rows for table in tables):
        print(
            f"stretchbot: nothing is stored for {args.platform} team {args.team}", file=sys.stderr
        )
        return 1
    folder: Path = args.out or Path(f"export-{args.team}")
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        path = folder / f"{table.name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.header)
            writer.writerows(tuple(_cell(value) for value in row) for row in table.rows)
        print(f"{path}: {len(table.rows)} row(s)")
    return 0


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _rotate_key(args: argparse.Namespace) -> int:
    from storage.installations import TokenCipher, TokenKeyError, rotate_tokens

    settings = load_maintenance_settings()
    if not settings.STRETCHBOT_ENCRYPTION_KEY:
        print(
            "stretchbot: STRETCHBOT_ENCRYPTION_KEY is not set: set it to the new key, then the "
            "old one after a comma (`stretchbot keygen` makes a key)",
            file=sys.stderr,
        )
        return 2
    cipher = TokenCipher.from_setting(settings.STRETCHBOT_ENCRYPTION_KEY)

    async def rotate(engine: AsyncEngine) -> int:
        return await rotate_tokens(engine, cipher)

    try:
        count = _on_database(settings, rotate)
    except TokenKeyError as exc:
        print(
            f"stretchbot: {exc}; nothing was changed. Add the key they were encrypted with "
            "after a comma and run this again",
            file=sys.stderr,
        )
        return 1
    print(
        f"re-encrypted {count} token value(s) with the first key of STRETCHBOT_ENCRYPTION_KEY; "
        "the other keys can now be removed from it"
    )
    return 0
