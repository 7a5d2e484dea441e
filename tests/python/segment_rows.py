"""Raw Segment tables written by hand, typed the way Segment's loader types them.

A `RawWarehouse` collects call rows in Python and then creates and fills one table per
(schema, table): `id varchar(1024)` primary key, `received_at` and `uuid_ts` first,
then the other columns in the order they were first sent, each typed from its first
non-null value (text, bigint, numeric, boolean, timestamptz). A column that never
received a non-null value is not created, as in Segment. A track call goes into
`tracks` and into its event table with the same id (either copy can be left out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

FIRST_COLUMNS = ("id", "received_at", "uuid_ts")
RECEIVED_AFTER = timedelta(seconds=5)  # Segment receives a call a few seconds later
LOADED_AFTER = timedelta(hours=1)  # and the warehouse loader writes it an hour later
_SAME = object()


def at(text: str) -> datetime:
    """A UTC timestamp from 'YYYY-MM-DD HH:MM[:SS]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def segment_type(value: Any) -> str:
    """The Postgres type Segment gives a column whose first value is `value`."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float | Decimal):
        return "numeric"
    if isinstance(value, datetime):
        return "timestamptz"
    return "text"


@dataclass
class RawTable:
    schema: str
    name: str
    primary_key: bool = True
    types: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        for column, value in row.items():
            if value is not None and column not in self.types:
                self.types[column] = segment_type(value)
        self.rows.append(row)

    def columns(self) -> list[tuple[str, str]]:
        types = {"id": "varchar(1024)", **self.types}
        first = [(name, types[name]) for name in FIRST_COLUMNS if name in types]
        rest = [(n, t) for n, t in types.items() if n not in FIRST_COLUMNS]
        return first + rest


def envelope(
    message_id: str,
    when: datetime | None,
    *,
    received: datetime | object | None = _SAME,
    loaded: datetime | None = None,
    timestamp: datetime | object | None = _SAME,
) -> dict[str, Any]:
    """The envelope of a call that happened at `when`.

    By default Segment received it 5 seconds later, loaded it an hour after that, and
    its skew-corrected `timestamp` is `when`. `timestamp` and `received` override
    those (None: not sent).
    """
    event_time = when if timestamp is _SAME else timestamp
    if received is _SAME:
        received = when + RECEIVED_AFTER if when is not None else None
    if loaded is None:
        loaded = (received or when) + LOADED_AFTER
    return {
        "id": message_id,
        "received_at": received,
        "uuid_ts": loaded,
        "timestamp": event_time,
        "sent_at": event_time,
        "original_timestamp": event_time,
    }


class RawWarehouse:
    """Segment's raw tables of one or more sources, built up call by call."""

    def __init__(self) -> None:
        self.tables: dict[tuple[str, str], RawTable] = {}

    def table(self, schema: str, name: str, *, primary_key: bool = True) -> RawTable:
        key = (schema, name)
        if key not in self.tables:
            self.tables[key] = RawTable(schema, name, primary_key)
        return self.tables[key]

    def row(self, schema: str, name: str, row: dict[str, Any]) -> None:
        self.table(schema, name).add(row)

    def call(
        self, schema: str, table: str, message_id: str, when: datetime | None, **columns
    ) -> None:
        """A row of a call table; `received`, `loaded` and `timestamp` override the
        envelope (see `envelope`), every other keyword is a column."""
        overrides = {
            key: columns.pop(key)
            for key in ("received", "loaded", "timestamp")
            if key in columns
        }
        self.row(schema, table, {**envelope(message_id, when, **overrides), **columns})

    def track(
        self,
        schema: str,
        event: str,
        message_id: str,
        when: datetime | None,
        *,
        properties: dict[str, Any] | None = None,
        in_tracks: bool = True,
        in_event_table: bool = True,
        event_text: str | None = None,
        **columns: Any,
    ) -> None:
        """A track call: a row in `tracks` and one with the same id in `event`."""
        columns = {
            **columns,
            "event": event,
            "event_text": event_text or event.replace("_", " ").title(),
        }
        if in_tracks:
            self.call(schema, "tracks", message_id, when, **columns)
        if in_event_table:
            self.call(schema, event, message_id, when, **columns, **(properties or {}))

    def page(self, schema: str, message_id: str, when: datetime, **columns) -> None:
        self.call(schema, "pages", message_id, when, **columns)

    def screen(self, schema: str, message_id: str, when: datetime, **columns) -> None:
        self.call(schema, "screens", message_id, when, **columns)

    def identify(
        self, schema: str, message_id: str, when: datetime, **columns: Any
    ) -> None:
        """An identify call; trait columns are keyword arguments."""
        self.call(schema, "identifies", message_id, when, **columns)

    def alias(
        self,
        schema: str,
        message_id: str,
        when: datetime,
        previous_id: str,
        user_id: str,
        **columns: Any,
    ) -> None:
        self.call(
            schema,
            "aliases",
            message_id,
            when,
            previous_id=previous_id,
            user_id=user_id,
            **columns,
        )

    def load(self, conn: psycopg.Connection) -> None:
        """Create every schema and table and insert the rows, in the order added."""
        for schema in dict.fromkeys(schema for schema, _ in self.tables):
            conn.execute(
                sql.SQL("create schema if not exists {}").format(sql.Identifier(schema))
            )
        for table in self.tables.values():
            create_table(
                conn,
                table.schema,
                table.name,
                dict(table.columns()),
                primary_key=table.primary_key,
            )
            names = [name for name, _ in table.columns()]
            statement = sql.SQL("insert into {}.{} ({}) values ({})").format(
                sql.Identifier(table.schema),
                sql.Identifier(table.name),
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(", ").join(sql.Placeholder() * len(names)),
            )
            with conn.cursor() as cursor:
                cursor.executemany(
                    statement, [[row.get(name) for name in names] for row in table.rows]
                )


def create_table(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    columns: dict[str, str],
    *,
    primary_key: bool = True,
) -> None:
    """A raw table as Segment's loader makes it (without a key: as other tools do)."""
    parts = [
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(data_type))
        for name, data_type in columns.items()
    ]
    if primary_key:
        parts.append(sql.SQL("primary key (id)"))
    conn.execute(
        sql.SQL("create table {}.{} ({})").format(
            sql.Identifier(schema), sql.Identifier(table), sql.SQL(", ").join(parts)
        )
    )
