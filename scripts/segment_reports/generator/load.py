"""Writing a batch into PostgreSQL the way Segment's loader does.

New tables are created with the columns that received a value (`id, received_at,
uuid_ts` first, the rest by name), loaded with `COPY ... FREEZE` in the creating
transaction and given their primary key afterwards (the same final layout as
creating it first, and much faster). Existing tables get `ALTER TABLE ... ADD
COLUMN` for new columns, appended at the end. `users` and `accounts` are
upserted from the batch's identify and group calls: for each trait the newest
non-null value wins (newest by `uuid_ts`, then `received_at`, then `id`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from .schema import HEAD, ID_TYPE

LOG_SCHEMA = "segment_reports_generator"
LOG_TABLE = "batches"
# pg_advisory_lock key serialising generators on one database ("segrepgn")
LOCK_KEY = 0x7365677265706E

CHUNK = 1 << 17  # psycopg sends COPY data in pieces of this size


def qualified(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def ensure_log(conn: psycopg.Connection) -> None:
    conn.execute(
        sql.SQL("create schema if not exists {}").format(sql.Identifier(LOG_SCHEMA))
    )
    conn.execute(
        sql.SQL(
            """
            create table if not exists {} (
                schema_name text not null,
                batch_number integer not null,
                source_kind text not null,
                seed bigint not null,
                world_seed bigint not null,
                anchor_at timestamptz not null,
                release_at timestamptz not null,
                population integer not null,
                rate_scale double precision not null,
                period_start timestamptz not null,
                period_end timestamptz not null,
                uuid_ts timestamptz not null,
                overlap_salt integer not null,
                events bigint not null,
                row_counts jsonb not null,
                arguments jsonb not null,
                generated_at timestamptz not null default now(),
                primary key (schema_name, batch_number)
            )
            """
        ).format(qualified(LOG_SCHEMA, LOG_TABLE))
    )


def read_batches(conn: psycopg.Connection, schema: str | None = None) -> list[dict]:
    """The generator's log, oldest first (all schemas, or one)."""
    exists = conn.execute(
        "select to_regclass(%s) is not null", (f"{LOG_SCHEMA}.{LOG_TABLE}",)
    ).fetchone()[0]
    if not exists:
        return []
    query = sql.SQL("select * from {} {} order by schema_name, batch_number").format(
        qualified(LOG_SCHEMA, LOG_TABLE),
        sql.SQL("where schema_name = %s" if schema else ""),
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (schema,) if schema else ()).fetchall()


def write_log(conn: psycopg.Connection, row: dict[str, Any]) -> None:
    row = dict(row)
    row["row_counts"] = json.dumps(row["row_counts"], sort_keys=True)
    row["arguments"] = json.dumps(row["arguments"], sort_keys=True)
    columns = list(row)
    conn.execute(
        sql.SQL("insert into {} ({}) values ({})").format(
            qualified(LOG_SCHEMA, LOG_TABLE),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
        ),
        row,
    )


def existing_tables(conn: psycopg.Connection, schema: str) -> dict[str, dict[str, str]]:
    """Tables of `schema` with their columns and types, in column order."""
    rows = conn.execute(
        """
        select c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0
            and not a.attisdropped
        where n.nspname = %s and c.relkind in ('r', 'p')
        order by c.relname, a.attnum
        """,
        (schema,),
    ).fetchall()
    found: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        found.setdefault(table, {})[column] = data_type
    return found


def _pg_type(data_type: str) -> str:
    return "character varying(1024)" if data_type == ID_TYPE else data_type


def column_defs(columns: Iterable[str], types: dict[str, str]) -> list[sql.Composed]:
    defs = []
    for column in columns:
        clause = sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(types[column]))
        if column == "id":
            clause = sql.SQL("{} not null").format(clause)
        defs.append(clause)
    return defs


def creation_order(present: Iterable[str]) -> list[str]:
    """Segment's order for a new table's columns: id, received_at, uuid_ts, by name."""
    rest = sorted(c for c in present if c not in HEAD)
    return [*HEAD, *rest]


def create_table(
    cur: psycopg.Cursor,
    schema: str,
    table: str,
    columns: list[str],
    types: dict[str, str],
    primary_key: bool = False,
) -> None:
    defs = column_defs(columns, types)
    if primary_key:
        defs.append(sql.SQL("primary key (id)"))
    cur.execute(
        sql.SQL("create table {} ({})").format(
            qualified(schema, table), sql.SQL(", ").join(defs)
        )
    )


