"""SQLite's hot reads straight on the `sqlite3` connection: a statement compiled once, its
parameters and columns converted with the processors SQLAlchemy itself would use.

`/stretch status` makes three short reads (the workspace with the channel, the channel's break
times and four weeks of slot outcomes). Through SQLAlchemy's Core execute each cost ~0.2 ms
of CPU (compile-cache lookup, parameter and result processing, the Row machinery) against a
few microseconds of SQLite's own work; run on the driver they cost a fifth of that. Rows come
back as named tuples with the statement's column names, so callers read them as they read
SQLAlchemy rows (by attribute, index or unpacking). A statement this cannot run as is (an
expanding IN list, a value rendered at execution) is left to SQLAlchemy (`direct_statement`
gives None). `tests/storage/test_command_reads.py` compares both paths row for row.
"""

from __future__ import annotations

import collections
import sqlite3
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select
from sqlalchemy.sql.base import Executable

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class DirectStatement:
    """A read compiled once for `sqlite3`: `?` parameters in `names` order."""

    sql: str
    names: tuple[str, ...]
    binds: tuple[Processor, ...]  # per parameter, in `names` order
    literals: Mapping[str, Any]  # values bound in the statement itself, by parameter name
    results: tuple[Processor, ...]  # per column
    row: Callable[..., Any]  # columns -> a named tuple

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for `params`, converted as SQLAlchemy would bind them."""
        values = []
        for name, bind in zip(self.names, self.binds, strict=True):
            value = params[name] if name in params else self.literals[name]
            values.append(bind(value) if bind is not None and value is not None else value)
        return values

    def convert(self, raw: Sequence[Any]) -> Any:
        """A row as the driver gave it -> the row SQLAlchemy would have given."""
        return self.row(
            *(
                value if process is None or value is None else process(value)
                for process, value in zip(self.results, raw, strict=True)
            )
        )

    def first(self, connection: sqlite3.Connection, params: Mapping[str, Any]) -> Any:
        cursor = connection.execute(self.sql, self.arguments(params))
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return None if raw is None else self.convert(raw)

    def all(self, connection: sqlite3.Connection, params: Mapping[str, Any]) -> list[Any]:
        cursor = connection.execute(self.sql, self.arguments(params))
        try:
            return [self.convert(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()


# By statement object, for as long as it lives: the hot reads are module-level statements, and
# one built per call would be compiled per call (and dropped with it), never kept.
_STATEMENTS: weakref.WeakKeyDictionary[Executable, DirectStatement | None] = (
    weakref.WeakKeyDictionary()
)


def direct_statement(statement: Executable, dialect: Dialect) -> DirectStatement | None:
    """`statement` compiled for `sqlite3`, once per statement object; None when it needs
    SQLAlchemy at execution (not a plain SELECT, expanding or late-rendered parameters)."""
    try:
        return _STATEMENTS[statement]
    except KeyError:
        pass
    direct = None
    if isinstance(statement, Select):
        direct = _compile(statement, dialect)
    _STATEMENTS[statement] = direct
    return direct


def _compile(statement: Select[Any], dialect: Dialect) -> DirectStatement | None:
    compiled = statement.compile(dialect=dialect)
    if "POSTCOMPILE" in compiled.string or compiled.positiontup is None:
        return None
    names = tuple(compiled.positiontup)
    binds: list[Processor] = []
    for name in names:
        parameter = compiled.binds[name]
        if parameter.expanding:
            return None
        binds.append(parameter.type.dialect_impl(dialect).bind_processor(dialect))
    columns = list(statement.selected_columns)
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return DirectStatement(
        sql=compiled.string,
        names=names,
        binds=tuple(binds),
        literals={name: value for name, value in compiled.params.items() if value is not None},
        results=results,
        row=collections.namedtuple(
            "DirectRow", [str(column.key) for column in columns], rename=True
        ),
    )
