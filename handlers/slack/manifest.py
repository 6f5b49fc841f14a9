"""The Slack app manifest: `manifest.yml` as written (Socket Mode) or for HTTP mode on a host."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from handlers.slack.oauth import REDIRECT_PATH

MANIFEST_NAME = "manifest.yml"
EVENTS_PATH = "/slack/events"


class ManifestError(Exception):
    """The manifest cannot be found or read, or the URL is unusable; one line for the CLI."""


def find_manifest(explicit: Path | None = None) -> Path:
    """`explicit`, else ./manifest.yml, else the one in the source checkout next to the code."""
    candidates = (
        [explicit]
        if explicit is not None
        else [Path.cwd() / MANIFEST_NAME, Path(__file__).resolve().parents[2] / MANIFEST_NAME]
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ManifestError(
        f"cannot find {candidates[0]}: run this in the stretchbot folder or pass --manifest PATH"
    )


def load_manifest(path: Path) -> dict[str, Any]:
    import yaml  # only the manifest command needs YAML

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict):
        raise ManifestError(f"{path} is not a Slack app manifest (not a mapping)")
    return loaded


def http_manifest(manifest: dict[str, Any], url: str) -> dict[str, Any]:
    """The manifest for HTTP mode at `url` (https://host[/prefix]): Socket Mode off, commands,
    events, interactivity and menu options at `url`/slack/events, the OAuth redirect at
    `url`/slack/oauth_redirect."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise ManifestError(
            f"--url {url!r} is not usable: use the public https address of the bot, "
            "e.g. https://stretchbot.example.com"
        )
    base = f"https://{parts.netloc}{parts.path.rstrip('/')}"
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


def render(manifest: dict[str, Any], *, as_json: bool = False) -> str:
    """The manifest as YAML (or JSON), ready to paste into "Create New App → From a manifest"."""
    if as_json:
        import json

        return json.dumps(manifest, indent=2, ensure_ascii=False)
    import yaml

    return str(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100))
