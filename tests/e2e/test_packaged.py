"""`pip install .` as an operator does it: stretchbot built into a wheel, installed NOT editable
into a fresh virtualenv, and every console command run from a folder outside the checkout.

An editable install (all the rest of the suite uses one) reads everything from the checkout, so
a file the wheel forgets (the Slack manifest, the Teams template and icons, the migrations) goes
unnoticed there. Here nothing of the checkout is importable: the fresh venv holds only the wheel,
and sees this interpreter's site-packages for the dependencies through a .pth file (whose own
.pth files, the editable install's finder among them, are not run from there).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.e2e.conftest import (
    BOT_TOKEN,
    SECRET,
    STARTUP_TIMEOUT,
    clean_environ,
    free_port,
    nonempty_lines,
)
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
APP_ID = "00000000-0000-0000-0000-000000000000"
SCHEDULE = "every 45m 09:00-17:00 weekdays"
# Not part of what `pip install .` builds from: caches, environments, earlier builds, data.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.db",
    "*.db-*",
    "*.log",
)


def isolated_environ() -> dict[str, str]:
    """The clean e2e environment without anything that adds import paths from outside."""
    return {
        name: value
        for name, value in clean_environ().items()
        if name not in ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONSTARTUP")
    }


def _run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=isolated_environ(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@dataclass(frozen=True)
class Installed:
    """A fresh venv with stretchbot installed from its wheel, and a folder to work in."""

    bin: Path
    version: str
    work: Path

    def run(
        self, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "stretchbot"), *args],
            cwd=self.work,
            env={**isolated_environ(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.work / 'stretchbot.db'}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("packaged")
    source = root / "source"
    # A copy, so no earlier build/ of the checkout (setuptools reuses its files) can slip in.
    shutil.copytree(REPO, source, symlinks=True, ignore=_NOT_SOURCE)
    wheels = root / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, source)
    [wheel] = wheels.glob("stretchbot-*.whl")
    venv = root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    # The wheel first, while the venv sees nothing else: pip must not find (and replace) the
    # editable install of this checkout.
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        wheel,
    )
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    dependencies = sysconfig.get_paths()["purelib"]
    Path(site.stdout.strip(), "_stretchbot_dependencies.pth").write_text(dependencies + "\n")
    work = root / "work"
    work.mkdir()
    version = wheel.name.split("-")[1]
    return Installed(bin=venv / "bin", version=version, work=work)


def test_the_code_runs_from_the_venv_not_the_checkout(installed: Installed) -> None:
    where = _run(
        installed.bin / "python",
        "-c",
        "import bot.app, handlers.slack.app, handlers.teams.app, storage.engine\n"
        "for m in (bot.app, handlers.slack.app, handlers.teams.app, storage.engine): print(m.__file__)",
        cwd=installed.work,
    )
    files = where.stdout.split()
    assert len(files) == 4
    venv = str(installed.bin.parent)
    assert all(file.startswith(venv) for file in files), files
    assert not any(file.startswith(str(REPO)) for file in files), files


def test_version(installed: Installed) -> None:
    result = installed.run("--version")
    assert result.returncode == 0, result
    assert result.stdout.strip() == f"stretchbot {installed.version}"


HELPS = [
    [],
    ["run"],
    ["preview"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["keygen"],
    ["manifest"],
    ["purge"],
    ["export"],
    ["rotate-key"],
    ["teams-package"],
    ["exercises"],
    ["exercises", "import"],
    ["exercises", "export"],
]


@pytest.mark.parametrize("words", HELPS, ids=[" ".join(w) or "stretchbot" for w in HELPS])
def test_help_of_every_command(installed: Installed, words: list[str]) -> None:
    result = installed.run(*words, "--help")
    assert result.returncode == 0, result
    assert result.stdout.startswith("usage: stretchbot"), result.stdout
    assert result.stderr == ""


def test_preview(installed: Installed) -> None:
    result = installed.run(
        "preview", SCHEDULE, "--tz", "Europe/Berlin", "--start", "2026-11-23", "--days", "1"
    )
    assert result.returncode == 0, result
    lines = result.stdout.split()
    assert len(lines) == 10 and lines[0] == "2026-11-23T09:45:00+01:00", lines


def test_preview_in_german_from_the_shipped_catalogs(installed: Installed) -> None:
    """The compiled catalogs (.mo) are package data: the installed wheel speaks German."""
    result = installed.run(
        "preview",
        SCHEDULE,
        "--tz",
        "Europe/Berlin",
        "--start",
        "2026-11-23",
        "--days",
        "1",
        "--lang",
        "de",
    )
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[0].endswith("Mo., 23. Nov. 2026, 09:45 CET"), result.stdout


def test_manifest_for_a_host(installed: Installed) -> None:
    result = installed.run("manifest", "--url", "https://bot.example.com")
    assert result.returncode == 0, result
    manifest = yaml.safe_load(result.stdout)
    events = "https://bot.example.com/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == events
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest == yaml.safe_load(_shipped_for_host(events))


def _shipped_for_host(events: str) -> str:
    from handlers.slack.manifest import http_manifest, load_manifest, render

    return render(http_manifest(load_manifest(REPO / "manifest.yml"), events))


def test_teams_package(installed: Installed) -> None:
    out = installed.work / "teams" / "x.zip"
    result = installed.run("teams-package", "--app-id", APP_ID, "--out", str(out))
    assert result.returncode == 0, result
    [warning] = nonempty_lines(result.stderr)  # the example developer links
    assert "warning" in warning and str(installed.bin.parent) in warning
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["id"] == APP_ID
    assert manifest["version"] == re.match(r"\d+\.\d+\.\d+", installed.version).group()  # type: ignore[union-attr]


def test_database_commands(installed: Installed) -> None:
    env = {"DATABASE_URL": installed.database_url}
    database = installed.work / "stretchbot.db"

    current = installed.run("db", "current", env=env)
    assert current.returncode == 0, current
    assert current.stdout.startswith("empty"), current.stdout
    assert not database.exists()

    upgrade = installed.run("db", "upgrade", env=env)  # the migrations are in the wheel
    assert upgrade.returncode == 0, upgrade
    revision = re.search(r"revision (\w+)", upgrade.stdout)
    assert revision, upgrade.stdout
    current = installed.run("db", "current", env=env)
    assert current.stdout.strip() == f"{revision.group(1)} (up to date)", current

    purge = installed.run("purge", env=env)
    assert purge.returncode == 0 and "nothing to purge" in purge.stdout, purge
    export = installed.run("export", "--team", "T0NONE", env=env)
    assert export.returncode == 1 and "nothing is stored" in export.stderr, export
    exercises = installed.run("exercises", "export", "--team", "T0NONE", env=env)
    assert exercises.returncode == 1 and "nothing is stored" in exercises.stderr, exercises

    keygen = installed.run("keygen")
    assert keygen.returncode == 0, keygen
    key = keygen.stdout.strip()
    assert len(key) == 44, key
    rotate = installed.run("rotate-key", env={**env, "STRETCHBOT_ENCRYPTION_KEY": key})
    assert rotate.returncode == 0 and "re-encrypted 0 token" in rotate.stdout, rotate


async def test_run_serves_slack_until_sigterm(installed: Installed) -> None:
    async with FakeSlack(team_id="T0001") as slack, aiohttp.ClientSession() as http:
        port = free_port()
        env = {
            **isolated_environ(),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{installed.work / 'run.db'}",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "PUBLIC_URL": "https://bot.example.com",
        }
        bot = await asyncio.create_subprocess_exec(
            str(installed.bin / "stretchbot"),
            "run",
            cwd=installed.work,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            if not await _healthy(http, f"http://127.0.0.1:{port}/healthz", bot):
                bot.kill()
                _, stderr = await bot.communicate()
                raise AssertionError(f"no 200 from /healthz\n{stderr.decode()}")
            # The exercise pictures are package data: the installed bot serves them.
            for path in sorted((REPO / "bot" / "assets" / "exercises").glob("*.png")):
                data = path.read_bytes()
                version = hashlib.sha256(data).hexdigest()[:12]
                url = f"http://127.0.0.1:{port}/pictures/{path.stem}-{version}.png"
                async with http.get(url) as picture:
                    assert picture.status == 200, (url, picture.status)
                    assert await picture.read() == data
            bot.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(bot.communicate(), 15)
            assert bot.returncode == 0, stderr.decode()
            assert b"Traceback" not in stderr, stderr.decode()
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()


async def _healthy(http: aiohttp.ClientSession, url: str, bot: asyncio.subprocess.Process) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while loop.time() < deadline and bot.returncode is None:
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                if resp.status == 200:
                    return True
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.1)
    return False
