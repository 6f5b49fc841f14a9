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

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from bot.reminders import BusyStatus

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///stretchbot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"

# One line per setting that says how to fix it; shown when the value is missing or malformed.
HINTS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "set it to the Bot User OAuth Token (xoxb-...) from your Slack app's "
    "OAuth & Permissions page, or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install the bot "
    "into many workspaces from a link (OAuth mode)",
    "SLACK_CLIENT_ID": "set it to the Client ID from your Slack app's Basic Information page "
    "(OAuth mode needs it with SLACK_CLIENT_SECRET)",
    "SLACK_CLIENT_SECRET": "set it to the Client Secret from your Slack app's Basic Information "
    "page (OAuth mode needs it with SLACK_CLIENT_ID)",
    "SLACK_REDIRECT_URI": "use the https URL of /slack/oauth_redirect on this bot, exactly as "
    "listed under Redirect URLs in your Slack app (http only for localhost), or leave it unset",
    "SLACK_AUTHORIZE_URL": "use an https URL such as https://slack.com/oauth/v2/authorize "
    "(http only for localhost), or leave it unset for Slack's",
    "STRETCHBOT_ENCRYPTION_KEY": "use a key printed by `stretchbot keygen` (several keys: "
    "comma-separated, the first one encrypts)",
    "DATA_RETENTION_DAYS": "use a whole number of days from 0 to 3650",
    "NOW_COOLDOWN_MINUTES": "use a whole number of minutes from 0 (no limit) to 1440",
    "COMMANDS_PER_MINUTE": "use a whole number from 1 to 1000",
    "SLACK_APP_TOKEN": "set it to an app-level token (xapp-...) with the connections:write scope "
    "(your Slack app's Basic Information, App-Level Tokens) for Socket Mode, or, for HTTP "
    "mode, leave it unset and set SLACK_SIGNING_SECRET",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from your Slack app's Basic Information "
    "page (needed in HTTP mode, i.e. when SLACK_APP_TOKEN is not set)",
    "DATABASE_URL": "use sqlite+aiosqlite:///path/to/file.db or "
    "postgresql+asyncpg://user:password@host:5432/dbname",
    "SLACK_API_URL": "use an http(s) URL ending in /api/, e.g. https://slack.com/api/",
    "PORT": "use a whole number from 1 to 65535",
    "HOST": "use an IP address or host name of this machine to listen on, e.g. 0.0.0.0 (all "
    "interfaces), 127.0.0.1 or ::, or leave it unset for 0.0.0.0",
    "NUDGE_GRACE_MINUTES": "use a whole number of minutes from 0 to 1440",
    "SCHEDULER_POLL_SECONDS": "use a number of seconds from 0.5 to 30, e.g. 5 or 2.5",
    "LOG_LEVEL": "use one of DEBUG, INFO, WARNING, ERROR",
    "PUBLIC_URL": "use the https address where Slack and Teams reach this bot, e.g. "
    "https://stretch.example.com (http only for localhost), or leave it unset",
    "EXERCISE_PICTURES": "use on or off",
    "DEFAULT_TIMEZONE": "use an IANA timezone name such as Europe/Berlin or UTC",
    "POST_CONCURRENCY": "use a whole number from 1 to 1000",
    "SLACK_WORKSPACE_CONCURRENCY": "use a whole number from 1 to 100",
    "BUSY_STATUS_EMOJI": "use status emoji names separated by commas, e.g. "
    "calendar,headphones (empty: the defaults)",
    "BUSY_STATUS_WORDS": "use words separated by commas, e.g. in a meeting,on a call "
    "(empty: the defaults)",
    "REMINDER_RETRY_MINUTES": "use a whole number of minutes from 1 to 240",
    # Microsoft Teams, in the Microsoft 365 Agents SDK's own keys (see README, Microsoft Teams).
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "set it to the Microsoft App ID (a "
    "GUID) of your Azure Bot, or unset all three CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ "
    "keys to run without Teams",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "set it to a client secret of the "
    "Azure Bot's app registration (Certificates & secrets)",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": "set it to the Directory (tenant) ID "
    "of the Azure Bot's app registration",
}
TEAMS_SETTINGS_PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# A DNS host name (RFC 1123): dot-separated labels of letters, digits and inner hyphens.
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# Where a plain-http URL cannot leak anything: this machine.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


# ---- checks: one per setting, shared by the quick path and the pydantic models ----------------
# Each returns the value to keep or raises ValueError with the message shown after the name.


def check_teams_app_id(value: str) -> str:
    value = value.strip()
    if value and not _GUID.match(value):
        raise ValueError("is not an app id (a GUID like 00000000-0000-0000-0000-000000000000)")
    return value


