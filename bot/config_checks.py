"""The check of each setting (shared by bot.config's quick reader and the pydantic models in
bot.config_model), the one-line fix hints, and ConfigError."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

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
