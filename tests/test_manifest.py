"""manifest.yml is a valid Slack app manifest and declares what the code relies on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPO_ROOT / "manifest.yml"
SCHEMA_DIR = REPO_ROOT.parent / "shared" / "slack"

REQUIRED_BOT_SCOPES = {
    "commands",
    "chat:write",
    "channels:join",
    "channels:read",
    "groups:read",
    "reactions:read",
    "users:read",
    "files:write",
    "im:history",
    "app_mentions:read",
    "im:write",
}
REQUIRED_BOT_EVENTS = {
    "reaction_added",
    "reaction_removed",
    "channel_archive",
    "channel_deleted",
    "group_archive",
    "app_uninstalled",
    "tokens_revoked",
    "app_home_opened",
    "message.im",
    "app_mention",
    "member_joined_channel",
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _schema_validator() -> jsonschema.protocols.Validator:
    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"Slack manifest schema folder {SCHEMA_DIR} is absent")
    root = json.loads((SCHEMA_DIR / "manifest.schema.json").read_text(encoding="utf-8"))
    # The root schema points at the versioned schemas by their GitHub URLs; serve those URLs
    # from the sibling files so validation never touches the network.
    resources: list[tuple[str, Resource[Any]]] = []
    for ref in set(_refs(root)):
        url = ref.split("#", 1)[0]
        local = SCHEMA_DIR / url.rsplit("/", 1)[-1]
        if url and local.is_file():
            contents = json.loads(local.read_text(encoding="utf-8"))
            resources.append((url, DRAFT7.create_resource(contents)))
    registry: Registry[Any] = Registry().with_resources(resources)
    validator_class = jsonschema.validators.validator_for(root)
    validator_class.check_schema(root)
    return validator_class(root, registry=registry)


def test_manifest_validates_against_slack_schema(manifest: dict[str, Any]) -> None:
    validator = _schema_validator()
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_schema_rejects_a_broken_manifest(manifest: dict[str, Any]) -> None:
    # Guards against a registry mix-up that would make every manifest "valid".
    validator = _schema_validator()
    broken = json.loads(json.dumps(manifest))
    broken["features"]["slash_commands"][0]["command"] = "stretch"  # must start with "/"
    broken["settings"]["interactivity"] = {"enabled": True}
    assert list(validator.iter_errors(broken))


def test_stretch_command_declared(manifest: dict[str, Any]) -> None:
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    stretch = commands["/stretch"]
    assert stretch["description"]
    for word in (
        "now",
        "every",
        "status",
        "pause",
        "resume",
        "off",
        "leaderboard",
        "stats",
        "help",
        "settings",
    ):
        assert word in stretch["usage_hint"]
    assert stretch.get("should_escape") is False


def test_bot_user_and_display_information(manifest: dict[str, Any]) -> None:
    assert manifest["display_information"]["name"] == "stretchbot"
    # The schema only documents this pattern (as a non-standard "regex" keyword).
    assert re.fullmatch(
        r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", manifest["display_information"]["background_color"]
    )
    bot_user = manifest["features"]["bot_user"]
    assert bot_user["display_name"] == "stretchbot"
    assert bot_user["always_online"] is True


def test_bot_scopes(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    assert set(scopes) >= REQUIRED_BOT_SCOPES


def test_bot_events(manifest: dict[str, Any]) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(events) >= REQUIRED_BOT_EVENTS


def test_settings(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_fake_slack_grants_the_manifest_scopes(manifest: dict[str, Any]) -> None:
    # The fake reports these scopes in X-OAuth-Scopes; keep it in step with the manifest.
    from tests.fakes.slack_api import DEFAULT_SCOPES

    assert set(DEFAULT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])


def test_home_and_messages_tabs(manifest: dict[str, Any]) -> None:
    app_home = manifest["features"]["app_home"]
    assert app_home == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }


def _code_calls(method: str) -> bool:
    """Whether bot/ or handlers/ call the Web API method (`reactions_add` for reactions.add)."""
    sources = [*(REPO_ROOT / "bot").rglob("*.py"), *(REPO_ROOT / "handlers").rglob("*.py")]
    return any(f".{method}(" in path.read_text(encoding="utf-8") for path in sources)


@pytest.mark.parametrize(
    ("scope", "method"),
    [("reactions:write", "reactions_add"), ("im:write", "conversations_open")],
)
def test_scopes_follow_what_the_code_calls(
    manifest: dict[str, Any], scope: str, method: str
) -> None:
    # Ask for a write scope exactly when the code calls the method that needs it.
    assert (scope in manifest["oauth_config"]["scopes"]["bot"]) == _code_calls(method)


def test_the_break_shortcut_is_declared(manifest: dict[str, Any]) -> None:
    from handlers.slack.views.pick_channel import BREAK_SHORTCUT

    [shortcut] = manifest["features"]["shortcuts"]
    assert shortcut["type"] == "global"
    assert shortcut["callback_id"] == BREAK_SHORTCUT
    assert shortcut["name"] == "Take a movement break"
