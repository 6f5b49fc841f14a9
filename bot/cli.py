"""The `stretchbot` console script: `run`, `preview`, `db`, `teams-package`, and the operator
commands of `bot.maintenance`; every failure a user can cause is one line on stderr."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import cli_exercises, maintenance, schedules
from bot.cli_database import CommandFailed, reason
from bot.commands import REGISTRY
from bot.commands.language import language_of
from bot.commands.schedule import ScheduleCommand
from bot.config import (
    ConfigError,
    load_database_settings,
    load_default_timezone,
    load_settings,
    load_teams_app_id,
)
from bot.grammar import ParseError
from bot.i18n import LANGUAGES, _, format_clock, format_day, use_locale

DESCRIPTION = (
    "stretchbot keeps teams that sit all day moving: scheduled movement-break nudges, breaks "
    "logged with a reaction or a Done button, and leaderboards, in Slack and Microsoft Teams "
    "channels. Settings come from the environment or a .env file in the working directory "
    "(see the README's Configuration)."
)
PREVIEW_EXAMPLE = "every 45m 09:00-17:00 weekdays"
# The schedule grammar's words after `/stretch every`, for usage lines shown in a shell.
PREVIEW_USAGE = (
    'stretchbot preview "every 45m [09:00-17:00] [weekdays|daily|mon-thu|mon,wed,fri] '
    '[tz Europe/Berlin] [holidays US]"'
)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # inside the try: a reader that went away shows up here too
    except BrokenPipeError:
        # `stretchbot preview ... | head -1`: the reader has all it wanted. As the Python docs
        # recommend (signal module, "Note on SIGPIPE"), point stdout at devnull so the flush at
        # interpreter exit cannot raise again, and exit quietly with 1.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


def _dispatch(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(f"stretchbot: {exc}", file=sys.stderr)
        return 2
    except CommandFailed as exc:
        print(f"stretchbot: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return result


def version() -> str:
    """The installed distribution's version (what `pip show stretchbot` says)."""
    # Imported here: importlib.metadata brings zipfile, csv, email and more (~1 MB) into the
    # running bot, which never asks for its version.
    from importlib import metadata

    try:
        return metadata.version("stretchbot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """`--version`, like argparse's own, with the version read only when it is asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.pop("nargs", None)
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        sys.stdout.write(f"{parser.prog} {version()}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every command and option carries its own description."""
    parser = argparse.ArgumentParser(
        prog="stretchbot",
        description=DESCRIPTION,
        epilog="Run `stretchbot COMMAND --help` for what a command does and its options.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="print the installed version and exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    run = _command(
        sub,
        "run",
        "start the bot (Slack Socket Mode with SLACK_APP_TOKEN, else HTTP; Teams when configured)",
        "Connects to Slack (Socket Mode when SLACK_APP_TOKEN is set, otherwise it serves "
        "POST /slack/events on HOST:PORT), serves Microsoft Teams on POST /api/messages when "
        "the CONNECTIONS__SERVICE_CONNECTION__SETTINGS__* settings are set, brings the database "
        "schema up to date and posts the scheduled nudges until SIGTERM or Ctrl-C.",
    )
    run.set_defaults(func=_run)

    preview = _command(
        sub,
        "preview",
        "print the slots a schedule text gives, one per line",
        "Prints the nudge times a schedule would give, one ISO 8601 time with its UTC offset "
        "per line, with the same code the bot uses. The timezone is the text's `tz`, else "
        "--tz, else DEFAULT_TIMEZONE, else UTC.",
    )
    preview.add_argument("text", help=f'schedule text as after /stretch, e.g. "{PREVIEW_EXAMPLE}"')
    preview.add_argument(
        "--tz",
        metavar="ZONE",
        help="timezone when the text has no `tz`, e.g. Europe/Berlin "
        "(default: DEFAULT_TIMEZONE, else UTC)",
    )
    preview.add_argument(
        "--start", type=_date, metavar="YYYY-MM-DD", help="first day (default: today)"
    )
    preview.add_argument(
        "--days", type=_days, default=7, metavar="N", help="how many days, 1 to 3660 (default: 7)"
    )
    preview.add_argument(
        "--lang",
        metavar="LANG",
        help="also print each slot as people read it in that language: de, es, fr, pt-BR, ja, "
        "en (after the ISO time, two spaces apart)",
    )
    preview.set_defaults(func=_preview)

    db = _command(
        sub,
        "db",
        "database schema: `db upgrade`, `db current`",
        "The database schema (Alembic migrations) of DATABASE_URL.",
    )
    db_sub = db.add_subparsers(
        dest="db_command", metavar="COMMAND", title="commands", required=True
    )
    upgrade = _command(
        db_sub,
        "upgrade",
        "bring the schema up to date (`run` does this too); creates a SQLite file",
        "Brings the schema of DATABASE_URL up to the newest revision (a no-op when it is) and "
        "prints the revision. Creates a missing SQLite file.",
    )
    upgrade.set_defaults(func=_db_upgrade)
    current = _command(
        db_sub,
        "current",
        "print the schema revision and whether it is up to date",
        "Prints the schema revision of DATABASE_URL and whether it is up to date. Changes "
        "nothing; a SQLite file that does not exist yet is reported as empty, not created.",
    )
    current.set_defaults(func=_db_current)

    maintenance.add_commands(sub)  # keygen, manifest, purge, export, rotate-key
    cli_exercises.add_commands(sub)  # exercises import | export

    package = _command(
        sub,
        "teams-package",
        "build the Microsoft Teams app package (zip) to upload in Teams",
        "Builds the app package Teams needs (manifest.json with the bot's app id, and the two "
        "icons) from the manifest shipped with stretchbot or your own (--manifest).",
    )
    package.add_argument(
        "--out",
        type=Path,
        default=Path("stretchbot-teams.zip"),
        metavar="ZIP",
        help="where to write the zip (default: ./stretchbot-teams.zip)",
    )
    package.add_argument(
        "--app-id",
        metavar="GUID",
        help="the Azure Bot's Microsoft App ID "
        "(default: CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID)",
    )
    package.add_argument(
        "--manifest",
        type=Path,
        metavar="FILE",
        help="your own manifest.json template, e.g. a copy of the shipped one with your "
        "developer links; color.png and outline.png are taken from its folder when there "
        "(default: the one shipped with stretchbot)",
    )
    package.set_defaults(func=_teams_package)
    return parser


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary (in the list) and description (in its --help)."""
    return sub.add_parser(name, help=summary, description=description)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-23") from None


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= days <= 3660:
        raise argparse.ArgumentTypeError("--days must be from 1 to 3660")
    return days


def _configure_logging(level: str) -> None:
    logging.Formatter.converter = time.gmtime
    logging.basicConfig(
        level=level,
        format="%(asctime)sZ %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # slack_sdk logs every retry at DEBUG/INFO; keep it to warnings unless asked.
    if level != "DEBUG":
        logging.getLogger("slack_sdk").setLevel(logging.WARNING)
        logging.getLogger("slack_bolt").setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("microsoft_agents").setLevel(logging.WARNING)
        logging.getLogger("msal").setLevel(logging.WARNING)


def _run(args: argparse.Namespace) -> int:
    # SIGTERM while still importing and starting up: note it, start nothing more, exit 0.
    # (The default action would kill the process half-started, with exit code -15.)
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    settings = load_settings()
    _configure_logging(settings.LOG_LEVEL)
    from bot.app import StartupError, run  # imported here so `preview` and `--help` stay fast

    try:
        asyncio.run(run(settings, stop_requested=lambda: bool(stopping)))
    except StartupError as exc:
        print(f"stretchbot: {exc}", file=sys.stderr)
        return 1
    return 0


# ---- preview ---------------------------------------------------------------------------------


def _preview(args: argparse.Namespace) -> int:
    locale = None
    if args.lang is not None:
        locale = language_of(args.lang)
        if locale is None:
            raise CommandFailed(
                f"--lang {args.lang!r} is not a language I speak: use one of "
                + ", ".join(code.replace("_", "-") for code in LANGUAGES),
                exit_code=2,
            )
    with use_locale(locale):
        return _print_slots(args, localized=locale is not None)


def _print_slots(args: argparse.Namespace, *, localized: bool) -> int:
    command = _schedule_command(args.text)
    zone_name = command.tz or _preview_zone(args.tz)
    spec = command.to_spec(zone_name)
    zone = ZoneInfo(spec.tz)
    first = args.start or datetime.now(zone).date()
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(
        first + timedelta(days=args.days), datetime.min.time(), tzinfo=zone
    ).astimezone(UTC)
    count = 0
    for slot in schedules.slots_between(spec, start, end):
        local = slot.astimezone(zone)
        if localized:
            shown = _("{date} {time}").format(
                date=format_day(local.date(), with_year=True),
                time=f"{format_clock(local)} {local.tzname()}",
            )
            print(f"{local.isoformat()}  {shown}")
        else:
            print(local.isoformat())
        count += 1
    if count == 0:
        last = first + timedelta(days=args.days - 1)
        span = f"on {first}" if last == first else f"from {first} to {last}"
        print(
            f"stretchbot: no slots {span} in {spec.tz}: the schedule's days, window or "
            "holidays leave none; try more --days or another --start",
            file=sys.stderr,
        )
    return 0


def _schedule_command(text: str) -> ScheduleCommand:
    """The schedule in `text`, parsed by the bot's own parser."""
    text = text.strip().removeprefix("/stretch").strip()
    command = REGISTRY.parse(text)
    if isinstance(command, ParseError):
        raise CommandFailed(shell_message(command.message, command.usage), exit_code=2)
    if not isinstance(command, ScheduleCommand):
        raise CommandFailed(
            f'preview takes a schedule, e.g. "{PREVIEW_EXAMPLE}"; usage: {PREVIEW_USAGE}',
            exit_code=2,
        )
    return command


def _preview_zone(option: str | None) -> str:
    if option is None:
        return load_default_timezone()  # ConfigError names DEFAULT_TIMEZONE
    zone = schedules.canonical_timezone(option.strip())
    if zone is None:
        raise CommandFailed(
            f"--tz {option!r} is not a known timezone: use an IANA name like Europe/Berlin",
            exit_code=2,
        )
    return zone


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def shell_message(message: str, usage: str) -> str:
    """A parser error as a shell user should read it: the parser speaks to people in Slack or
    Teams ("Try `/stretch help`"), which means nothing at a prompt; its usage line becomes
    the `stretchbot preview` one."""
    sentences = [part for part in _SENTENCE_END.split(message.strip()) if part]
    kept = [part for part in sentences if "/stretch help" not in part]
    text = " ".join(kept).replace("`/stretch ", "`").strip() or "That is not a schedule."
    words = usage.strip().removeprefix("/stretch").strip()
    shown = f'stretchbot preview "{words}"' if words.startswith("every ") else PREVIEW_USAGE
    return f"{text} Usage: {shown}"


# ---- database --------------------------------------------------------------------------------


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.operations import upgrade_schema

    settings = load_database_settings()
    revision = upgrade_schema(settings.DATABASE_URL)
    print(f"database is at revision {revision}")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from bot.cli_database import check_creatable, missing_database
    from bot.operations import head_revision, schema_revision

    settings = load_database_settings()
    head = head_revision()
    missing = missing_database(settings.DATABASE_URL)
    if missing is not None:
        # Only "empty" when `db upgrade` could make it; otherwise DATABASE_URL is wrong.
        check_creatable(settings.DATABASE_URL)
        print(
            f"empty (no database file at {missing} from DATABASE_URL yet: `stretchbot db "
            "upgrade` or `stretchbot run` creates it)"
        )
        return 0
    revision = schema_revision(settings.DATABASE_URL)
    state = "up to date" if revision == head else f"behind head {head}; run `stretchbot db upgrade`"
    print(f"{revision or 'empty'} ({state})")
    return 0


# ---- Teams -----------------------------------------------------------------------------------


def _teams_package(args: argparse.Namespace) -> int:
    from bot.operations import teams_package

    app_id = args.app_id or load_teams_app_id()
    if not app_id:
        print(
            "stretchbot: no app id: pass --app-id or set "
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID to the Azure Bot's Microsoft App ID",
            file=sys.stderr,
        )
        return 2
    try:
        built = teams_package(args.out, app_id.strip(), manifest=args.manifest)
    except OSError as exc:
        raise CommandFailed(
            f"cannot write {args.out} ({reason(exc)}): "
            "pass --out with a path in a folder you can write"
        ) from None
    if built.example_links:
        print(
            f"stretchbot: warning: the package still has the example developer links "
            f"({', '.join(built.example_links)}): before you publish it outside your "
            f"organisation, copy {built.template}, set developer.websiteUrl, privacyUrl and "
            "termsOfUseUrl in the copy, and pass it with --manifest",
            file=sys.stderr,
        )
    print(f"wrote {built.path}: upload it in Teams (Apps, Manage your apps, Upload an app)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