def check_listen_host(value: str) -> str:
    """`value` if it is an IP address or a host name; "999.1.1.1" is neither (it is no IPv4
    address, and a host name's last label is never all digits)."""
    value = value.strip()
    if not value:
        raise ValueError("is empty")
    try:
        ipaddress.ip_address(value.removeprefix("[").removesuffix("]"))
        return value.removeprefix("[").removesuffix("]")
    except ValueError:
        pass
    labels = value.removesuffix(".").split(".")
    if (
        len(value) > 253
        or not all(_HOST_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(f"is not an IP address or a host name ({value!r})")
    return value


def check_https_url(value: str) -> str:
    """`value` if it is an https URL, or an http one to this machine (a local fake or a
    tunnel's local end), where nothing sent over it can be read on the way."""
    value = value.strip()
    if not value:
        return value
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [ in the host
        host = None
    if not host or parts.scheme not in ("http", "https"):
        raise ValueError("is not an https URL")
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        raise ValueError("is a plain http URL: OAuth codes would cross the network unencrypted")
    return value


def check_known_timezone(value: str) -> str:
    """The IANA name for `value` in any case, as `/stretch every ... tz` accepts it."""
    from bot.schedules import canonical_timezone  # the parser's rule, so both agree

    zone = canonical_timezone(value.strip())
    if zone is None:
        raise ValueError(f"is not a known timezone ({value.strip()!r})")
    return zone


def check_database_url(value: str) -> str:
    value = value.strip()
    if value.startswith("sqlite:///"):
        value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
    elif value.startswith(("postgres://", "postgresql://")):
        value = "postgresql+asyncpg://" + value.split("://", 1)[1]
    if not value.startswith(("sqlite+aiosqlite:///", "postgresql+asyncpg://")):
        raise ValueError("is not a supported database URL")
    return value


def check_encryption_key(value: str) -> str:
    parse_keys(value)  # ValueError names the bad key's position, never the key
    return value.strip()


def check_bot_token(value: str) -> str:
    value = value.strip()  # required unless in OAuth mode: see mode_error
    if value and not value.startswith("xoxb-"):
        raise ValueError("must be a bot token starting with xoxb-")
    return value


def check_app_token(value: str) -> str:
    value = value.strip()
    if value and not value.startswith("xapp-"):
        raise ValueError("must be an app-level token starting with xapp-")
    return value


def check_api_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value if value.endswith("/") else value + "/"


def check_oauth_url(value: str) -> str:
    # Both carry OAuth codes and state: in clear text anyone on the path could install
    # the bot into their workspace or take the code.
    return check_https_url(value)


def check_authorize_url(value: str) -> str:
    return check_https_url(value) or DEFAULT_SLACK_AUTHORIZE_URL


def check_public_url(value: str) -> str:
    """The bot's public https address (pictures are fetched from it), without a trailing /."""
    try:
        value = check_https_url(value)
    except ValueError as exc:
        if "plain http" in str(exc):
            raise ValueError(
                "is a plain http URL: Slack and Teams fetch pictures only over https"
            ) from None
        raise
    if value and (urlsplit(value).query or urlsplit(value).fragment):
        raise ValueError("has a query or fragment: use the plain address")
    return value.rstrip("/")


# What pydantic reads as a bool (any case), and what this quick path reads alike.
TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE_WORDS = frozenset({"0", "off", "f", "false", "n", "no"})


def _strip(value: str) -> str:
    return value.strip()


def teams_error(teams: Mapping[str, str]) -> str | None:
    """Teams is all three settings or none: "NAME: is not set" for the first one missing."""
    if any(teams.values()):
        for name, value in teams.items():
            if not value:
                return f"{name}: is not set"
    return None


def mode_error(
    client_id: str, client_secret: str, bot_token: str, app_token: str, signing_secret: str
) -> str | None:
    """ "NAME: why" when the Slack settings make no mode (token or OAuth; Socket or HTTP)."""
    if client_id or client_secret:
        if not client_id:
            return "SLACK_CLIENT_ID: is not set"
        if not client_secret:
            return "SLACK_CLIENT_SECRET: is not set"
    elif not bot_token:
        return "SLACK_BOT_TOKEN: is not set"
    if not app_token and not signing_secret.strip():
        # Neither mode is configured. The quick start (README) runs in Socket Mode, so
        # its missing piece is the app token; HTTP mode is the hint's alternative.
        return "SLACK_APP_TOKEN: is not set (Socket Mode needs it)"
    return None


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line that names it and the fix."""


def parse_keys(value: str) -> list[str]:
    """The Fernet keys in a `STRETCHBOT_ENCRYPTION_KEY` value (comma-separated, first encrypts).

    Raises:
        ValueError: a key is not a Fernet key (32 url-safe base64-encoded bytes); the message
            says which one, never the key itself.
    """
    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:  # the usual token-mode case: no need to load the cryptography library
        return keys
    from cryptography.fernet import Fernet  # only when a key is configured

    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError(f"key {position} of {len(keys)} is not a Fernet key") from None
    return keys


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