def add_columns(
    cur: psycopg.Cursor,
    schema: str,
    table: str,
    columns: list[str],
    types: dict[str, str],
) -> None:
    if not columns:
        return
    cur.execute(
        sql.SQL("alter table {} {}").format(
            qualified(schema, table),
            sql.SQL(", ").join(
                sql.SQL("add column {}").format(d) for d in column_defs(columns, types)
            ),
        )
    )


def add_primary_key(cur: psycopg.Cursor, schema: str, table: str) -> None:
    # sort the ids in memory (a 10M-row table needs about 1 GB), never lowering
    # what the server already allows
    cur.execute(
        "select set_config('maintenance_work_mem', '1GB', true) from pg_settings"
        " where name = 'maintenance_work_mem' and setting::bigint < 1024 * 1024"
    )
    cur.execute(
        sql.SQL("alter table {} add primary key (id)").format(qualified(schema, table))
    )


def copy_files(
    cur: psycopg.Cursor,
    schema: str,
    table: str,
    layout: list[str],
    columns: list[str],
    paths: list[str],
    freeze: bool,
    on_bytes: Callable[[int], None],
) -> None:
    """COPY the files (rows in `layout` order) into `columns` of the table.

    When some layout columns are left out (absent from the table and null in
    every row of this batch) each line is cut down to the kept fields.
    """
    statement = sql.SQL("copy {} ({}) from stdin{}").format(
        qualified(schema, table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(" (freeze)" if freeze else ""),
    )
    keep = None
    if columns != layout:
        keep = itemgetter(*[layout.index(c) for c in columns])
    with cur.copy(statement) as copy:
        for path in paths:
            with open(path, "rb") as handle:
                if keep is None:
                    while data := handle.read(CHUNK):
                        copy.write(data)
                        on_bytes(len(data))
                    continue
                out: list[bytes] = []
                size = 0
                for line in handle:
                    size += len(line)
                    out.append(b"\t".join(keep(line[:-1].split(b"\t"))))
                    if len(out) >= 5000:
                        copy.write(b"\n".join(out) + b"\n")
                        on_bytes(size)
                        out, size = [], 0
                if out:
                    copy.write(b"\n".join(out) + b"\n")
                    on_bytes(size)


def upsert(
    cur: psycopg.Cursor,
    schema: str,
    target: str,
    source: str,
    key: str,
    traits: list[str],
    uuid_ts: Any,
) -> int:
    """Merge this batch's rows of `source` into `target` (users or accounts).

    One row per key; each trait takes the batch's newest non-null value (by
    received_at, then id) and keeps the stored value when the batch has none.
    """
    picks = [
        sql.SQL(
            "(array_agg({c} order by received_at desc, id desc)"
            " filter (where {c} is not null))[1]"
        ).format(c=sql.Identifier(t))
        for t in traits
    ]
    updates = [
        sql.SQL("received_at = excluded.received_at"),
        sql.SQL("uuid_ts = excluded.uuid_ts"),
    ] + [
        sql.SQL("{c} = coalesce(excluded.{c}, stored.{c})").format(c=sql.Identifier(t))
        for t in traits
    ]
    statement = sql.SQL(
        """
        insert into {target} as stored ({columns})
        select {key}, max(received_at), max(uuid_ts){picks}
        from {source}
        where uuid_ts = %(uuid_ts)s and {key} is not null and {key} <> ''
        group by {key}
        on conflict (id) do update set {updates}
        """
    ).format(
        target=qualified(schema, target),
        columns=sql.SQL(", ").join(
            map(sql.Identifier, ["id", "received_at", "uuid_ts", *traits])
        ),
        key=sql.Identifier(key),
        picks=sql.SQL("").join(sql.SQL(", ") + p for p in picks),
        source=qualified(schema, source),
        updates=sql.SQL(", ").join(updates),
    )
    cur.execute(statement, {"uuid_ts": uuid_ts})
    return cur.rowcount


def schemas_like(conn: psycopg.Connection, prefix: str) -> list[str]:
    """Schemas whose name starts with `prefix`."""
    rows = conn.execute(
        "select nspname from pg_namespace where starts_with(nspname, %s) order by 1",
        (prefix,),
    ).fetchall()
    return [r[0] for r in rows]


def drop_schemas(conn: psycopg.Connection, schemas: Iterable[str]) -> None:
    for schema in schemas:
        conn.execute(
            sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
        )
