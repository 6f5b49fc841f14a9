"""Typed settings from the environment and a `.env` file; the only reader of `os.environ`.

The rules are pydantic-settings models (`bot.config_model`). Reading them costs ~8 MB of
resident memory (pydantic, pydantic-core, pydantic-settings), a tenth of the running bot's, for
a handful of values read once. So settings are read here first, by the same precedence (given
values, then the process environment, then `.env`, then the defaults) and the same check
functions; any value this quick path does not vouch for (a number not spelt in plain digits, a
value a check refuses, a `.env` that is not a regular file, ...) sends the whole read to the
pydantic models, which give the answer and every error message. Both readers agree by
construction, and `tests/unit/test_config_reader.py` compares them value by value."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from bot.config_checks import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SLACK_API_URL,
    DEFAULT_SLACK_AUTHORIZE_URL,
    FALSE_WORDS,
    HINTS,
    LOCAL_HOSTS,
    TEAMS_SETTINGS_PREFIX,
    TRUE_WORDS,
    ConfigError,
    _strip,
    check_api_url,
    check_app_token,
    check_authorize_url,
    check_bot_token,
    check_database_url,
    check_encryption_key,
    check_known_timezone,
    check_listen_host,
    check_oauth_url,
    check_public_url,
    check_teams_app_id,
    mode_error,
    parse_keys,
    teams_error,
)

if TYPE_CHECKING:
    from bot.reminders import BusyStatus

# What other modules read from here (the checks themselves live in bot.config_checks).
__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_SLACK_API_URL",
    "DEFAULT_SLACK_AUTHORIZE_URL",
    "HINTS",
    "LOCAL_HOSTS",
    "ConfigError",
    "DatabaseSettings",
    "MaintenanceSettings",
    "PreviewSettings",
    "Settings",
    "TeamsAppSettings",
    "load_database_settings",
    "load_default_timezone",
    "load_maintenance_settings",
    "load_settings",
    "load_teams_app_id",
    "parse_keys",
]

# ---- the settings ----------------------------------------------------------------------------

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR"})
# Whole numbers and ranges, as the pydantic models' Field(ge=..., le=...).
INT_RANGES: dict[str, tuple[int, int]] = {
    "DATA_RETENTION_DAYS": (0, 3650),
    "NOW_COOLDOWN_MINUTES": (0, 1440),
    "COMMANDS_PER_MINUTE": (1, 1000),
    "PORT": (0, 65535),
    "NUDGE_GRACE_MINUTES": (0, 1440),
    "POST_CONCURRENCY": (1, 1000),
    "SLACK_WORKSPACE_CONCURRENCY": (1, 100),
    "REMINDER_RETRY_MINUTES": (1, 240),
}
FLOAT_RANGES: dict[str, tuple[float, float]] = {"SCHEDULER_POLL_SECONDS": (0.5, 30.0)}
# The check of each text setting, in the order the pydantic models apply them.
TEXT_CHECKS: dict[str, Any] = {
    "DATABASE_URL": check_database_url,
    "STRETCHBOT_ENCRYPTION_KEY": check_encryption_key,
    "SLACK_BOT_TOKEN": check_bot_token,
    "SLACK_CLIENT_ID": _strip,
    "SLACK_CLIENT_SECRET": _strip,
    "SLACK_REDIRECT_URI": check_oauth_url,
    "SLACK_AUTHORIZE_URL": check_authorize_url,
    "SLACK_APP_TOKEN": check_app_token,
    "SLACK_API_URL": check_api_url,
    "HOST": check_listen_host,
    "DEFAULT_TIMEZONE": check_known_timezone,
    "PUBLIC_URL": check_public_url,
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": check_teams_app_id,
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": _strip,
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": _strip,
}
# Plain digits (what `int()` and pydantic-core read alike); a decimal with digits on both sides.
_PLAIN_INT = re.compile(r"[0-9]{1,18}")
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")


class _Unusual(Exception):
    """The quick path does not vouch for a value: the pydantic models decide."""


class _SettingsBase:
    """Settings read from given values, the environment and `.env` (see the module docstring).
    `Cls(_env_file=None, **values)` reads like `load_...(values, env_file=None)`."""

    FIELDS: ClassVar[dict[str, type]] = {}

    def __init__(self, _env_file: str | None = ".env", **values: Any) -> None:
        self.__dict__.update(_read(type(self), values, _env_file))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}=..." for name in self.FIELDS)
        return f"{type(self).__name__}({shown})"


class DatabaseSettings(_SettingsBase):
    """What `stretchbot db ...` needs: only the database."""

    FIELDS: ClassVar[dict[str, type]] = {"DATABASE_URL": str, "LOG_LEVEL": str}

    DATABASE_URL: str = DEFAULT_DATABASE_URL
    LOG_LEVEL: LogLevel = "INFO"

    @property
    def sqlite_path(self) -> Path | None:
        if self.DATABASE_URL.startswith("sqlite+aiosqlite:///"):
            return Path(self.DATABASE_URL.removeprefix("sqlite+aiosqlite:///"))
        return None


class MaintenanceSettings(DatabaseSettings):
    """What the maintenance commands (`purge`, `export`, `rotate-key`) need besides the database."""

    FIELDS: ClassVar[dict[str, type]] = {
        **DatabaseSettings.FIELDS,
        "DATA_RETENTION_DAYS": int,
        "STRETCHBOT_ENCRYPTION_KEY": str,
    }

    DATA_RETENTION_DAYS: int = 30
    STRETCHBOT_ENCRYPTION_KEY: str = ""


class Settings(MaintenanceSettings):
    """Process settings for `stretchbot run`. Field names are the environment variable names."""

    FIELDS: ClassVar[dict[str, type]] = {
        **MaintenanceSettings.FIELDS,
        "SLACK_BOT_TOKEN": str,
        "SLACK_CLIENT_ID": str,
        "SLACK_CLIENT_SECRET": str,
        "SLACK_REDIRECT_URI": str,
        "SLACK_AUTHORIZE_URL": str,
        "NOW_COOLDOWN_MINUTES": int,
        "COMMANDS_PER_MINUTE": int,
        "SLACK_SIGNING_SECRET": str,
        "SLACK_APP_TOKEN": str,
        "SLACK_API_URL": str,
        "HOST": str,
        "PORT": int,
        "NUDGE_GRACE_MINUTES": int,
        "SCHEDULER_POLL_SECONDS": float,
        "POST_CONCURRENCY": int,
        "SLACK_WORKSPACE_CONCURRENCY": int,
        "DEFAULT_TIMEZONE": str,
        "BUSY_STATUS_EMOJI": str,
        "BUSY_STATUS_WORDS": str,
        "REMINDER_RETRY_MINUTES": int,
        "EXERCISE_PICTURES": bool,
        "PUBLIC_URL": str,
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": str,
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": str,
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": str,
    }

    SLACK_BOT_TOKEN: str = ""
    SLACK_CLIENT_ID: str = ""
    SLACK_CLIENT_SECRET: str = ""
    SLACK_REDIRECT_URI: str = ""
    SLACK_AUTHORIZE_URL: str = DEFAULT_SLACK_AUTHORIZE_URL
    NOW_COOLDOWN_MINUTES: int = 5
    COMMANDS_PER_MINUTE: int = 10
    SLACK_SIGNING_SECRET: str = ""
    SLACK_APP_TOKEN: str = ""
    SLACK_API_URL: str = DEFAULT_SLACK_API_URL
    HOST: str = "0.0.0.0"
    PORT: int = 3000  # 0: any free port (tests)
    NUDGE_GRACE_MINUTES: int = 10
    SCHEDULER_POLL_SECONDS: float = 5.0
    POST_CONCURRENCY: int = 8
    SLACK_WORKSPACE_CONCURRENCY: int = 4
    DEFAULT_TIMEZONE: str = "UTC"
    # Personal reminders (bot/reminders.py): a status with one of these emoji or words means
    # "in a meeting" (comma-separated; empty: the defaults), and how long a reminder waits
    # when that status or a huddle says nothing about when it ends.
    BUSY_STATUS_EMOJI: str = ""
    BUSY_STATUS_WORDS: str = ""
    REMINDER_RETRY_MINUTES: int = 15
    # Exercise pictures in nudges (on by default); the bot's public address, from which Slack
    # and Teams fetch them (without it, Slack gets each picture uploaded once per workspace).
    EXERCISE_PICTURES: bool = True
    PUBLIC_URL: str = ""
    # Microsoft Teams is on when these are set (the Agents SDK's own environment keys).
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID: str = ""
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET: str = ""
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID: str = ""

    def busy_status(self) -> BusyStatus:
        """Which status emoji and words mean "in a meeting" (the defaults where unset)."""
        from bot.reminders import BusyStatus

        default = BusyStatus()
        emoji = [e for e in self.BUSY_STATUS_EMOJI.split(",") if e.strip()]
        words = [w for w in self.BUSY_STATUS_WORDS.split(",") if w.strip()]
        custom = BusyStatus.of(emoji, words)
        return BusyStatus(
            emoji=custom.emoji if emoji else default.emoji,
            words=custom.words if words else default.words,
        )

    @property
    def teams_enabled(self) -> bool:
        """Microsoft Teams is served (POST /api/messages) when its three settings are set."""
        return all(self.teams_sdk_settings().values())

    def teams_sdk_settings(self) -> dict[str, str]:
        """The Teams settings under their SDK keys, for `load_configuration_from_env`."""
        return {
            name: str(getattr(self, name))
            for name in self.FIELDS
            if name.startswith(TEAMS_SETTINGS_PREFIX)
        }

    @property
    def socket_mode(self) -> bool:
        return bool(self.SLACK_APP_TOKEN)

    @property
    def oauth_mode(self) -> bool:
        """Installable into many workspaces from a link (SLACK_CLIENT_ID and _SECRET set)."""
        return bool(self.SLACK_CLIENT_ID and self.SLACK_CLIENT_SECRET)


class TeamsAppSettings(_SettingsBase):
    """What `stretchbot teams-package` needs: the bot's Microsoft App ID, if configured."""

    FIELDS: ClassVar[dict[str, type]] = {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": str}

    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID: str = ""


class PreviewSettings(_SettingsBase):
    """What `stretchbot preview` needs: the timezone `run` gives a schedule that names none."""

    FIELDS: ClassVar[dict[str, type]] = {"DEFAULT_TIMEZONE": str}

    DEFAULT_TIMEZONE: str = "UTC"


S = TypeVar("S", bound=_SettingsBase)


def _read(
    cls: type[_SettingsBase], values: Mapping[str, Any], env_file: str | None
) -> dict[str, Any]:
    """The checked values of `cls`'s fields: from the quick path, or from the pydantic models
    when it does not vouch for every value (they raise ConfigError for a bad one)."""
    try:
        return _quick(cls, _sources(cls, values, env_file))
    except _Unusual:
        from bot.config_model import validate  # pydantic: only for what the quick path declines

        return validate(cls.__name__, values, env_file)


def _sources(
    cls: type[_SettingsBase], values: Mapping[str, Any], env_file: str | None
) -> dict[str, Any]:
    """The raw value of each field that is set, as pydantic-settings ranks its sources: given
    values, then the process environment, then the `.env` file (missing: no values)."""
    merged: dict[str, Any] = {}
    if env_file is not None:
        path = Path(env_file).expanduser()
        if path.is_fifo():  # read once only: leave it to pydantic-settings
            raise _Unusual
        if path.is_file():
            from dotenv import dotenv_values  # what pydantic-settings reads it with

            try:
                file_values = dotenv_values(path, encoding="utf-8")
            except Exception:  # undecodable, unreadable: pydantic-settings says how
                raise _Unusual from None
            for name in cls.FIELDS:
                if name in file_values:
                    if file_values[name] is None:  # `NAME` with no `=`
                        raise _Unusual
                    merged[name] = file_values[name]
    merged.update({name: os.environ[name] for name in cls.FIELDS if name in os.environ})
    merged.update({name: values[name] for name in cls.FIELDS if name in values})
    return merged


def _quick(cls: type[_SettingsBase], raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind in cls.FIELDS.items():
        if name not in raw:
            out[name] = getattr(cls, name)  # defaults are not checked (nor by pydantic)
            continue
        value = raw[name]
        if kind is int:
            out[name] = _whole_number(name, value)
        elif kind is float:
            out[name] = _decimal(name, value)
        elif kind is bool:
            out[name] = _boolean(value)
        elif type(value) is not str:
            raise _Unusual
        elif name == "LOG_LEVEL":
            if value.upper() not in LOG_LEVELS:
                raise _Unusual
            out[name] = value.upper()
        elif name in TEXT_CHECKS:
            try:
                out[name] = TEXT_CHECKS[name](value)
            except ValueError:
                raise _Unusual from None
        else:
            out[name] = value
    if issubclass(cls, Settings):
        teams = {name: out[name] for name in out if name.startswith(TEAMS_SETTINGS_PREFIX)}
        if teams_error(teams) or mode_error(
            out["SLACK_CLIENT_ID"],
            out["SLACK_CLIENT_SECRET"],
            out["SLACK_BOT_TOKEN"],
            out["SLACK_APP_TOKEN"],
            out["SLACK_SIGNING_SECRET"],
        ):
            raise _Unusual
    return out


def _whole_number(name: str, value: Any) -> int:
    if type(value) is int:
        number = value
    elif type(value) is str and _PLAIN_INT.fullmatch(value):
        number = int(value)
    else:
        raise _Unusual
    low, high = INT_RANGES[name]
    if not low <= number <= high:
        raise _Unusual
    return number


def _boolean(value: Any) -> bool:
    if type(value) is bool:
        return value
    word = value.strip().lower() if type(value) is str else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _Unusual


def _decimal(name: str, value: Any) -> float:
    if type(value) is float:
        number = value
    elif type(value) is str and _PLAIN_DECIMAL.fullmatch(value):
        number = float(value)
    else:
        raise _Unusual
    low, high = FLOAT_RANGES[name]
    if not low <= number <= high:  # also false for nan
        raise _Unusual
    return number


def load_settings(
    env: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
) -> Settings:
    """Read `stretchbot run` settings from `env` (default: the process environment) and `env_file`.

    Raises:
        ConfigError: with one line naming the first bad setting and how to fix it.
    """
    return _load(Settings, env, env_file)


def load_database_settings(
    env: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
) -> DatabaseSettings:
    """Read only the database settings (for `stretchbot db ...`)."""
    return _load(DatabaseSettings, env, env_file)


def load_teams_app_id(
    env: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
) -> str:
    """The Teams app (bot) id from the environment or `.env`; "" when not configured."""
    settings = _load(TeamsAppSettings, env, env_file)
    return settings.CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID


def load_default_timezone(
    env: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
) -> str:
    """`DEFAULT_TIMEZONE` from the environment or `.env` (canonical IANA name; default UTC).

    Raises:
        ConfigError: it is set to something that is not a timezone.
    """
    return _load(PreviewSettings, env, env_file).DEFAULT_TIMEZONE


def load_maintenance_settings(
    env: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
) -> MaintenanceSettings:
    """Read the settings of `stretchbot purge | export | rotate-key` (no Slack ones needed)."""
    return _load(MaintenanceSettings, env, env_file)


def _load(cls: type[S], env: Mapping[str, str] | None, env_file: str | None) -> S:
    source = os.environ if env is None else env
    known = {name: source[name] for name in cls.FIELDS if name in source}
    return cls(env_file, **known)
