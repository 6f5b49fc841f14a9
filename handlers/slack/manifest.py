"""The Slack app manifest: `manifest.yml` as written (Socket Mode) or for HTTP mode on a host."""

from __future__ import annotations

import copy
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any
from urllib.parse import urlsplit

from handlers.slack.oauth import INSTALL_PATH, REDIRECT_PATH

MANIFEST_NAME = "manifest.yml"
EVENTS_PATH = "/slack/events"
# The bot's own paths: a --url ending in one of them means the address in front of it.
_BOT_PATHS = (EVENTS_PATH, REDIRECT_PATH, INSTALL_PATH)
# Plain http is fine only where nothing crosses a network: a local fake or a tunnel's end.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class ManifestError(Exception):
    """The manifest cannot be found or read, or the URL is unusable; one line for the CLI."""


def shipped_manifest() -> Traversable:
    """The manifest shipped with the package: `handlers/slack/manifest.yml`, which in a
    checkout is a link to the repository's `manifest.yml` (one file, two ways to find it)."""
    return resources.files("handlers.slack") / MANIFEST_NAME


def load_manifest(path: Traversable) -> dict[str, Any]:
    import yaml  # only the manifest command needs YAML

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: not UTF-8 text
        reason = " ".join(str(exc).split())
        raise ManifestError(f"{path} is not a YAML Slack app manifest: {reason}") from None
    if not isinstance(loaded, dict):
        raise ManifestError(f"{path} is not a Slack app manifest (not a mapping)")
    return loaded


def http_manifest(manifest: dict[str, Any], url: str) -> dict[str, Any]:
    """The manifest for HTTP mode at `url` (https://host[/prefix], or that followed by
    /slack/events): Socket Mode off, commands, events, interactivity and menu options at
    `url`/slack/events, the OAuth redirect at `url`/slack/oauth_redirect."""
    base = base_url(url)
    events_url = base + EVENTS_PATH
    result = copy.deepcopy(manifest)
    for command in result.get("features", {}).get("slash_commands", []):
        command["url"] = events_url
    settings = result.setdefault("settings", {})
    settings["socket_mode_enabled"] = False
    settings.setdefault("event_subscriptions", {})["request_url"] = events_url
    interactivity = settings.setdefault("interactivity", {"is_enabled": True})
    interactivity["request_url"] = events_url
    # The settings modal's searched menus (time zones, countries) load options from here.
    interactivity["message_menu_options_url"] = events_url
    result.setdefault("oauth_config", {})["redirect_urls"] = [base + REDIRECT_PATH]
    return result


def base_url(url: str) -> str:
    """The address the bot's paths hang off, from what an operator may paste: the bare
    address, or one of the bot's own URLs (https://host/slack/events).

    Raises:
        ManifestError: not an https URL (http only for a local host), or one with a query,
            fragment or credentials.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        parts, host = urlsplit(""), None
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOCAL_HOSTS)
    if (
        not secure
        or not host
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
    ):
        raise ManifestError(
            f"--url {url!r} is not usable: use the bot's public https address, e.g. "
            "https://stretchbot.example.com (http only for localhost)"
        )
    path = parts.path.rstrip("/")
    for bot_path in _BOT_PATHS:
        if path.endswith(bot_path):
            path = path.removesuffix(bot_path)
            break
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}"


def render(manifest: dict[str, Any], *, as_json: bool = False) -> str:
    """The manifest as YAML (or JSON), ready to paste into "Create New App → From a manifest"."""
    if as_json:
        import json

        return json.dumps(manifest, indent=2, ensure_ascii=False)
    import yaml

    return str(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100))
