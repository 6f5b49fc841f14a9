"""Settings: every bad value is one line that names the setting and says how to fix it."""

from __future__ import annotations

import re

import pytest

from bot.config import (
    HINTS,
    ConfigError,
    DatabaseSettings,
    MaintenanceSettings,
    PreviewSettings,
    Settings,
    TeamsAppSettings,
    _SettingsBase,
    load_default_timezone,
    load_settings,
)

BASE = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "signing"}
FIX = re.compile(r": (use|set|leave|unset)\b")


def error_line(**changes: str) -> str:
    with pytest.raises(ConfigError) as error:
        load_settings({**BASE, **changes}, env_file=None)
    line = str(error.value)
    assert "\n" not in line
    return line


def numeric_fields() -> dict[str, type]:
    return {name: kind for name, kind in Settings.FIELDS.items() if kind in (int, float)}


def test_every_setting_has_a_hint() -> None:
    classes: list[type[_SettingsBase]] = [
        DatabaseSettings,
        MaintenanceSettings,
        Settings,
        TeamsAppSettings,
        PreviewSettings,
    ]
    names = {name for cls in classes for name in cls.FIELDS}
    assert names - set(HINTS) == set()


# ---- item 18 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["999.1.1.1", "1.2.3.4.5", "bad_host", "-dash.example", "a b"])
def test_a_bad_host_is_a_host_problem(host: str) -> None:
    line = error_line(HOST=host)
    assert line.startswith("HOST is not an IP address or a host name"), line
    assert "PORT" not in line and FIX.search(line)


@pytest.mark.parametrize(
    ("host", "kept"),
    [
        ("0.0.0.0", "0.0.0.0"),
        ("127.0.0.1", "127.0.0.1"),
        ("::", "::"),
        ("[::1]", "::1"),
        ("localhost", "localhost"),
        ("bot-1.internal.example", "bot-1.internal.example"),
    ],
)
def test_addresses_and_host_names_are_hosts(host: str, kept: str) -> None:
    settings = load_settings({**BASE, "HOST": host}, env_file=None)
    assert kept == settings.HOST


def test_a_fractional_grace_says_whole_minutes() -> None:
    line = error_line(NUDGE_GRACE_MINUTES="1.5")
    assert line.startswith("NUDGE_GRACE_MINUTES is not a whole number ('1.5')"), line
    assert "whole number of minutes" in line


@pytest.mark.parametrize("name", sorted(numeric_fields()))
def test_every_numeric_setting_explains_a_bad_value(name: str) -> None:
    kind = numeric_fields()[name]
    wrong = error_line(**{name: "1.5" if kind is int else "soon"})
    expected = "is not a whole number" if kind is int else "is not a number"
    assert wrong.startswith(f"{name} {expected}"), wrong
    assert FIX.search(wrong), wrong
    assert re.search(r"from [\d.]+ .*to [\d.]+", wrong), wrong  # the hint gives the range

    assert error_line(**{name: " "}).startswith(f"{name} is empty: "), name
    huge = error_line(**{name: "99999999"})
    assert huge.startswith(f"{name} is out of range ('99999999')"), huge


def test_not_a_number_is_not_a_number() -> None:
    assert error_line(SCHEDULER_POLL_SECONDS="nan").startswith(
        "SCHEDULER_POLL_SECONDS is not a number"
    )


@pytest.mark.parametrize("spelling", ["europe/berlin", "EUROPE/BERLIN", " Europe/Berlin "])
def test_default_timezone_accepts_any_case_like_the_command(spelling: str) -> None:
    settings = load_settings({**BASE, "DEFAULT_TIMEZONE": spelling}, env_file=None)
    assert settings.DEFAULT_TIMEZONE == "Europe/Berlin"
    assert load_default_timezone({"DEFAULT_TIMEZONE": spelling}, env_file=None) == "Europe/Berlin"


