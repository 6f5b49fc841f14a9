"""Operator commands: `stretchbot keygen | manifest | purge | export | rotate-key`.

Registered into the CLI by `bot.cli`; each is a short-lived process on the bot's database
(migrated first) that needs no Slack settings. None of them creates a database that does not
exist yet, and none overwrites a file it did not make unless told to.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import operations
from bot.cli_database import CommandFailed, missing_database, reason, unwritable_reason
from bot.config import load_maintenance_settings

if TYPE_CHECKING:  # only for annotations: `--help` and `keygen` need no SQLAlchemy
    from bot.services import Services
    from bot.workspaces import ExportTable, PurgeReport

# A spreadsheet runs a cell starting with one of these as a formula; the exported ids and
# texts are ours or Slack's, but an admin opening the file should never run anything.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
PLATFORMS = ("slack", "teams")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the operator commands to the `stretchbot` argument parser."""
    keygen = sub.add_parser(
        "keygen",
        help="print a new key for STRETCHBOT_ENCRYPTION_KEY",
        description="Prints a new Fernet key for STRETCHBOT_ENCRYPTION_KEY (Slack tokens are "
        "stored encrypted with it in OAuth mode). Touches no settings and no database.",
    )
    keygen.set_defaults(func=_keygen)

    manifest = sub.add_parser(
        "manifest",
        help="print the Slack app manifest (for HTTP mode on a host: --url)",
        description="Prints the Slack app manifest to paste into Create New App, From a "
        "manifest. As shipped it uses Socket Mode; with --url it is for HTTP mode at that "
        "address (commands, events and interactivity at /slack/events, the OAuth redirect at "
        "/slack/oauth_redirect).",
    )
    manifest.add_argument(
        "--url",
        help="the bot's public https address, e.g. https://bot.example.com (the full "
        "https://bot.example.com/slack/events works too; http only for localhost)",
    )
    manifest.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    manifest.add_argument(
        "--manifest",
        type=Path,
        metavar="FILE",
        help="manifest.yml to start from (default: the one shipped with stretchbot)",
    )
    manifest.set_defaults(func=_manifest)

    purge = sub.add_parser(
        "purge",
        help="delete the data of workspaces uninstalled longer than DATA_RETENTION_DAYS",
        description="Deletes everything stored for workspaces that were uninstalled more "
        "than DATA_RETENTION_DAYS ago (the bot does this daily too), or for one uninstalled "
        "workspace right away with --team. Exits 1 when --team names nothing stored.",
    )
    purge.add_argument(
        "--team",
        help="purge this uninstalled workspace now, whatever its age (Slack team id T...)",
    )
    purge.add_argument(
        "--platform",
        default="slack",
        choices=PLATFORMS,
        help="the platform of --team (default: slack)",
    )
    purge.set_defaults(func=_purge)

    export = sub.add_parser(
        "export",
        help="write a workspace's data as CSV files for its admins",
        description="Writes a workspace's channels.csv, nudges.csv, breaks.csv, group_breaks.csv "
        "and exercises.csv (its own exercises and the built-ins it turned off) into a "
        "folder. Refuses to overwrite files that are there already unless --force is given. "
        "Exits 1 when nothing is stored for the workspace.",
    )
    export.add_argument("--team", required=True, help="the workspace (Slack team id, T...)")
    export.add_argument(
        "--out",
        type=Path,
        metavar="FOLDER",
        help="folder for the CSV files, made if missing (default: ./export-TEAM)",
    )
    export.add_argument(
        "--platform",
        default="slack",
        choices=PLATFORMS,
        help="the platform of --team (default: slack)",
    )
    export.add_argument(
        "--force", action="store_true", help="overwrite CSV files already in the folder"
    )
    export.set_defaults(func=_export)

    rotate = sub.add_parser(
        "rotate-key",
        help="re-encrypt stored Slack tokens with the first key of STRETCHBOT_ENCRYPTION_KEY",
        description="Re-encrypts every stored Slack token with the first key of "
        "STRETCHBOT_ENCRYPTION_KEY (the others are tried for reading). Changes nothing if a "
        "token decrypts with none of them.",
    )
    rotate.set_defaults(func=_rotate_key)


def _keygen(args: argparse.Namespace) -> int:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0


def _manifest(args: argparse.Namespace) -> int:
    print(operations.slack_manifest(url=args.url, source=args.manifest, as_json=args.json))
    return 0


