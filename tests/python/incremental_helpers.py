"""Helpers for the incremental-correctness tests (test_incremental.py).

- writing raw Segment rows by hand into existing or new raw tables;
- running several dbt targets side by side (two cores: two dbt processes);
- comparing the marts of two target schemas row for row with SQL `EXCEPT ALL`,
  by column name (an incremental run may append a new trait column at the end
  of `users`, where a full build puts it among the others);
- comparing marts with the independent Python implementation in reference.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from reference import Reference

MARTS = (
    "events",
    "sessions",
    "users",
    "daily_active_users",
    "daily_event_counts",
    "monthly_event_counts",
    "deployment_views_by_user",
    "monthly_deployments_created",
    "weekly_retention",
    "accounts",
    "account_members",
    "funnel_conversions",
)

ENVELOPE = {
    "id": "varchar(1024)",
    "received_at": "timestamptz",
    "uuid_ts": "timestamptz",
    "anonymous_id": "text",
    "user_id": "text",
    "timestamp": "timestamptz",
    "sent_at": "timestamptz",
    "original_timestamp": "timestamptz",
}
TRACK = {**ENVELOPE, "event": "text", "event_text": "text"}

# users columns that are not identify traits
USER_OWN_COLUMNS = {
    "user_id",
    "merged_user_ids",
    "event_count",
    "session_count",
    "identify_count",
    "first_seen_at",
    "last_seen_at",
    "first_touch_channel",
}


# --- raw rows -------------------------------------------------------------------------
def at(text: str) -> datetime:
    """A UTC timestamp from 'YYYY-MM-DD HH:MM[:SS]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def call(
    message_id: str, happened: str | datetime, loaded: datetime, **columns
) -> dict:
    """A raw call row: event time `happened`, received 2 s later, loaded `loaded`."""
    when = at(happened) if isinstance(happened, str) else happened
    row = {
        "id": message_id,
        "timestamp": when,
        "original_timestamp": when,
        "sent_at": when,
        "received_at": when + timedelta(seconds=2),
        "uuid_ts": loaded,
    }
    row.update(columns)
    return row


def track(
    message_id: str, happened: str | datetime, loaded: datetime, event: str, **columns
) -> dict:
    """A track call row (for `tracks` and its event table alike)."""
    text = event.replace("_", " ").title()
    return call(message_id, happened, loaded, event=event, event_text=text, **columns)


def create_table(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    columns: dict[str, str],
    *,
    primary_key: bool = True,
    if_missing: bool = False,
) -> None:
    """A raw table as Segment's loader makes it (without a key: as other tools do)."""
    parts = [
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(data_type))
        for name, data_type in columns.items()
    ]
    if primary_key:
        parts.append(sql.SQL("primary key (id)"))
    conn.execute(
        sql.SQL("create table {}{}.{} ({})").format(
            sql.SQL("if not exists " if if_missing else ""),
            sql.Identifier(schema),
            sql.Identifier(table),
            sql.SQL(", ").join(parts),
        )
    )


def insert(conn: psycopg.Connection, schema: str, table: str, *rows: dict) -> None:
    for row in rows:
        conn.execute(
            sql.SQL("insert into {}.{} ({}) values ({})").format(
                sql.Identifier(schema),
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, row)),
                sql.SQL(", ").join(sql.Placeholder() * len(row)),
            ),
            list(row.values()),
        )


def insert_track(conn: psycopg.Connection, schema: str, row: dict) -> None:
    """A track call as Segment writes it: a row in `tracks` and in its event table.

    Property columns (anything not in the envelope) go to the event table only.
    """
    envelope = {k: v for k, v in row.items() if k in TRACK}
    insert(conn, schema, "tracks", envelope)
    insert(conn, schema, row["event"], row)


def drop_primary_key(conn: psycopg.Connection, schema: str, table: str) -> None:
    """What another loader's copy of a table looks like: no key on `id`."""
    name = conn.execute(
        "select conname from pg_constraint where conrelid = %s::regclass "
        "and contype = 'p'",
        (sql.Identifier(schema, table).as_string(conn),),
    ).fetchone()[0]
    conn.execute(
        sql.SQL("alter table {} drop constraint {}").format(
            sql.Identifier(schema, table), sql.Identifier(name)
        )
    )


def fetch(conn: psycopg.Connection, query: str, params: Any = None) -> list[tuple]:
    return conn.execute(query, params).fetchall()


# --- dbt ------------------------------------------------------------------------------
def in_parallel(*jobs: Callable[[], Any]) -> list[Any]:
    """Run jobs (dbt invocations on different targets) at once; their results."""
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [future.result() for future in futures]


