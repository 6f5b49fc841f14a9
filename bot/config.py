"""Typed settings from the environment and a `.env` file; the only reader of `os.environ`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///stretchbot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"

# One line per setting that says how to fix it; shown when the value is missing or malformed.
HINTS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "set it to the Bot User OAuth Token (xoxb-...) from your Slack app's "
    "OAuth & Permissions page",
    "SLACK_APP_TOKEN": "set it to an app-level token (xapp-...) with the connections:write scope "
    "for Socket Mode, or unset it and set SLACK_SIGNING_SECRET for HTTP mode",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from your Slack app's Basic Information "
    "page (needed in HTTP mode, i.e. when SLACK_APP_TOKEN is not set)",
    "DATABASE_URL": "use sqlite+aiosqlite:///path/to/file.db or "
    "postgresql+asyncpg://user:password@host:5432/dbname",
    "SLACK_API_URL": "use an http(s) URL ending in /api/, e.g. https://slack.com/api/",
    "PORT": "use a whole number from 1 to 65535",
    "HOST": "use an address to listen on, e.g. 0.0.0.0 or 127.0.0.1",
    "NUDGE_GRACE_MINUTES": "use a whole number of minutes from 0 to 1440",
    "SCHEDULER_POLL_SECONDS": "use a number of seconds from 0.5 to 30",
    "LOG_LEVEL": "use one of DEBUG, INFO, WARNING, ERROR",
    "DEFAULT_TIMEZONE": "use an IANA timezone name such as Europe/Berlin",
    "POST_CONCURRENCY": "use a whole number from 1 to 1000",
    "SLACK_WORKSPACE_CONCURRENCY": "use a whole number from 1 to 100",
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line that names it and the fix."""


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


class Settings(DatabaseSettings):
    """Process settings for `stretchbot run`. Field names are the environment variable names."""

    SLACK_BOT_TOKEN: str = ""
    SLACK_SIGNING_SECRET: str = ""
    SLACK_APP_TOKEN: str = ""
    SLACK_API_URL: str = DEFAULT_SLACK_API_URL
    HOST: str = "0.0.0.0"
    PORT: int = Field(default=3000, ge=0, le=65535)  # 0: any free port (tests)
    NUDGE_GRACE_MINUTES: int = Field(default=10, ge=0, le=1440)
    SCHEDULER_POLL_SECONDS: float = Field(default=5.0, ge=0.5, le=30)
    POST_CONCURRENCY: int = Field(default=8, ge=1, le=1000)
    SLACK_WORKSPACE_CONCURRENCY: int = Field(default=4, ge=1, le=100)
    DEFAULT_TIMEZONE: str = "UTC"

    @field_validator("SLACK_BOT_TOKEN")
    @classmethod
    def _bot_token(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("is not set")
        if not value.startswith("xoxb-"):
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

    @field_validator("DEFAULT_TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError for odd strings
            raise ValueError("is not a known timezone") from exc
        return value

    @model_validator(mode="after")
    def _mode(self) -> Settings:
        if not self.SLACK_APP_TOKEN and not self.SLACK_SIGNING_SECRET.strip():
            raise ValueError("SLACK_SIGNING_SECRET: is not set")
        return self

    @property
    def socket_mode(self) -> bool:
        return bool(self.SLACK_APP_TOKEN)


S = TypeVar("S", bound=DatabaseSettings)


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


def _load(cls: type[S], env: Mapping[str, str] | None, env_file: str | None) -> S:
    source = dict(os.environ if env is None else env)
    known = {name: source[name] for name in cls.model_fields if name in source}
    try:
        # Explicit values win over the .env file, as with pydantic-settings' own precedence.
        return cls(_env_file=env_file, **known)  # type: ignore[call-arg,arg-type]
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
    if kind == "missing":
        message = "is not set"
    elif kind in ("int_parsing", "float_parsing", "int_from_float"):
        message = f"is not a number ({error.get('input')!r})"
    elif kind.startswith(("greater_than", "less_than")):
        message = f"is out of range ({error.get('input')!r})"
    elif kind == "literal_error":
        message = f"is not one of the allowed values ({error.get('input')!r})"
    hint = HINTS.get(name, "check its value")
    return f"{name} {message}: {hint}."