def _purge(args: argparse.Namespace) -> int:
    from bot.installs import PurgeRefused

    settings = load_maintenance_settings()
    missing = missing_database(settings.DATABASE_URL)
    if missing is not None:
        if args.team:
            raise CommandFailed(_nothing_stored(args.platform, args.team, missing))
        raise CommandFailed(_no_database(missing, "nothing to purge"))

    async def purge(services: Services) -> list[PurgeReport] | PurgeRefused:
        if args.team:
            outcome = await services.installs.purge_now(platform=args.platform, team_id=args.team)
            return outcome if isinstance(outcome, PurgeRefused) else [outcome]
        return await services.installs.purge_expired()

    outcome = operations.on_services(
        settings.DATABASE_URL, purge, retention_days=settings.DATA_RETENTION_DAYS
    )
    if isinstance(outcome, PurgeRefused):
        if outcome.installed:
            raise CommandFailed(outcome.reason, exit_code=2)
        raise CommandFailed(_nothing_stored(args.platform, args.team))
    for report in outcome:
        print(
            f"purged {report.platform} {report.team_id}: {report.channels} channel(s), "
            f"{report.nudges} nudge(s), {report.breaks} break(s), {report.people} person "
            f"setting(s), {report.tokens} token row(s)"
        )
    if not outcome:
        print(
            f"nothing to purge: no workspace was uninstalled more than "
            f"{settings.DATA_RETENTION_DAYS} day(s) ago"
        )
    return 0


def _no_database(missing: Path, consequence: str) -> str:
    # A cron job with a mistyped DATABASE_URL should fail loudly, not "succeed" forever.
    return (
        f"no database file at {missing} (DATABASE_URL), so {consequence}: set DATABASE_URL to "
        "the bot's database"
    )


def _nothing_stored(platform: str, team: str, missing: Path | None = None) -> str:
    where = f" (no database file at {missing} yet)" if missing is not None else ""
    return (
        f"nothing is stored for {platform} team {team}{where}: check the team id, "
        "--platform and DATABASE_URL"
    )


def _export(args: argparse.Namespace) -> int:
    settings = load_maintenance_settings()
    folder: Path = args.out or Path("export-" + _UNSAFE_IN_FILE_NAME.sub("_", args.team))
    _check_export_folder(folder)
    missing = missing_database(settings.DATABASE_URL)
    if missing is not None:
        raise CommandFailed(_nothing_stored(args.platform, args.team, missing))

    async def export(services: Services) -> list[ExportTable]:
        return await services.installs.export(platform=args.platform, team_id=args.team)

    tables = operations.on_services(settings.DATABASE_URL, export)
    if not any(table.rows for table in tables):
        raise CommandFailed(_nothing_stored(args.platform, args.team))
    paths = [folder / f"{table.name}.csv" for table in tables]
    there = [path for path in paths if path.exists() or path.is_symlink()]
    if there and not args.force:
        raise CommandFailed(
            f"{there[0]} exists already: pass --force to overwrite "
            f"{'it' if len(there) == 1 else f'the {len(there)} files'}, or choose another --out"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for table, path in zip(tables, paths, strict=True):
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(table.header)
                writer.writerows(tuple(_cell(value) for value in row) for row in table.rows)
            print(f"{path}: {len(table.rows)} row(s)")
    except OSError as exc:
        raise CommandFailed(_unwritable(folder, exc)) from None
    return 0


def _check_export_folder(folder: Path) -> None:
    """Fail before reading anything when `folder` cannot be the export's folder."""
    if folder.exists() and not folder.is_dir():
        raise CommandFailed(f"--out {folder} is a file, not a folder: choose a folder")
    problem = unwritable_reason(folder)
    if problem is not None:
        raise CommandFailed(f"--out {folder}: {problem}: choose another folder")


def _unwritable(folder: Path, exc: OSError) -> str:
    return f"cannot write the export to {folder} ({reason(exc)}): choose another --out"


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _rotate_key(args: argparse.Namespace) -> int:
    settings = load_maintenance_settings()
    if not settings.STRETCHBOT_ENCRYPTION_KEY:
        print(
            "stretchbot: STRETCHBOT_ENCRYPTION_KEY is not set: set it to the new key, then the "
            "old one after a comma (`stretchbot keygen` makes a key)",
            file=sys.stderr,
        )
        return 2
    missing = missing_database(settings.DATABASE_URL)
    if missing is not None:
        raise CommandFailed(_no_database(missing, "no tokens to re-encrypt"))
    count = operations.rotate_tokens(settings.DATABASE_URL, settings.STRETCHBOT_ENCRYPTION_KEY)
    print(
        f"re-encrypted {count} token value(s) with the first key of STRETCHBOT_ENCRYPTION_KEY; "
        "the other keys can now be removed from it"
    )
    return 0
