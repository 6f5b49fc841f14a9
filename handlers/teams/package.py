"""`stretchbot teams-package`: the Teams app package (a zip to sideload or publish).

The zip holds `manifest.json` (from `teams/manifest.json`, with the bot's app id and the
version filled in) and the two icons, all at the zip's root as Teams requires.
"""

from __future__ import annotations

import json
import re
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

SOURCE_DIR = Path(__file__).resolve().parents[2] / "teams"
FILES = ("manifest.json", "color.png", "outline.png")
ICON_SIZES = {"color.png": 192, "outline.png": 32}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PackageError(Exception):
    """The package cannot be built; the message says why."""


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (from its IHDR chunk)."""
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise PackageError("not a PNG file")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _version() -> str:
    try:
        version = metadata.version("stretchbot")
    except metadata.PackageNotFoundError:
        return "1.0.0"
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", version)
    return ".".join(match.groups()) if match else "1.0.0"


def _fill(value: Any, fields: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, filled in fields.items():
            value = value.replace("{{" + name + "}}", filled)
        return value
    if isinstance(value, list):
        return [_fill(item, fields) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, fields) for key, item in value.items()}
    return value


def build_manifest(app_id: str, *, source: Path = SOURCE_DIR) -> dict[str, Any]:
    """`teams/manifest.json` with `{{APP_ID}}` and `{{VERSION}}` filled in."""
    if not _GUID.match(app_id):
        raise PackageError(
            f"the app id {app_id!r} is not a GUID (the Azure Bot's Microsoft App ID)"
        )
    try:
        template = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackageError(f"cannot read {source / 'manifest.json'}: {exc.strerror}") from None
    except ValueError as exc:
        raise PackageError(f"{source / 'manifest.json'} is not valid JSON: {exc}") from None
    manifest = _fill(template, {"APP_ID": app_id.lower(), "VERSION": _version()})
    left = re.findall(r"\{\{\w+\}\}", json.dumps(manifest))
    if left:
        raise PackageError(
            f"manifest.json has unknown placeholders: {', '.join(sorted(set(left)))}"
        )
    return dict(manifest)


def build_package(out: Path, app_id: str, *, source: Path = SOURCE_DIR) -> Path:
    """Write the app package zip to `out` and return its path."""
    manifest = build_manifest(app_id, source=source)
    icons: dict[str, bytes] = {}
    for name, size in ICON_SIZES.items():
        try:
            data = (source / name).read_bytes()
        except OSError as exc:
            raise PackageError(f"cannot read {source / name}: {exc.strerror}") from None
        if png_size(data) != (size, size):
            raise PackageError(f"{name} must be a {size}x{size} PNG")
        icons[name] = data
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for name, data in icons.items():
            package.writestr(name, data)
    return out
