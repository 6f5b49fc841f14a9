"""`stretchbot teams-package` and the Teams settings."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings, load_teams_app_id
from handlers.teams.package import (
    FILES,
    SOURCE_DIR,
    PackageError,
    build_manifest,
    example_links,
    png_size,
)

APP_ID = "0a1b2c3d-0000-4000-8000-00000000b0b0"
ENV_KEY = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
WORDS = ["stretch", "every", "status", "pause", "resume", "off", "leaderboard", "stats", "help"]


def rgba_pixels(data: bytes) -> list[tuple[int, int, int, int]]:
    """Decode an 8-bit RGBA PNG without filters (what package_files/make_icons.py writes)."""
    width, height = png_size(data)
    position, idat = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IHDR":
            assert data[position + 16 : position + 18] == bytes([8, 6])  # 8-bit RGBA
        if kind == b"IDAT":
            idat += data[position + 8 : position + 8 + length]
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    pixels = []
    for row in range(height):
        line = raw[row * stride : (row + 1) * stride]
        assert line[0] == 0  # filter type None
        pixels += [tuple(line[1 + i : 5 + i]) for i in range(0, width * 4, 4)]
    return pixels  # type: ignore[return-value]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.delenv(ENV_KEY, raising=False)
    return tmp_path


def test_the_package_holds_the_manifest_and_icons(workdir: Path) -> None:
    assert main(["teams-package", "--app-id", APP_ID, "--out", "out/app.zip"]) == 0
    with zipfile.ZipFile(workdir / "out" / "app.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color = package.read("color.png")
        outline = package.read("outline.png")
    assert manifest["id"] == APP_ID
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["team", "groupChat", "personal"]
    [commands] = bot["commandLists"]
    assert [c["title"] for c in commands["commands"]] == WORDS
    assert all(len(c["description"]) <= 128 for c in commands["commands"])
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["version"].count(".") == 2
    assert "{{" not in json.dumps(manifest)
    assert png_size(color) == (192, 192) and png_size(outline) == (32, 32)
    # the outline icon: white on transparent only
    assert {p[:3] for p in rgba_pixels(outline)} == {(255, 255, 255)}
    assert {p[3] for p in rgba_pixels(outline)} >= {0, 255}
    assert {p[3] for p in rgba_pixels(color)} == {255}


def test_the_app_id_comes_from_the_sdk_setting(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_KEY, APP_ID.upper())
    assert main(["teams-package"]) == 0
    assert "upload it in Teams" in capsys.readouterr().out
    with zipfile.ZipFile(workdir / "stretchbot-teams.zip") as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID


def test_without_an_app_id_it_says_what_to_set(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["teams-package"]) == 2
    assert ENV_KEY in capsys.readouterr().err
    assert main(["teams-package", "--app-id", "bot-1"]) == 2
    assert "not a GUID" in capsys.readouterr().err
    assert not (workdir / "stretchbot-teams.zip").exists()


def test_a_bad_template_is_reported(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"id": "{{APP_ID}}", "x": "{{OOPS}}"}')
    with pytest.raises(PackageError, match="OOPS"):
        build_manifest(APP_ID, source=tmp_path)
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(PackageError, match="not valid JSON"):
        build_manifest(APP_ID, source=tmp_path)


def test_the_committed_template_is_json_with_placeholders() -> None:
    template = json.loads((SOURCE_DIR / "manifest.json").read_text())
    assert template["id"] == "{{APP_ID}}" == template["bots"][0]["botId"]


# ---- settings ------------------------------------------------------------------------------

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
TEAMS = {
    ENV_KEY: APP_ID,
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "secret",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": "11111111-2222-3333-4444-555555555555",
}


def test_teams_is_on_with_its_three_settings() -> None:
    assert not load_settings(SLACK, env_file=None).teams_enabled
    settings = load_settings({**SLACK, **TEAMS}, env_file=None)
    assert settings.teams_enabled
    assert settings.teams_sdk_settings() == TEAMS


@pytest.mark.parametrize("missing", sorted(TEAMS))
def test_a_partial_teams_setup_names_what_is_missing(missing: str) -> None:
    env = {**SLACK, **{k: v for k, v in TEAMS.items() if k != missing}}
    with pytest.raises(ConfigError) as error:
        load_settings(env, env_file=None)
    assert str(error.value).startswith(f"{missing} is not set: ")


def test_the_app_id_must_be_a_guid() -> None:
    with pytest.raises(ConfigError, match=f"^{ENV_KEY} is not an app id"):
        load_settings({**SLACK, **TEAMS, ENV_KEY: "my-bot"}, env_file=None)
    assert load_teams_app_id({ENV_KEY: f" {APP_ID} "}, env_file=None) == APP_ID


def test_the_template_and_icons_are_package_data() -> None:
    """Found through importlib.resources, so an installed stretchbot has them too (the wheel
    itself is checked by tests/e2e/test_packaged.py)."""
    for name in FILES:
        assert (SOURCE_DIR / name).is_file(), name
    assert "package_files" in str(SOURCE_DIR)


def test_example_developer_links_are_spotted() -> None:
    template = json.loads((SOURCE_DIR / "manifest.json").read_text())
    assert len(example_links(template)) == 3  # the shipped template is a template
    own = {
        "developer": {
            "websiteUrl": "https://stretch.acme.test",
            "privacyUrl": "https://docs.example.org/privacy",  # one left behind
            "termsOfUseUrl": "https://notexample.com/terms",
        }
    }
    assert example_links(own) == ("https://docs.example.org/privacy",)
    assert example_links({"developer": "nope"}) == ()
