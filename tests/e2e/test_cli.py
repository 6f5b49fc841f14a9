"""The short-lived `stretchbot` commands as a shell user meets them: the real console script.

What an operator can get wrong (an unreachable database, a bad output path, a closed pipe, a
mistyped team id or setting) ends in one line on stderr and a non-zero exit, never a traceback;
commands that only read create nothing; every command and option explains itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import zipfile
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.ports import ChannelKey
from storage.engine import create_engine, run_migrations
from storage.sql import SqlStorage, SqlTenancy
from tests.e2e.conftest import clean_environ, nonempty_lines, run_cli, stretchbot_command

pytestmark = pytest.mark.e2e

TEAM = "T0CLI"
APP_ID = "00000000-0000-0000-0000-000000000000"
REFUSED_POSTGRES = "postgresql+asyncpg://postgres:s3cret@127.0.0.1:1/stretchbot"
KEY = "hJ9e7gTG6-nGBk2xa3bJHnxA4qY7o8HQYI6bI9yN3cQ="  # a Fernet key, for rotate-key


def one_line_failure(result: subprocess.CompletedProcess[str], *, code: int = 1) -> str:
    """The single stderr line of a command that failed the way a user should see it."""
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = nonempty_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stretchbot: "), lines
    return lines[0]


def seed(url: str) -> None:
    """A migrated database holding one nudge of workspace TEAM (installed)."""

    async def run() -> None:
        engine = create_engine(url)
        try:
            await run_migrations(engine)
            await SqlTenancy(engine).workspaces.ensure(platform="slack", team_id=TEAM)
            await SqlStorage(engine).nudges.create_adhoc(
                channel=ChannelKey("slack", TEAM, "C0CLI"), exercise_key="heel-lifts"
            )
        finally:
            await engine.dispose()

    asyncio.run(run())


# ---- item 15: the database cannot be reached ---------------------------------------------------

DATABASE_COMMANDS = {
    "db upgrade": ("db", "upgrade"),
    "db current": ("db", "current"),
    "purge": ("purge",),
    "purge --team": ("purge", "--team", TEAM),
    "export": ("export", "--team", TEAM),
    "rotate-key": ("rotate-key",),
}


@pytest.mark.parametrize("command", DATABASE_COMMANDS.values(), ids=list(DATABASE_COMMANDS))
@pytest.mark.parametrize("where", ["postgres refused", "sqlite under a file"])
def test_an_unreachable_database_is_one_line_naming_database_url(
    tmp_path: Path, command: tuple[str, ...], where: str
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be\n")
    database = blocker / "stretchbot.db"
    url = REFUSED_POSTGRES if where.startswith("postgres") else f"sqlite+aiosqlite:///{database}"
    env = {"DATABASE_URL": url, "STRETCHBOT_ENCRYPTION_KEY": KEY}
    result = run_cli(*command, cwd=tmp_path, env=env)
    line = one_line_failure(result)
    assert "DATABASE_URL" in line
    assert re.search(r"\b(set|check)\b", line), line  # says what to do
    assert "s3cret" not in line  # the password is never printed
    assert result.stdout == ""
    assert blocker.read_text() == "a file where a folder should be\n"
    assert not database.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
@pytest.mark.parametrize("command", DATABASE_COMMANDS.values(), ids=list(DATABASE_COMMANDS))
def test_a_sqlite_file_in_a_read_only_folder_is_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        url = f"sqlite+aiosqlite:///{locked / 'missing' / 'stretchbot.db'}"
        env = {"DATABASE_URL": url, "STRETCHBOT_ENCRYPTION_KEY": KEY}
        line = one_line_failure(run_cli(*command, cwd=tmp_path, env=env))
        assert "DATABASE_URL" in line
        assert not (locked / "missing").exists()
    finally:
        locked.chmod(0o755)


def test_db_current_on_a_missing_sqlite_file_leaves_it_missing(tmp_path: Path) -> None:
    database = tmp_path / "data" / "stretchbot.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    result = run_cli("db", "current", cwd=tmp_path, env=env)
    assert result.returncode == 0, result
    assert result.stdout.startswith("empty (no database file at"), result.stdout
    assert "stretchbot db upgrade" in result.stdout
    assert result.stderr == ""
    assert not database.exists() and not database.parent.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (("purge",), "nothing to purge"),
        (("purge", "--team", TEAM), "nothing is stored"),
        (("export", "--team", TEAM), "nothing is stored"),
        (("rotate-key",), "no tokens to re-encrypt"),
    ],
)
def test_maintenance_commands_never_create_a_missing_database(
    tmp_path: Path, command: tuple[str, ...], says: str
) -> None:
    database = tmp_path / "stretchbot.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "STRETCHBOT_ENCRYPTION_KEY": KEY}
    line = one_line_failure(run_cli(*command, cwd=tmp_path, env=env))
    assert says in line and "DATABASE_URL" in line
    assert list(tmp_path.iterdir()) == []


# ---- item 15: export's output, purge of an unknown team ---------------------------------------


@pytest.fixture
def seeded(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stretchbot.db'}"
    seed(url)
    return {"DATABASE_URL": url}


def test_export_to_a_file_or_below_one_is_one_line(tmp_path: Path, seeded: dict[str, str]) -> None:
    target = tmp_path / "taken"
    target.write_text("mine\n")
    for out in (target, target / "below"):
        line = one_line_failure(
            run_cli("export", "--team", TEAM, "--out", str(out), cwd=tmp_path, env=seeded)
        )
        assert "is a file, not a folder" in line, line
    assert target.read_text() == "mine\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_export_into_a_read_only_folder_is_one_line(tmp_path: Path, seeded: dict[str, str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = run_cli("export", "--team", TEAM, "--out", str(locked), cwd=tmp_path, env=seeded)
        assert "not writable" in one_line_failure(result)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_export_never_overwrites_without_force(tmp_path: Path, seeded: dict[str, str]) -> None:
    out = tmp_path / "acme"
    first = run_cli("export", "--team", TEAM, "--out", str(out), cwd=tmp_path, env=seeded)
    assert first.returncode == 0, first
    written = sorted(path.name for path in out.iterdir())
    assert written == [
        "breaks.csv",
        "channels.csv",
        "exercises.csv",
        "group_breaks.csv",
        "nudges.csv",
    ]
    (out / "nudges.csv").write_text("edited by an admin\n")

    again = run_cli("export", "--team", TEAM, "--out", str(out), cwd=tmp_path, env=seeded)
    line = one_line_failure(again)
    assert "--force" in line and "exists" in line
    assert (out / "nudges.csv").read_text() == "edited by an admin\n"

    forced = run_cli(
        "export", "--team", TEAM, "--out", str(out), "--force", cwd=tmp_path, env=seeded
    )
    assert forced.returncode == 0, forced
    assert (out / "nudges.csv").read_text().startswith("nudge_id,")


def test_purge_of_a_team_never_seen_exits_1(tmp_path: Path, seeded: dict[str, str]) -> None:
    for platform in ("slack", "teams"):
        result = run_cli(
            "purge", "--team", "T_UNKNOWN", "--platform", platform, cwd=tmp_path, env=seeded
        )
        line = one_line_failure(result)
        assert f"nothing is stored for {platform} team T_UNKNOWN" in line
    # The known, still installed team is refused as before, and its data is kept.
    assert run_cli("purge", "--team", TEAM, cwd=tmp_path, env=seeded).returncode == 2
    export = run_cli("export", "--team", TEAM, "--out", "kept", cwd=tmp_path, env=seeded)
    assert export.returncode == 0, export


# ---- item 15: a closed pipe ---------------------------------------------------------------------


def test_preview_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`stretchbot preview ... | head -1`: the reader leaves after one line."""
    process = subprocess.Popen(
        [
            *stretchbot_command(),
            "preview",
            "every 15m 00:00-23:59 daily",
            "--tz",
            "UTC",
            "--start",
            "2026-01-01",
            "--days",
            "3660",  # megabytes: far more than a pipe buffers
        ],
        cwd=tmp_path,
        env=clean_environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    code = process.wait(timeout=60)
    assert first == b"2026-01-01T00:15:00+00:00\n"
    assert stderr == "", stderr
    assert code in (0, 1)


# ---- item 16: version, help, manifest URL, Teams package, preview -----------------------------


def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0, result
    assert result.stdout.strip() == f"stretchbot {metadata.version('stretchbot')}"


def test_top_level_help_names_slack_and_teams(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0, result
    text = " ".join(result.stdout.split())
    assert "Slack" in text and "Microsoft Teams" in text
    assert "--version" in text


def test_every_command_and_option_has_a_description(tmp_path: Path) -> None:
    commands = [
        "run",
        "preview",
        "db",
        "keygen",
        "manifest",
        "purge",
        "export",
        "rotate-key",
        "exercises",
    ]
    for words in ([name] for name in [*commands, "teams-package"]):
        result = run_cli(*words, "--help", cwd=tmp_path)
        assert result.returncode == 0, (words, result)
    for words in (
        ["db", "upgrade"],
        ["db", "current"],
        ["exercises", "import"],
        ["exercises", "export"],
    ):
        assert run_cli(*words, "--help", cwd=tmp_path).returncode == 0

    def walk(parser: object, path: str) -> list[str]:
        import argparse

        assert isinstance(parser, argparse.ArgumentParser)
        problems = []
        if not parser.description:
            problems.append(f"{path}: no description")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                described = {choice.dest for choice in action._choices_actions if choice.help}
                for name, child in action.choices.items():
                    if name not in described:
                        problems.append(f"{path} {name}: no summary in the command list")
                    problems += walk(child, f"{path} {name}")
            elif not action.help or action.help == argparse.SUPPRESS:
                problems.append(f"{path}: {action.option_strings or action.dest} has no help")
        return problems

    assert walk(build_parser(), "stretchbot") == []


@pytest.mark.parametrize(
    "url",
    [
        "https://bot.example.com",
        "https://bot.example.com/",
        "https://bot.example.com/slack/events",
        "https://bot.example.com/slack/events/",
    ],
)
def test_manifest_url_may_be_the_base_or_the_events_url(tmp_path: Path, url: str) -> None:
    result = run_cli("manifest", "--json", "--url", url, cwd=tmp_path)
    assert result.returncode == 0, result
    manifest = json.loads(result.stdout)
    events = "https://bot.example.com/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == events
    assert manifest["settings"]["interactivity"]["request_url"] == events
    assert [c["url"] for c in manifest["features"]["slash_commands"]] == [events]
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://bot.example.com/slack/oauth_redirect"
    ]
    assert "/slack/events/slack/events" not in result.stdout


def test_manifest_url_is_https_except_on_this_machine(tmp_path: Path) -> None:
    local = run_cli("manifest", "--json", "--url", "http://localhost:3000", cwd=tmp_path)
    assert local.returncode == 0, local
    assert '"http://localhost:3000/slack/events"' in local.stdout
    remote = run_cli("manifest", "--url", "http://bot.example.com", cwd=tmp_path)
    assert "https" in one_line_failure(remote, code=2)


def test_teams_package_warns_about_the_example_developer_links(tmp_path: Path) -> None:
    result = run_cli("teams-package", "--app-id", APP_ID, "--out", "app.zip", cwd=tmp_path)
    assert result.returncode == 0, result
    [warning] = nonempty_lines(result.stderr)
    assert warning.startswith("stretchbot: warning: ") and "example.com" in warning
    assert "--manifest" in warning
    assert zipfile.ZipFile(tmp_path / "app.zip").testzip() is None  # still built

    # A copy with the organisation's own links: no warning, and the links are in the zip.
    with zipfile.ZipFile(tmp_path / "app.zip") as package:
        manifest = json.loads(package.read("manifest.json"))
    manifest["id"] = manifest["bots"][0]["botId"] = "{{APP_ID}}"
    manifest["developer"].update(
        websiteUrl="https://acme.test/stretch",
        privacyUrl="https://acme.test/privacy",
        termsOfUseUrl="https://acme.test/terms",
    )
    own = tmp_path / "own" / "manifest.json"
    own.parent.mkdir()
    own.write_text(json.dumps(manifest))
    result = run_cli(
        "teams-package",
        "--app-id",
        APP_ID,
        "--manifest",
        str(own),
        "--out",
        "own.zip",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result
    assert result.stderr == "", result.stderr
    with zipfile.ZipFile(tmp_path / "own.zip") as package:
        built = json.loads(package.read("manifest.json"))
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert built["developer"]["privacyUrl"] == "https://acme.test/privacy"
    assert built["id"] == APP_ID


def test_teams_package_to_an_unwritable_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    result = run_cli("teams-package", "--app-id", APP_ID, "--out", "taken/app.zip", cwd=tmp_path)
    assert "is a file, not a folder" in one_line_failure(result)


SCHEDULE = "every 45m 09:00-17:00 weekdays"
MONDAY = ("--start", "2026-11-23", "--days", "1")


def offsets(stdout: str) -> set[str]:
    return {datetime.fromisoformat(line).strftime("%z") for line in stdout.split()}


def test_preview_takes_default_timezone_from_the_environment_or_dotenv(tmp_path: Path) -> None:
    from_env = run_cli(
        "preview", SCHEDULE, *MONDAY, cwd=tmp_path, env={"DEFAULT_TIMEZONE": "europe/berlin"}
    )
    assert from_env.returncode == 0, from_env
    assert from_env.stdout.split()[0] == "2026-11-23T09:45:00+01:00"
    assert offsets(from_env.stdout) == {"+0100"}

    (tmp_path / ".env").write_text("DEFAULT_TIMEZONE=America/New_York\n")
    from_dotenv = run_cli("preview", SCHEDULE, *MONDAY, cwd=tmp_path)
    assert offsets(from_dotenv.stdout) == {"-0500"}, from_dotenv
    option_wins = run_cli("preview", SCHEDULE, *MONDAY, "--tz", "Asia/Tokyo", cwd=tmp_path)
    assert offsets(option_wins.stdout) == {"+0900"}, option_wins
    text_wins = run_cli("preview", SCHEDULE + " tz Asia/Kolkata", *MONDAY, cwd=tmp_path)
    assert offsets(text_wins.stdout) == {"+0530"}, text_wins

    (tmp_path / ".env").write_text("DEFAULT_TIMEZONE=Mars/Olympus\n")
    bad = run_cli("preview", SCHEDULE, *MONDAY, cwd=tmp_path)
    assert "DEFAULT_TIMEZONE" in one_line_failure(bad, code=2)


def test_preview_says_when_the_range_has_no_slots(tmp_path: Path) -> None:
    weekend = ("--start", "2026-11-28", "--days", "2")
    result = run_cli("preview", SCHEDULE, "--tz", "UTC", *weekend, cwd=tmp_path)
    assert result.returncode == 0, result
    assert result.stdout == ""
    [note] = nonempty_lines(result.stderr)
    assert "no slots" in note and "2026-11-28" in note


@pytest.mark.parametrize("text", ["sometimes", "every 3m", "every banana", "45m", "now"])
def test_preview_errors_speak_to_a_shell_user(tmp_path: Path, text: str) -> None:
    line = one_line_failure(run_cli("preview", text, "--tz", "UTC", cwd=tmp_path), code=2)
    assert "/stretch" not in line, line
    assert 'stretchbot preview "every 45m' in line, line


# ---- item 18: a bad HOST is reported as HOST ----------------------------------------------------


def test_a_bad_host_is_named_as_host_not_port(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-cli",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": "http://127.0.0.1:1/api/",  # nothing may be reached anyway
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'stretchbot.db'}",
        "HOST": "999.1.1.1",
        "PORT": "3000",
    }
    line = one_line_failure(run_cli("run", cwd=tmp_path, env=env, timeout=60), code=2)
    assert line.startswith("stretchbot: HOST "), line
    assert "PORT" not in line
    assert not (tmp_path / "stretchbot.db").exists()


def test_preview_in_another_language(tmp_path: Path) -> None:
    german = run_cli(
        "preview", SCHEDULE, *MONDAY, "--tz", "Europe/Berlin", "--lang", "de", cwd=tmp_path
    )
    assert german.returncode == 0, german
    first = german.stdout.splitlines()[0]
    assert first == "2026-11-23T09:45:00+01:00  Mo., 23. Nov. 2026, 09:45 CET", first
    japanese = run_cli(
        "preview", SCHEDULE, *MONDAY, "--tz", "Asia/Tokyo", "--lang", "ja-JP", cwd=tmp_path
    )
    assert japanese.stdout.splitlines()[0].endswith("2026年11月23日(月) 9:45 JST"), japanese

    unknown = run_cli("preview", SCHEDULE, *MONDAY, "--lang", "klingon", cwd=tmp_path)
    assert "--lang 'klingon'" in one_line_failure(unknown, code=2)
