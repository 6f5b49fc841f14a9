"""SQL storage: engines and migrations (`storage.engine`), repository bundles (`storage.sql`)."""

from __future__ import annotations

from storage.engine import create_engine, current_revision, head_revision, run_migrations
from storage.sql import SqlStorage

__all__ = ["SqlStorage", "create_engine", "current_revision", "head_revision", "run_migrations"]
