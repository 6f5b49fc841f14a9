"""Typed settings from the environment and a `.env` file; the only reader of `os.environ`."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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


def _teams_app_id(value: str) -> str:
    value = value.strip()
    if value and not _GUID.match(value):
        raise ValueError("is not an app id (a GUID like 00000000-0000-0000-0000-000000000000)")
    return value


def _listen_host(value: str) -> str:
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


def _https_url(value: str) -> str:
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


def _known_timezone(value: str) -> str:
    """The IANA name for `value` in any case, as `/stretch every ... tz` accepts it."""
    from bot.schedules import canonical_timezone  # the parser's rule, so both agree

    zone = canonical_timezone(value.strip())
    if zone is None:
        raise ValueError(f"is not a known timezone ({value.strip()!r})")
    return zone


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


class DatabaseSettings(BaseSettings):
    """What `stretchbot db ...` needs: only the database."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    DATABASE_URL: str = DEFAULT_DATABASE_URL
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        elif value.startswith(("postgres://", "postgresql://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite:///", "postgresql+asyncpg://")):
            raise ValueError("is not a supported database URL")
        return value

    @property
    def sqlite_path(self) -> Path | None:
        if self.DATABASE_URL.startswith("sqlite+aiosqlite:///"):
            return Path(self.DATABASE_URL.removeprefix("sqlite+aiosqlite:///"))
        return None


class MaintenanceSettings(DatabaseSettings):
    """What the maintenance commands (`purge`, `export`, `rotate-key`) need besides the database."""

    DATA_RETENTION_DAYS: int = Field(default=30, ge=0, le=3650)
    STRETCHBOT_ENCRYPTION_KEY: str = ""

    @field_validator("STRETCHBOT_ENCRYPTION_KEY")
    @classmethod
    def _encryption_key(cls, value: str) -> str:
        parse_keys(value)  # ValueError names the bad key's position, never the key
        return value.strip()


