"""Postgres's hot reads straight on asyncpg: a statement compiled once (`DriverStatement`),
run on the driver with its own `fetchrow`/`fetch` (see `storage.db.Database.first` and `all`).
SQLite's counterpart is `storage.sqlite_direct`."""

from __future__ import annotations

import collections
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select


@dataclass(frozen=True)
class DriverStatement:
    """A hot single-row read compiled once for asyncpg, run on the driver itself.

    SQLAlchemy's execute path (compile-cache lookup, parameter and result processing, the async
    adapter) cost twice the CPU of asyncpg's own `fetchrow` for `/stretch status`'s one read
    (0.22 vs 0.12 ms). Only for statements whose parameters are all text and whose columns need
    no result processing beyond what asyncpg does (timestamptz comes back as an aware UTC
    datetime, which is what `UTCDateTime` returns too); `tests/storage/test_command_reads.py`
    compares the two paths.
    """

    sql: str
    names: tuple[str, ...]  # parameter names in $1, $2, ... order
    row: Callable[..., Any]  # columns -> a row with the statement's column names as attributes
    # Values bound in the statement itself (e.g. `status == "posted"`), by parameter name.
    literals: Mapping[str, Any] = field(default_factory=dict)

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments ($1, $2, ...) for `params`."""
        literals = self.literals
        return [params[name] if name in params else literals[name] for name in self.names]


# By statement object, for as long as it lives (see storage.sqlite_direct).
_DRIVER_STATEMENTS: weakref.WeakKeyDictionary[Select[Any], DriverStatement] = (
    weakref.WeakKeyDictionary()
)


def driver_param(value: Any) -> bool:
    """A parameter asyncpg takes as `UTCDateTime`/text would give it: text or an aware
    datetime (timestamptz; asyncpg sends the instant, whatever its offset)."""
    if isinstance(value, str):
        return True
    return isinstance(value, datetime) and value.utcoffset() is not None


def driver_statement(statement: Select[Any], dialect: Dialect) -> DriverStatement:
    """`statement` compiled for asyncpg, once per statement object."""
    driver = _DRIVER_STATEMENTS.get(statement)
    if driver is None:
        compiled = statement.compile(dialect=dialect)
        columns = [str(column.key) for column in statement.selected_columns]
        literals = {
            name: value
            for name, value in compiled.params.items()
            if value is not None and isinstance(value, (str, int, bool))
        }
        driver = _DRIVER_STATEMENTS[statement] = DriverStatement(
            sql=compiled.string,
            names=tuple(compiled.positiontup or ()),
            row=collections.namedtuple("DriverRow", columns, rename=True),
            literals=literals,
        )
    return driver
