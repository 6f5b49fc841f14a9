"""The quick settings reader (bot.config) and the pydantic-settings models (bot.config_model)
read every input alike: the same values, or the same one-line error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot import config, config_model
from bot.config import ConfigError

BASE = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "signing"}
GUID = "00000000-0000-4000-8000-000000000001"
TEAMS = {
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": GUID,
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": " secret ",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": "tenant",
}
# Values each setting may be given: plain and unusual spellings, good and bad.
NUMBERS = ["0", "1", "5", "007", "30", "1440", "3650", "65535", "65536", "99999999", "-1", "+5",
           " 5", "5 ", "1.0", "1.5", "1_000", "1e3", "", " ", "five", "٣", "0x10"]  # fmt: skip
DECIMALS = ["0.5", "0.4", "2.5", "5", "30", "30.0", "30.5", "1e1", "nan", "inf", "-inf", ".5",
            "5.", " 2 ", "1_0", "", "soon", "0.50000000001"]  # fmt: skip
TEXTS: dict[str, list[str]] = {
    "DATABASE_URL": ["sqlite:///x.db", "sqlite+aiosqlite:///y.db", " postgres://u@h/d ",
                     "postgresql://u@h/d", "mysql://x", ""],
    "LOG_LEVEL": ["debug", "INFO", "Warning", "error", "trace", "", " info"],
    "STRETCHBOT_ENCRYPTION_KEY": ["", " ", "not-a-key", "a,b"],
    "SLACK_BOT_TOKEN": ["xoxb-2", " xoxb-3 ", "xoxp-1", ""],
    "SLACK_CLIENT_ID": ["", " 123.456 "],
    "SLACK_CLIENT_SECRET": ["", "s3cret"],
    "SLACK_REDIRECT_URI": ["", "https://bot.example/slack/oauth_redirect",
                           "http://bot.example/x", "http://localhost:3000/x", "ftp://x", "http://[::1"],
    "SLACK_AUTHORIZE_URL": ["", " ", "https://slack.example/auth", "http://evil.example/a"],
    "SLACK_SIGNING_SECRET": ["", " ", "sig"],
    "SLACK_APP_TOKEN": ["", "xapp-1", "xoxb-1"],
    "SLACK_API_URL": ["http://127.0.0.1:1/api", "https://slack.com/api/", "slack.com", ""],
    "HOST": ["127.0.0.1", "[::1]", "::", "bot.example", "999.1.1.1", "bad_host", "", " h "],
    "DEFAULT_TIMEZONE": ["UTC", "europe/berlin", " America/New_York ", "Mars/Base", ""],
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": ["", GUID, "not-a-guid"],
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": ["", "x"],
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": ["", "t"],
    "BUSY_STATUS_EMOJI": ["", "calendar,headphones", " , "],
    "BUSY_STATUS_WORDS": ["", "in a meeting,on a call"],
    "PUBLIC_URL": ["", "https://bot.example", "https://bot.example/", "http://bot.example",
                   "http://localhost:3000", "https://bot.example/?q=1", "https://b.example/#x",
                   "bot.example", " https://bot.example/base/ "],
}  # fmt: skip
BOOLEANS = ["on", "off", "ON", " Off ", "true", "False", "1", "0", "yes", "no", "y", "n", "t",
            "f", "", " ", "maybe", "2", "onn"]  # fmt: skip


def cases() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{}, dict(BASE), {**BASE, **TEAMS}]
    for name, kind in config.Settings.FIELDS.items():
        values = (
            NUMBERS
            if kind is int
            else DECIMALS
            if kind is float
            else BOOLEANS
            if kind is bool
            else TEXTS[name]
        )
        out += [{**BASE, name: value} for value in values]
    out += [
        {"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2", "SLACK_APP_TOKEN": "xapp-1"},
        {"SLACK_CLIENT_SECRET": "2", "SLACK_SIGNING_SECRET": "s"},
        {**BASE, "PORT": 0, "NOW_COOLDOWN_MINUTES": 0},  # what test fixtures pass
        {**BASE, "SCHEDULER_POLL_SECONDS": 1, "PORT": True},
        {**BASE, "EXERCISE_PICTURES": False, "REMINDER_RETRY_MINUTES": 240},
    ]
    return out


def outcome(read: Any) -> Any:
    try:
        return ("ok", read())
    except ConfigError as exc:
        return ("error", str(exc))


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in config.Settings.FIELDS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("clean_environ")
@pytest.mark.parametrize("kind", sorted(config_model.MODELS))
def test_both_readers_agree_on_every_case(kind: str) -> None:
    cls = getattr(config, kind)
    compared = 0
    for values in cases():
        quick = outcome(lambda values=values: cls(None, **values).__dict__)
        reference = outcome(lambda values=values: config_model.validate(kind, values, None))
        assert quick == reference, values
        compared += 1
    assert compared > 150


@pytest.mark.usefixtures("clean_environ")
def test_both_readers_rank_given_values_environment_and_env_file_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "SLACK_BOT_TOKEN=xoxb-file\nPORT=4000\nHOST=file.example\nLOG_LEVEL=debug\n"
        "GRACE=7\nNUDGE_GRACE_MINUTES=${GRACE}\nUNKNOWN=1\nexport POST_CONCURRENCY='9'\n"
        '# a comment\nSLACK_SIGNING_SECRET="from file"\n'
    )
    monkeypatch.setenv("PORT", "5000")  # the environment beats the file
    for values in ({}, {"HOST": "given.example"}, {"PORT": "6000", "SLACK_BOT_TOKEN": "xoxb-g"}):
        quick = config.load_settings(values, env_file=str(env_file))
        reference = config_model.validate("Settings", values, str(env_file))
        assert quick.__dict__ == reference
    assert config.load_settings({}, env_file=str(env_file)).PORT == 5000
    assert config.load_settings({}, env_file=str(env_file)).NUDGE_GRACE_MINUTES == 7

    env_file.write_text("SLACK_BOT_TOKEN\nSLACK_SIGNING_SECRET=s\n")  # a name without `=`
    assert outcome(lambda: config.load_settings({}, env_file=str(env_file)).__dict__) == outcome(
        lambda: config_model.validate("Settings", {}, str(env_file))
    )
    env_file.write_bytes(b"SLACK_BOT_TOKEN=xoxb-\xff\n")  # not UTF-8
    with pytest.raises(UnicodeDecodeError):
        config_model.validate("Settings", {}, str(env_file))
    with pytest.raises(UnicodeDecodeError):
        config.load_settings({}, env_file=str(env_file))


def test_fields_and_defaults_are_the_models() -> None:
    for kind, model in config_model.MODELS.items():
        cls = getattr(config, kind)
        assert list(cls.FIELDS) == list(model.model_fields)
        for name, field in model.model_fields.items():
            assert getattr(cls, name) == field.default, name
            expected = str if name == "LOG_LEVEL" else field.annotation
            assert cls.FIELDS[name] is expected, name


def test_reading_good_settings_does_not_load_pydantic(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-1\nSLACK_SIGNING_SECRET=s\nPORT=3001\n")
    code = (
        "import sys\n"
        "from bot.config import load_settings\n"
        "settings = load_settings()\n"
        "assert settings.PORT == 3001 and settings.SLACK_BOT_TOKEN == 'xoxb-1'\n"
        "print(sorted(m for m in sys.modules if m.startswith('pydantic')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in config.Settings.FIELDS}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
