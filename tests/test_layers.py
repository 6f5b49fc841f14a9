"""Imports point down: handlers -> bot services -> bot ports/core; storage implements ports;
only the composition root (bot/app.py) knows every layer. Read from the source, so a new
import that points up fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The composition root: the running bot (app.py) and the operator commands' side of it.
COMPOSITION_ROOT = {"bot/app.py", "bot/operations.py"}
# The pure core: no Slack, Teams, SQLAlchemy or APScheduler (DESIGN.md, Layout).
PURE = {
    "bot/exercises.py",
    "bot/custom_exercises.py",
    "bot/exercise_files.py",
    "bot/pictures.py",
    "bot/schedules.py",
    "bot/leaderboard.py",
    "bot/grammar.py",
    "bot/rules.py",
}
PLATFORM_LIBRARIES = ("slack_bolt", "slack_sdk", "microsoft_agents", "sqlalchemy", "apscheduler")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (function-level imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts)


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", sources("bot"), ids=relative)
def test_the_core_imports_no_adapter_and_no_storage(path: Path) -> None:
    if relative(path) in COMPOSITION_ROOT:
        return
    upward = sorted(
        name for name in imported_modules(path) if name.split(".")[0] in ("handlers", "storage")
    )
    assert upward == [], f"{relative(path)} reaches up into {upward}"


@pytest.mark.parametrize("path", sources("storage"), ids=relative)
def test_storage_imports_no_adapter(path: Path) -> None:
    upward = sorted(name for name in imported_modules(path) if name.split(".")[0] == "handlers")
    assert upward == [], f"{relative(path)} reaches into {upward}"


@pytest.mark.parametrize("path", sources("handlers"), ids=relative)
def test_adapters_do_not_touch_storage(path: Path) -> None:
    sideways = sorted(name for name in imported_modules(path) if name.split(".")[0] == "storage")
    assert sideways == [], f"{relative(path)} imports {sideways}: go through a service or port"


@pytest.mark.parametrize("path", sorted(ROOT / name for name in PURE), ids=relative)
def test_the_pure_core_imports_no_platform_library(path: Path) -> None:
    platform = sorted(
        name for name in imported_modules(path) if name.split(".")[0] in PLATFORM_LIBRARIES
    )
    assert platform == [], f"{relative(path)} imports {platform}"
