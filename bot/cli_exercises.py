"""`stretchbot exercises import FILE --team T...` / `exercises export --team T... [--out FILE]`:
a workspace's own exercises kept in a YAML file (format: bot/exercise_files.py).

Registered into the CLI by `bot.cli`. An import checks the whole file before it touches the
database: a file with any bad line prints one error per bad line and changes nothing; a good
one replaces the workspace's exercises and switched-off built-ins in one transaction.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import operations
from bot.cli_database import CommandFailed, missing_database, reason
from bot.config import load_maintenance_settings
from bot.exercise_files import MAX_FILE_BYTES, read_file

if TYPE_CHECKING:
    from bot.services import Services

PLATFORMS = ("slack", "teams")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    exercises = sub.add_parser(
        "exercises",
        help="import or export a workspace's own exercises as a YAML file",
        description="A workspace's own exercises (and the built-ins it turned off) as a YAML "
        "file, for admins who keep their list in a file. See the README for the format.",
    )
    actions = exercises.add_subparsers(dest="exercises_command", metavar="ACTION", required=True)
    imported = actions.add_parser(
        "import",
        help="replace the workspace's exercises with the file's",
        description="Checks the whole file first: any bad line is reported (one error per "
        "line) and nothing changes. A good file replaces the workspace's own exercises and "
        "its switched-off built-ins; channel packs stay.",
    )
    imported.add_argument("file", type=Path, metavar="FILE.yaml", help="the exercises file")
    _team_arguments(imported)
    imported.set_defaults(func=_import)
    exported = actions.add_parser(
        "export",
        help="print the workspace's exercises as a YAML file",
        description="Prints the workspace's own exercises and switched-off built-ins in the "
        "format `exercises import` reads (or writes them to --out).",
    )
    _team_arguments(exported)
    exported.add_argument("--out", type=Path, metavar="FILE", help="write here, not to stdout")
    exported.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    exported.set_defaults(func=_export)


def _team_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--team", required=True, help="the workspace (Slack team id, T...)")
    parser.add_argument(
        "--platform", default="slack", choices=PLATFORMS, help="the platform of --team"
    )


def _nothing_stored(platform: str, team: str) -> str:
    return (
        f"nothing is stored for {platform} team {team}: check the team id, --platform and "
        "DATABASE_URL (the bot must have been installed there)"
    )


def _import(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandFailed(f"{path} is larger than {MAX_FILE_BYTES:,} bytes: nothing changed")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CommandFailed(f"{path} is not UTF-8 text: nothing changed") from None
    except OSError as exc:
        raise CommandFailed(f"cannot read {path} ({reason(exc)}): nothing changed") from None
    checked = read_file(text)
    if checked.errors:
        for error in checked.errors:
            print(f"{path}: {error}", file=sys.stderr)
        count = len(checked.errors)
        raise CommandFailed(
            f"{path}: {count} problem{'' if count == 1 else 's'}: nothing was changed"
        )
    settings = load_maintenance_settings()
    if missing_database(settings.DATABASE_URL) is not None:
        raise CommandFailed(_nothing_stored(args.platform, args.team))

    async def work(services: Services) -> bool:
        workspace = await services.tenancy.workspaces.get(platform=args.platform, team_id=args.team)
        if workspace is None:
            return False
        await services.exercises.import_file(platform=args.platform, team_id=args.team, text=text)
        return True

    if not operations.on_services(settings.DATABASE_URL, work):
        raise CommandFailed(_nothing_stored(args.platform, args.team))
    print(
        f"imported {len(checked.exercises)} exercise(s) and {len(checked.off)} built-in(s) "
        f"turned off for {args.platform} team {args.team}"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    out: Path | None = args.out
    if out is not None and (out.exists() or out.is_symlink()) and not args.force:
        raise CommandFailed(f"{out} exists already: pass --force to overwrite it")
    settings = load_maintenance_settings()
    if missing_database(settings.DATABASE_URL) is not None:
        raise CommandFailed(_nothing_stored(args.platform, args.team))

    async def work(services: Services) -> str | None:
        workspace = await services.tenancy.workspaces.get(platform=args.platform, team_id=args.team)
        if workspace is None:
            return None
        return await services.exercises.export_file(platform=args.platform, team_id=args.team)

    text = operations.on_services(settings.DATABASE_URL, work)
    if text is None:
        raise CommandFailed(_nothing_stored(args.platform, args.team))
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandFailed(f"cannot write {out} ({reason(exc)}): choose another --out") from None
    print(f"{out}: written")
    return 0
