"""The settings as pydantic-settings models: the reference `bot.config` reads by, and the reader
of every value its quick path does not vouch for (errors, unusual spellings, a FIFO `.env`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config_checks import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SLACK_API_URL,
    DEFAULT_SLACK_AUTHORIZE_URL,
    HINTS,
    TEAMS_SETTINGS_PREFIX,
    ConfigError,
    check_api_url,
    check_app_token,
    check_bot_token,
    check_database_url,
    check_encryption_key,
    check_https_url,
    check_known_timezone,
    check_listen_host,
    check_public_url,
    check_teams_app_id,
    mode_error,
    teams_error,
)


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
        return check_database_url(value)


class MaintenanceSettings(DatabaseSettings):
    """What the maintenance commands (`purge`, `export`, `rotate-key`) need besides the database."""

    DATA_RETENTION_DAYS: int = Field(default=30, ge=0, le=3650)
    STRETCHBOT_ENCRYPTION_KEY: str = ""

    @field_validator("STRETCHBOT_ENCRYPTION_KEY")
    @classmethod
    def _encryption_key(cls, value: str) -> str:
        return check_encryption_key(value)


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
    BUSY_STATUS_EMOJI: str = ""
    BUSY_STATUS_WORDS: str = ""
    REMINDER_RETRY_MINUTES: int = Field(default=15, ge=1, le=240)
    EXERCISE_PICTURES: bool = True
    PUBLIC_URL: str = ""
    # Microsoft Teams is on when these are set (the Agents SDK's own environment keys).
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID: str = ""
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET: str = ""
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID: str = ""

    @field_validator("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID")
    @classmethod
    def _teams_client_id(cls, value: str) -> str:
        return check_teams_app_id(value)

    @field_validator(
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID",
    )
    @classmethod
    def _teams_strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _teams(self) -> Settings:
        error = teams_error(self.teams_sdk_settings())
        if error:
            raise ValueError(error)
        return self

    def teams_sdk_settings(self) -> dict[str, str]:
        return {
            name: str(getattr(self, name))
            for name in type(self).model_fields
            if name.startswith(TEAMS_SETTINGS_PREFIX)
        }

    @field_validator("PUBLIC_URL")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return check_public_url(value)

    @field_validator("EXERCISE_PICTURES", mode="before")
    @classmethod
    def _pictures(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("SLACK_BOT_TOKEN")
    @classmethod
    def _bot_token(cls, value: str) -> str:
        return check_bot_token(value)

    @field_validator("SLACK_APP_TOKEN")
    @classmethod
    def _app_token(cls, value: str) -> str:
        return check_app_token(value)

    @field_validator("SLACK_API_URL")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return check_api_url(value)

    @field_validator("HOST")
    @classmethod
    def _host(cls, value: str) -> str:
        return check_listen_host(value)

    @field_validator("DEFAULT_TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_known_timezone(value)

    @field_validator("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("SLACK_REDIRECT_URI", "SLACK_AUTHORIZE_URL")
    @classmethod
    def _oauth_url(cls, value: str) -> str:
        # Both carry OAuth codes and state: in clear text anyone on the path could install
        # the bot into their workspace or take the code.
        return check_https_url(value)

    @field_validator("SLACK_AUTHORIZE_URL", mode="after")
    @classmethod
    def _authorize_url_default(cls, value: str) -> str:
        return value or DEFAULT_SLACK_AUTHORIZE_URL

    @model_validator(mode="after")
    def _mode(self) -> Settings:
        error = mode_error(
            self.SLACK_CLIENT_ID,
            self.SLACK_CLIENT_SECRET,
            self.SLACK_BOT_TOKEN,
            self.SLACK_APP_TOKEN,
            self.SLACK_SIGNING_SECRET,
        )
        if error:
            raise ValueError(error)
        return self


class TeamsAppSettings(BaseSettings):
    """What `stretchbot teams-package` needs: the bot's Microsoft App ID, if configured."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID: str = ""

    @field_validator("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID")
    @classmethod
    def _client_id(cls, value: str) -> str:
        return check_teams_app_id(value)


class PreviewSettings(BaseSettings):
    """What `stretchbot preview` needs: the timezone `run` gives a schedule that names none."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    DEFAULT_TIMEZONE: str = "UTC"

    @field_validator("DEFAULT_TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_known_timezone(value)


MODELS: dict[str, type[BaseSettings]] = {
    model.__name__: model
    for model in (
        DatabaseSettings,
        MaintenanceSettings,
        Settings,
        TeamsAppSettings,
        PreviewSettings,
    )
}


def validate(kind: str, values: Mapping[str, Any], env_file: str | None) -> dict[str, Any]:
    """The settings of `kind` (a class name of `bot.config`) as pydantic-settings reads them:
    `values` first, then the process environment, then `env_file`, then the defaults.

    Raises:
        ConfigError: with one line naming the first bad setting and how to fix it.
    """
    model = MODELS[kind]
    known = {name: values[name] for name in model.model_fields if name in values}
    try:
        # Explicit values win over the .env file, as with pydantic-settings' own precedence.
        settings = model(_env_file=env_file, **known)
    except ValidationError as exc:
        raise ConfigError(_first_error_line(exc)) from None
    return {name: getattr(settings, name) for name in model.model_fields}


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
