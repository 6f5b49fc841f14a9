"""SQL storage: engine and migrations (`storage.db`), repositories (`storage.repositories`)."""

from __future__ import annotations

from storage.engine import create_engine, current_revision, head_revision, run_migrations
from storage.repositories import SqlStorage

__all__ = ["SqlStorage", "create_engine", "current_revision", "head_revision", "run_migrations"]
