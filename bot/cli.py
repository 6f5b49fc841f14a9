"""`stretchbot run | preview | db upgrade | db current`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import maintenance, schedules
from bot.commands import REGISTRY
from bot.commands.schedule import ScheduleCommand
from bot.config import ConfigError, load_database_settings, load_settings, load_teams_app_id
from bot.grammar import ParseError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(f"stretchbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stretchbot", description="Movement-break bot for Slack.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="start the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    run.set_defaults(func=_run)

    preview = sub.add_parser("preview", help="print the slots a schedule text gives, one per line")
    preview.add_argument("text", help='schedule text, e.g. "every 45m 09:00-17:00 weekdays"')
    preview.add_argument("--tz", help="timezone when the text has no `tz` (default: UTC)")
    preview.add_argument("--start", type=_date, help="first day, YYYY-MM-DD (default: today)")
    preview.add_argument("--days", type=_days, default=7, help="how many days (default: 7)")
    preview.set_defaults(func=_preview)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    upgrade = db_sub.add_parser("upgrade", help="bring the schema up to date (run does this too)")
    upgrade.set_defaults(func=_db_upgrade)
    current = db_sub.add_parser("current", help="print the schema revision")
    current.set_defaults(func=_db_current)
    maintenance.add_commands(sub)  # keygen, manifest, purge, export, rotate-key

    package = sub.add_parser("teams-package", help="build the Microsoft Teams app package (zip)")
    package.add_argument(
        "--out",
        type=Path,
        default=Path("stretchbot-teams.zip"),
        help="where to write the zip (default: ./stretchbot-teams.zip)",
    )
    package.add_argument(
        "--app-id",
        help="the Azure Bot's Microsoft App ID "
        "(default: CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID)",
    )
    package.set_defaults(func=_teams_package)
    return parser


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


def _preview(args: argparse.Namespace) -> int:
    text = args.text.strip()
    text = text.removeprefix("/stretch").strip()
    command = REGISTRY.parse(text)
    if isinstance(command, ParseError):
        hint = f" Try: {command.usage}" if command.usage else ""
        print(f"stretchbot: {command.message}{hint}", file=sys.stderr)
        return 2
    if not isinstance(command, ScheduleCommand):
        print(
            'stretchbot: preview takes a schedule, e.g. "every 45m 09:00-17:00 weekdays"',
            file=sys.stderr,
        )
        return 2
    tz = args.tz or "UTC"
    try:
        ZoneInfo(tz)
    except Exception:
        print(
            f"stretchbot: --tz {tz!r} is not a known timezone; use a name like Europe/Berlin",
            file=sys.stderr,
        )
        return 2
    spec = command.to_spec(tz)
    zone = ZoneInfo(spec.tz)
    first = args.start or datetime.now(zone).date()
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(
        first + timedelta(days=args.days), datetime.min.time(), tzinfo=zone
    ).astimezone(UTC)
    for slot in schedules.slots_between(spec, start, end):
        print(slot.astimezone(zone).isoformat())
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage.engine import create_engine, current_revision, run_migrations

    settings = load_database_settings()

    async def upgrade() -> str | None:
        engine = create_engine(settings.DATABASE_URL)
        try:
            await run_migrations(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(upgrade())
    print(f"database is at revision {revision}")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from storage.engine import create_engine, current_revision, head_revision

    settings = load_database_settings()

    async def current() -> str | None:
        engine = create_engine(settings.DATABASE_URL)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(current())
    head = head_revision()
    state = "up to date" if revision == head else f"behind head {head}; run `stretchbot db upgrade`"
    print(f"{revision or 'empty'} ({state})")
    return 0


def _teams_package(args: argparse.Namespace) -> int:
    from handlers.teams.package import PackageError, build_package

    app_id = args.app_id or load_teams_app_id()
    if not app_id:
        print(
            "stretchbot: no app id: pass --app-id or set "
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID to the Azure Bot's Microsoft App ID",
            file=sys.stderr,
        )
        return 2
    try:
        out = build_package(args.out, app_id.strip())
    except PackageError as exc:
        print(f"stretchbot: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}: upload it in Teams (Apps, Manage your apps, Upload an app)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