# --- comparing two target schemas -----------------------------------------------------
def columns_of(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    return [
        name
        for (name,) in fetch(
            conn,
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
    ]


def copy_marts(conn: psycopg.Connection, source: str, target: str) -> None:
    """Copy every mart of schema `source` into a new schema `target`."""
    conn.execute(sql.SQL("create schema {}").format(sql.Identifier(target)))
    for mart in MARTS:
        conn.execute(
            sql.SQL("create table {} as select * from {}").format(
                sql.Identifier(target, mart), sql.Identifier(source, mart)
            )
        )


def _rows_only_in(
    conn: psycopg.Connection, left: str, right: str, table: str, columns: list[str]
) -> tuple[int, list[tuple]]:
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    difference = sql.SQL("select {c} from {l} except all select {c} from {r}").format(
        c=names, l=sql.Identifier(left, table), r=sql.Identifier(right, table)
    )
    count = conn.execute(
        sql.SQL("select count(*) from ({}) as d").format(difference)
    ).fetchone()[0]
    sample = conn.execute(
        sql.SQL("select * from ({}) as d order by 1, 2 limit 5").format(difference)
    ).fetchall()
    return count, sample


def mart_differences(
    conn: psycopg.Connection,
    left: str,
    right: str,
    marts: Iterable[str] = MARTS,
    ignore: Iterable[str] = (),
) -> dict[str, str]:
    """{mart: description} of every mart whose rows differ between two schemas.

    Rows are compared as bags (EXCEPT ALL, both ways) over the columns by name,
    but those in `ignore`; a mart whose column sets differ is reported as such.
    """
    problems: dict[str, str] = {}
    for mart in marts:
        left_columns = [c for c in columns_of(conn, left, mart) if c not in ignore]
        right_columns = [c for c in columns_of(conn, right, mart) if c not in ignore]
        if not left_columns or not right_columns:
            problems[mart] = f"missing in {left if not left_columns else right}"
            continue
        if set(left_columns) != set(right_columns):
            problems[mart] = (
                f"columns differ: only in {left}: "
                f"{sorted(set(left_columns) - set(right_columns))}, only in {right}: "
                f"{sorted(set(right_columns) - set(left_columns))}"
            )
            continue
        columns = left_columns  # by name on both sides; samples sort by the first
        only_left, left_sample = _rows_only_in(conn, left, right, mart, columns)
        only_right, right_sample = _rows_only_in(conn, right, left, mart, columns)
        if only_left or only_right:
            problems[mart] = (
                f"columns {columns}\n"
                f"  {only_left} rows only in {left}, e.g. {left_sample}\n"
                f"  {only_right} rows only in {right}, e.g. {right_sample}"
            )
    return problems


def describe(problems: dict[str, str]) -> str:
    return "\n".join(f"{mart}: {text}" for mart, text in problems.items())


# --- comparing with the reference implementation --------------------------------------
def _plain(value: Any) -> Any:
    """A value in the form jsonb gives back (for comparing properties)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _dict_diff(expected: dict, actual: dict, limit: int = 8) -> str:
    missing = sorted(set(expected) - set(actual), key=str)
    extra = sorted(set(actual) - set(expected), key=str)
    different = [
        (key, expected[key], actual[key])
        for key in sorted(set(expected) & set(actual), key=str)
        if expected[key] != actual[key]
    ]
    if not (missing or extra or different):
        return ""
    lines = [
        f"{len(expected)} expected, {len(actual)} actual rows; "
        f"{len(missing)} missing, {len(extra)} unexpected, {len(different)} differ"
    ]
    lines += [f"  missing {key}: {expected[key]}" for key in missing[:limit]]
    lines += [f"  unexpected {key}: {actual[key]}" for key in extra[:limit]]
    lines += [
        f"  {key}:\n    expected {want}\n    actual   {got}"
        for key, want, got in different[:limit]
    ]
    return "\n".join(lines)


def _select(conn: psycopg.Connection, schema: str, table: str) -> list[dict]:
    query = sql.SQL("select * from {}").format(sql.Identifier(schema, table))
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(query).fetchall()


EVENT_FIELDS = (
    "event_type",
    "event_name",
    "event_text",
    "occurred_at",
    "received_at",
    "loaded_at",
    "anonymous_id",
    "user_id",
    "resolved_user_id",
    "person_id",
    "session_id",
    "page_url",
    "page_path",
    "referrer",
)


def events_vs_reference(conn, schema: str, ref: Reference) -> str:
    expected = {
        key: tuple(getattr(call, f) for f in EVENT_FIELDS)
        for key, call in ref.events().items()
    }
    actual = {
        (row["source_schema"], row["event_id"]): tuple(row[f] for f in EVENT_FIELDS)
        for row in _select(conn, schema, "events")
    }
    return _dict_diff(expected, actual)


def track_properties_vs_reference(conn, schema: str, ref: Reference) -> str:
    expected = {
        key: {k: _plain(v) for k, v in call.properties.items()}
        for key, call in ref.events().items()
        if call.event_type == "track"
    }
    actual = {
        (row["source_schema"], row["event_id"]): row["properties"]
        for row in _select(conn, schema, "events")
        if row["event_type"] == "track"
    }
    return _dict_diff(expected, actual)


def session_membership_vs_reference(conn, schema: str, ref: Reference) -> str:
    """Each session as the set of its events, independent of how ids are made."""

    def groups(pairs: Iterable[tuple]) -> dict[frozenset, int]:
        members: dict[Any, set] = {}
        for session_id, key in pairs:
            if session_id is not None:
                members.setdefault(session_id, set()).add(key)
        bag: dict[frozenset, int] = {}
        for keys in members.values():
            bag[frozenset(keys)] = bag.get(frozenset(keys), 0) + 1
        return bag

    expected = groups((c.session_id, c.key) for c in ref.events().values())
    actual = groups(
        (row["session_id"], (row["source_schema"], row["event_id"]))
        for row in _select(conn, schema, "events")
    )
    return _dict_diff(
        {tuple(sorted(k)): v for k, v in expected.items()},
        {tuple(sorted(k)): v for k, v in actual.items()},
    )


SESSION_FIELDS = (
    "person_id",
    "resolved_user_id",
    "anonymous_id",
    "source_schema",
    "session_number",
    "started_at",
    "ended_at",
    "event_count",
    "page_view_count",
    "landing_page_path",
    "exit_page_path",
    "channel",
)


def sessions_vs_reference(conn, schema: str, ref: Reference) -> str:
    expected = {
        s["session_id"]: tuple(s[f] for f in SESSION_FIELDS) for s in ref.sessions
    }
    actual = {
        row["session_id"]: tuple(row[f] for f in SESSION_FIELDS)
        for row in _select(conn, schema, "sessions")
    }
    return _dict_diff(expected, actual)


def users_vs_reference(conn, schema: str, ref: Reference) -> str:
    rows = _select(conn, schema, "users")
    trait_columns = sorted(set(rows[0]) - USER_OWN_COLUMNS) if rows else []
    expected_users = ref.users()
    unknown = {t for u in expected_users.values() for t in u["traits"]} - set(
        trait_columns
    )
    if rows and unknown:
        return f"trait columns missing from users: {sorted(unknown)}"

    def shape(user: dict, traits: dict) -> tuple:
        return (
            tuple(user["merged_user_ids"]),
            user["first_seen_at"],
            user["last_seen_at"],
            user["event_count"],
            user["session_count"],
            user["first_touch_channel"],
            tuple((t, _plain(traits.get(t))) for t in trait_columns),
        )

    expected = {
        user_id: shape(user, user["traits"]) for user_id, user in expected_users.items()
    }
    actual = {
        row["user_id"]: shape(
            {**row, "merged_user_ids": list(row["merged_user_ids"])},
            {t: row[t] for t in trait_columns},
        )
        for row in rows
    }
    return _dict_diff(expected, actual)


def daily_active_users_vs_reference(conn, schema: str, ref: Reference) -> str:
    expected = ref.daily_active_users()
    actual = {
        row["activity_date"]: (
            int(row["active_users_1d"]),
            int(row["active_users_7d"]),
            int(row["active_users_28d"]),
            int(row["new_users"]),
        )
        for row in _select(conn, schema, "daily_active_users")
    }
    return _dict_diff(expected, actual)


def weekly_retention_vs_reference(conn, schema: str, ref: Reference) -> str:
    actual = {
        (row["cohort_week"], row["weeks_since_first_seen"]): (
            int(row["cohort_size"]),
            int(row["retained_persons"]),
        )
        for row in _select(conn, schema, "weekly_retention")
    }
    return _dict_diff(ref.weekly_retention(), actual)


def funnel_conversions_vs_reference(conn, schema: str, ref: Reference) -> str:
    """Counts exactly, medians to a microsecond (the mart's are float8); the rates
    must follow from the counts."""

    def rounded(value) -> float | None:
        return None if value is None else round(float(value), 6)

    actual = {}
    for row in _select(conn, schema, "funnel_conversions"):
        entered, reached = int(row["persons_entered"]), int(row["persons_reached"])
        assert abs(float(row["conversion_rate"]) - reached / entered) < 1e-12
        actual[(row["funnel_name"], row["cohort_date"], row["step_number"])] = (
            entered,
            reached,
            rounded(row["median_seconds_from_entry"]),
            rounded(row["median_seconds_from_previous_step"]),
        )
    expected = {
        key: (entered, reached, rounded(from_entry), rounded(from_previous))
        for key, (entered, reached, from_entry, from_previous)
        in ref.funnel_conversions().items()
    }  # fmt: skip
    return _dict_diff(expected, actual)


def counts_vs_reference(
    conn, schema: str, mart: str, period: str, expected: dict[tuple[date, str], tuple]
) -> str:
    actual = {
        (row[period], row["event_name"]): (row["event_count"], row["person_count"])
        for row in _select(conn, schema, mart)
    }
    return _dict_diff(expected, actual)