class Settings(MaintenanceSettings):
    """Process settings for `stretchbot run`. Field names are the environment variable names."""

    SLACK_BOT_TOKEN: str = ""
    SLACK_CLIENT_ID: str = ""
    SLACK_CLIENT_SECRET: str = ""
    SLACK_REDIRECT_URI: str = ""
    SLACK_AUTHORIZE_URL: str = DEFAULT_SLACK_AUTHORIZE_URL
    NOW_COOLDOWN_MINUTES: int = Field(default=5, ge=0, le=1440)
    COMMANDS_PER_MINUTE: int = Field(default=10, ge=1, le=1000)
    SLACK_SIGNING_SECRET: str = ""
    SLACK_APP_TOKEN: str = ""
    SLACK_API_URL: str = DEFAULT_SLACK_API_URL
    HOST: str = "0.0.0.0"
    PORT: int = Field(default=3000, ge=0, le=65535)  # 0: any free port (tests)
    NUDGE_GRACE_MINUTES: int = Field(default=10, ge=0, le=1440)
    SCHEDULER_POLL_SECONDS: float = Field(default=5.0, ge=0.5, le=30, allow_inf_nan=False)
    POST_CONCURRENCY: int = Field(default=8, ge=1, le=1000)
    SLACK_WORKSPACE_CONCURRENCY: int = Field(default=4, ge=1, le=100)
    DEFAULT_TIMEZONE: str = "UTC"
    # Personal reminders (bot/reminders.py): a status with one of these emoji or words means
    # "in a meeting" (comma-separated; empty: the defaults), and how long a reminder waits
    # when that status or a huddle says nothing about when it ends.
    BUSY_STATUS_EMOJI: str = ""
    BUSY_STATUS_WORDS: str = ""
    REMINDER_RETRY_MINUTES: int = Field(default=15, ge=1, le=240)
    # Exercise pictures in nudges (on by default); the bot's public address, from which Slack
    # and Teams fetch them (without it, Slack gets each picture uploaded once per workspace).
    EXERCISE_PICTURES: bool = True
    PUBLIC_URL: str = ""
    # Microsoft Teams is on when these are set (the Agents SDK's own environment keys).
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID: str = ""
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET: str = ""
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID: str = ""

    @field_validator("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID")
    @classmethod
    def _teams_client_id(cls, value: str) -> str:
        return _teams_app_id(value)

    @field_validator(
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID",
    )
    @classmethod
    def _teams_strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _teams(self) -> Settings:
        teams = self.teams_sdk_settings()
        if any(teams.values()):
            for name, value in teams.items():
                if not value:
                    raise ValueError(f"{name}: is not set")
        return self

    def busy_status(self) -> BusyStatus:
        """Which status emoji and words mean "in a meeting" (the defaults where unset)."""
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
            for name in type(self).model_fields
            if name.startswith(TEAMS_SETTINGS_PREFIX)
        }

    @field_validator("SLACK_BOT_TOKEN")
    @classmethod
    def _bot_token(cls, value: str) -> str:
        value = value.strip()  # required unless in OAuth mode: see _mode
        if value and not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("SLACK_APP_TOKEN")
    @classmethod
    def _app_token(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("SLACK_API_URL")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("HOST")
    @classmethod
    def _host(cls, value: str) -> str:
        return _listen_host(value)

    @field_validator("DEFAULT_TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _known_timezone(value)

    @field_validator("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("PUBLIC_URL")
    @classmethod
    def _public_url(cls, value: str) -> str:
        try:
            value = _https_url(value)
        except ValueError as exc:
            if "plain http" in str(exc):
                raise ValueError(
                    "is a plain http URL: Slack and Teams fetch pictures only over https"
                ) from None
            raise
        if value and (urlsplit(value).query or urlsplit(value).fragment):
            raise ValueError("has a query or fragment: use the plain address")
        return value.rstrip("/")

    @field_validator("EXERCISE_PICTURES", mode="before")
    @classmethod
    def _pictures(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("SLACK_REDIRECT_URI", "SLACK_AUTHORIZE_URL")
    @classmethod
    def _oauth_url(cls, value: str) -> str:
        # Both carry OAuth codes and state: in clear text anyone on the path could install
        # the bot into their workspace or take the code.
        return _https_url(value)

    @field_validator("SLACK_AUTHORIZE_URL", mode="after")
    @classmethod
    def _authorize_url_default(cls, value: str) -> str:
        return value or DEFAULT_SLACK_AUTHORIZE_URL

    @model_validator(mode="after")
    def _mode(self) -> Settings:
        if self.SLACK_CLIENT_ID or self.SLACK_CLIENT_SECRET:
            if not self.SLACK_CLIENT_ID:
                raise ValueError("SLACK_CLIENT_ID: is not set")
            if not self.SLACK_CLIENT_SECRET:
                raise ValueError("SLACK_CLIENT_SECRET: is not set")
        elif not self.SLACK_BOT_TOKEN:
            raise ValueError("SLACK_BOT_TOKEN: is not set")
        if not self.SLACK_APP_TOKEN and not self.SLACK_SIGNING_SECRET.strip():
            # Neither mode is configured. The quick start (README) runs in Socket Mode, so
            # its missing piece is the app token; HTTP mode is the hint's alternative.
            raise ValueError("SLACK_APP_TOKEN: is not set (Socket Mode needs it)")
        return self

    @property
    def socket_mode(self) -> bool:
        return bool(self.SLACK_APP_TOKEN)

    @property
    def oauth_mode(self) -> bool:
        """Installable into many workspaces from a link (SLACK_CLIENT_ID and _SECRET set)."""
        return bool(self.SLACK_CLIENT_ID and self.SLACK_CLIENT_SECRET)


S = TypeVar("S", bound=BaseSettings)


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


class TeamsAppSettings(BaseSettings):
    """What `stretchbot teams-package` needs: the bot's Microsoft App ID, if configured."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID: str = ""

    @field_validator("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID")
    @classmethod
    def _client_id(cls, value: str) -> str:
        return _teams_app_id(value)


def load_teams_app_id(
    env: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
) -> str:
    """The Teams app (bot) id from the environment or `.env`; "" when not configured."""
    settings = _load(TeamsAppSettings, env, env_file)
    return settings.CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID


class PreviewSettings(BaseSettings):
    """What `stretchbot preview` needs: the timezone `run` gives a schedule that names none."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    DEFAULT_TIMEZONE: str = "UTC"

    @field_validator("DEFAULT_TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _known_timezone(value)


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
    source = dict(os.environ if env is None else env)
    known = {name: source[name] for name in cls.model_fields if name in source}
    try:
        # Explicit values win over the .env file, as with pydantic-settings' own precedence.
        return cls(_env_file=env_file, **known)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_first_error_line(exc)) from None


def _first_error_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = error.get("loc") or ()
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    name = str(loc[0]) if loc else ""
    if not name and ":" in message:  # model-level errors carry the name in the message
        name, message = (part.strip() for part in message.split(":", 1))
    kind = str(error.get("type", ""))
    value = error.get("input")
    if kind == "missing":
        message = "is not set"
    elif isinstance(value, str) and not value.strip() and kind.endswith("_parsing"):
        message = "is empty"
    elif kind in ("int_parsing", "int_from_float"):
        message = f"is not a whole number ({value!r})"
    elif kind in ("float_parsing", "finite_number"):
        message = f"is not a number ({value!r})"
    elif kind.startswith(("greater_than", "less_than")):
        message = f"is out of range ({value!r})"
    elif kind == "bool_parsing":
        message = f"is not on or off ({value!r})"
    elif kind == "literal_error":
        message = f"is not one of the allowed values ({value!r})"
    hint = HINTS.get(name, "check its value")
    return f"{name} {message}: {hint}."
