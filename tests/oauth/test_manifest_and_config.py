"""manifest.yml matches what the OAuth code asks for; `stretchbot manifest --url`; OAuth settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot import cli
from bot.config import ConfigError, load_settings
from handlers.slack.manifest import ManifestError, base_url, http_manifest, load_manifest
from handlers.slack.oauth import BOT_SCOPES, INSTALL_PATH, REDIRECT_PATH
from tests.test_manifest import MANIFEST_PATH, _schema_validator

URL = "https://stretch.example.org"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load_manifest(MANIFEST_PATH)


def test_manifest_scopes_are_exactly_what_the_install_asks_for(manifest: dict[str, Any]) -> None:
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert "user" not in manifest["oauth_config"]["scopes"]  # the flow asks for no user scopes


def test_manifest_redirect_urls_point_at_the_oauth_redirect(manifest: dict[str, Any]) -> None:
    urls = manifest["oauth_config"]["redirect_urls"]
    assert urls and all(urlsplit(url).path == REDIRECT_PATH for url in urls)
    assert all(url.startswith("https://") for url in urls)
    assert INSTALL_PATH == "/slack/install"


def test_http_manifest_for_a_host(manifest: dict[str, Any]) -> None:
    result = http_manifest(manifest, URL + "/")
    events = f"{URL}/slack/events"
    assert result["settings"]["socket_mode_enabled"] is False
    assert result["settings"]["event_subscriptions"]["request_url"] == events
    assert result["settings"]["interactivity"]["request_url"] == events
    assert result["settings"]["interactivity"]["message_menu_options_url"] == events
    assert result["settings"]["interactivity"]["is_enabled"] is True
    assert [c["url"] for c in result["features"]["slash_commands"]] == [events]
    assert result["oauth_config"]["redirect_urls"] == [URL + REDIRECT_PATH]
    assert sorted(result["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert manifest["settings"]["socket_mode_enabled"] is True  # the input is left alone
    errors = list(_schema_validator().iter_errors(result))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize(
    "url", ["http://insecure.example.org", "stretch.example.org", "https://", "https://h/?q=1"]
)
def test_http_manifest_refuses_unusable_urls(manifest: dict[str, Any], url: str) -> None:
    with pytest.raises(ManifestError, match="https"):
        http_manifest(manifest, url)


def test_manifest_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # found next to the code, not in the working directory
    assert cli.main(["manifest", "--url", URL]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == http_manifest(load_manifest(MANIFEST_PATH), URL)

    assert cli.main(["manifest", "--json", "--manifest", str(MANIFEST_PATH)]) == 0
    assert '"socket_mode_enabled": true' in capsys.readouterr().out

    assert cli.main(["manifest", "--url", "http://nope"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "https" in err


# ---- settings ------------------------------------------------------------------------------

OAUTH = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "s3cret",
    "SLACK_SIGNING_SECRET": "signing",
}


def test_oauth_mode_needs_no_bot_token() -> None:
    settings = load_settings(OAUTH, env_file=None)
    assert settings.oauth_mode and not settings.SLACK_BOT_TOKEN
    assert settings.DATA_RETENTION_DAYS == 30 and settings.NOW_COOLDOWN_MINUTES == 5
    token_mode = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "signing"}, env_file=None
    )
    assert not token_mode.oauth_mode


@pytest.mark.parametrize(
    ("env", "setting", "says"),
    [
        ({**OAUTH, "SLACK_CLIENT_SECRET": ""}, "SLACK_CLIENT_SECRET is not set", "Client Secret"),
        ({**OAUTH, "SLACK_CLIENT_ID": " "}, "SLACK_CLIENT_ID is not set", "Client ID"),
        ({"SLACK_SIGNING_SECRET": "x"}, "SLACK_BOT_TOKEN is not set", "SLACK_CLIENT_ID"),
        (
            {**OAUTH, "STRETCHBOT_ENCRYPTION_KEY": "hunter2"},
            "STRETCHBOT_ENCRYPTION_KEY key 1 of 1 is not a Fernet key",
            "stretchbot keygen",
        ),
        ({**OAUTH, "DATA_RETENTION_DAYS": "-1"}, "DATA_RETENTION_DAYS is out of range", "days"),
        (
            {**OAUTH, "NOW_COOLDOWN_MINUTES": "soon"},
            "NOW_COOLDOWN_MINUTES is not a whole number",
            "0",
        ),
        ({**OAUTH, "SLACK_REDIRECT_URI": "example.com"}, "SLACK_REDIRECT_URI", "https"),
    ],
)
def test_bad_oauth_settings_give_one_clear_line(
    env: dict[str, str], setting: str, says: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(env, env_file=None)
    line = str(error.value)
    assert "\n" not in line and line.startswith(setting) and says in line
    assert "hunter2" not in line  # a secret is never echoed


def test_the_shipped_manifest_is_the_repository_one() -> None:
    """An installed stretchbot reads handlers/slack/manifest.yml (package data); in the
    repository that is a link to ./manifest.yml, so the two can never drift apart."""
    from handlers.slack.manifest import shipped_manifest

    assert shipped_manifest().read_bytes() == MANIFEST_PATH.read_bytes()


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://h.example", "https://h.example"),
        ("https://h.example/slack/events", "https://h.example"),
        ("https://h.example/bots/stretch/slack/events/", "https://h.example/bots/stretch"),
        ("https://h.example/slack/oauth_redirect", "https://h.example"),
        ("https://h.example:8443/slack/install", "https://h.example:8443"),
        ("http://localhost:3000/slack/events", "http://localhost:3000"),
        ("http://127.0.0.1", "http://127.0.0.1"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_the_manifest_url_may_be_the_base_or_a_bot_url(url: str, base: str) -> None:
    assert base_url(url) == base


@pytest.mark.parametrize(
    "url", ["http://10.1.2.3", "https://user:pw@h.example", "https://h.example#x", "https://[::"]
)
def test_the_manifest_url_refuses_more(url: str) -> None:
    with pytest.raises(ManifestError, match="https"):
        base_url(url)