def test_an_unknown_default_timezone_is_named() -> None:
    line = error_line(DEFAULT_TIMEZONE="Mars/Olympus")
    assert line.startswith("DEFAULT_TIMEZONE is not a known timezone ('Mars/Olympus')")
    assert "Europe/Berlin" in line
    assert load_default_timezone({}, env_file=None) == "UTC"


# ---- item 12 (settings half) ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SLACK_AUTHORIZE_URL", "SLACK_REDIRECT_URI"])
@pytest.mark.parametrize(
    "url",
    [
        "http://slack.com/oauth/v2/authorize",
        "http://bot.example.com/slack/oauth_redirect",
        "http://10.0.0.5:3000/slack/oauth_redirect",
        "http://127.0.0.1.nip.io/slack/oauth_redirect",
        "ftp://bot.example.com/x",
        "https://",
    ],
)
def test_oauth_urls_must_be_https_off_this_machine(name: str, url: str) -> None:
    line = error_line(**{name: url})
    assert line.startswith(f"{name} is "), line
    assert "https" in line and FIX.search(line), line


@pytest.mark.parametrize("name", ["SLACK_AUTHORIZE_URL", "SLACK_REDIRECT_URI"])
@pytest.mark.parametrize(
    "url",
    [
        "https://bot.example.com/slack/oauth_redirect",
        "http://localhost:3000/slack/oauth_redirect",
        "http://127.0.0.1:3000/slack/oauth_redirect",
        "http://[::1]:3000/slack/oauth_redirect",
    ],
)
def test_oauth_urls_may_be_http_on_this_machine(name: str, url: str) -> None:
    assert getattr(load_settings({**BASE, name: url}, env_file=None), name) == url


def test_an_empty_authorize_url_means_slacks() -> None:
    settings = load_settings({**BASE, "SLACK_AUTHORIZE_URL": ""}, env_file=None)
    assert settings.SLACK_AUTHORIZE_URL == "https://slack.com/oauth/v2/authorize"


# ---- every message ------------------------------------------------------------------------------

BAD_VALUES = {
    "DATABASE_URL": "mysql://root@db/x",
    "LOG_LEVEL": "chatty",
    "DATA_RETENTION_DAYS": "-1",
    "STRETCHBOT_ENCRYPTION_KEY": "hunter2",
    "SLACK_BOT_TOKEN": "xoxp-1",
    "SLACK_APP_TOKEN": "xoxb-1",
    "SLACK_API_URL": "slack.com/api",
    "SLACK_REDIRECT_URI": "http://bot.example.com/slack/oauth_redirect",
    "SLACK_AUTHORIZE_URL": "http://slack.com/oauth/v2/authorize",
    "HOST": "999.1.1.1",
    "PORT": "http",
    "NUDGE_GRACE_MINUTES": "1.5",
    "SCHEDULER_POLL_SECONDS": "0",
    "POST_CONCURRENCY": "0",
    "SLACK_WORKSPACE_CONCURRENCY": "many",
    "NOW_COOLDOWN_MINUTES": "5m",
    "COMMANDS_PER_MINUTE": "0",
    "DEFAULT_TIMEZONE": "Berlin",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "my-bot",
}


@pytest.mark.parametrize(("name", "value"), BAD_VALUES.items(), ids=list(BAD_VALUES))
def test_every_bad_value_names_the_setting_and_the_fix(name: str, value: str) -> None:
    line = error_line(**{name: value})
    assert line.startswith(f"{name} "), line
    assert FIX.search(line), line
    assert "hunter2" not in line and "root@db" not in line  # secrets are not echoed


def test_a_bot_token_alone_asks_for_the_app_token_of_the_quick_start() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, env_file=None)
    line = str(error.value)
    assert line.startswith("SLACK_APP_TOKEN is not set (Socket Mode needs it)"), line
    assert "SLACK_SIGNING_SECRET" in line  # the HTTP mode alternative is named too
