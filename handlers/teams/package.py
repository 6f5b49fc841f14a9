"""`stretchbot teams-package`: the Teams app package (a zip to sideload or publish).

The zip holds `manifest.json` (from the template `package_files/manifest.json`, shipped as
package data, with the bot's app id and the version filled in) and the two icons, all at the
zip's root as Teams requires.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Package data, so an installed stretchbot (not only a checkout) can build the package.
SOURCE_DIR: Traversable = resources.files("handlers.teams") / "package_files"
FILES = ("manifest.json", "color.png", "outline.png")
ICON_SIZES = {"color.png": 192, "outline.png": 32}
DEVELOPER_LINKS = ("websiteUrl", "privacyUrl", "termsOfUseUrl")
# Reserved for documentation (RFC 2606): links there are the template's placeholders.
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
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


@dataclass(frozen=True)
class BuiltPackage:
    """A written package and what its builder should hear about it."""

    path: Path
    template: Traversable  # the manifest.json it was built from
    example_links: tuple[str, ...]  # developer links still at the template's examples


def example_links(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The manifest's developer links that point at an example domain (the template's own)."""
    developer = manifest.get("developer")
    if not isinstance(developer, dict):
        return ()
    found = []
    for key in DEVELOPER_LINKS:
        link = developer.get(key)
        if not isinstance(link, str):
            continue
        try:
            host = (urlsplit(link).hostname or "").lower()
        except ValueError:
            continue
        if any(host == domain or host.endswith("." + domain) for domain in _EXAMPLE_DOMAINS):
            found.append(link)
    return tuple(found)


def build_manifest(
    app_id: str, *, source: Traversable = SOURCE_DIR, template: Traversable | None = None
) -> dict[str, Any]:
    """The manifest template (`template`, default `source`/manifest.json) with `{{APP_ID}}`
    and `{{VERSION}}` filled in."""
    if not _GUID.match(app_id):
        raise PackageError(
            f"the app id {app_id!r} is not a GUID (the Azure Bot's Microsoft App ID)"
        )
    template = template if template is not None else source / "manifest.json"
    try:
        loaded = json.loads(template.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackageError(
            f"cannot read {template}: {(exc.strerror or str(exc)).lower()}"
        ) from None
    except ValueError as exc:
        raise PackageError(f"{template} is not valid JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise PackageError(f"{template} is not a Teams app manifest (not a JSON object)")
    manifest = _fill(loaded, {"APP_ID": app_id.lower(), "VERSION": _version()})
    left = re.findall(r"\{\{\w+\}\}", json.dumps(manifest))
    if left:
        raise PackageError(
            f"manifest.json has unknown placeholders: {', '.join(sorted(set(left)))}"
        )
    return dict(manifest)


def build_package(
    out: Path, app_id: str, *, source: Traversable = SOURCE_DIR, manifest: Path | None = None
) -> BuiltPackage:
    """Write the app package zip to `out`.

    `manifest` replaces the template; icons next to it replace the shipped ones.

    Raises:
        PackageError: the app id, the template or an icon is unusable (nothing written).
        OSError: `out` cannot be written.
    """
    template = manifest if manifest is not None else source / "manifest.json"
    filled = build_manifest(app_id, source=source, template=template)
    icons: dict[str, bytes] = {}
    for name, size in ICON_SIZES.items():
        icon = source / name
        if manifest is not None and (manifest.parent / name).is_file():
            icon = manifest.parent / name
        try:
            data = icon.read_bytes()
        except OSError as exc:
            raise PackageError(
                f"cannot read {icon}: {(exc.strerror or str(exc)).lower()}"
            ) from None
        try:
            dimensions = png_size(data)
        except PackageError:
            raise PackageError(f"{icon} is not a PNG file") from None
        if dimensions != (size, size):
            raise PackageError(f"{icon} must be a {size}x{size} PNG")
        icons[name] = data
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(filled, indent=2, ensure_ascii=False))
        for name, data in icons.items():
            package.writestr(name, data)
    return BuiltPackage(path=out, template=template, example_links=example_links(filled))
