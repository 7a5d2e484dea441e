"""A warehouse that is not ours: foreign tables, odd values, settings that change.

Raw tables are written by hand next to real Segment tables, the way other tools and
people leave them in Segment's schemas; expected rows are worked out from those raw
rows. The database's sessions default to Asia/Kolkata, so that a model depending
on the session's time zone would show it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import psycopg
import pytest
from psycopg import sql

from dbt_helpers import DbtRunner, libpq_env
from incremental_helpers import (
    ENVELOPE,
    TRACK,
    at,
    create_table,
    fetch,
    insert,
    insert_track,
    mart_differences,
    track,
)
from reference import project_vars

ZONE = "Asia/Kolkata"
LOAD_1 = at("2024-03-02 00:00")
LOAD_2 = at("2024-03-03 00:00")


@pytest.fixture
def zoned_database(pg_database: dict) -> dict:
    with psycopg.connect(**pg_database, autocommit=True) as conn:
        conn.execute(
            sql.SQL("alter database {} set timezone = {}").format(
                sql.Identifier(pg_database["dbname"]), sql.Literal(ZONE)
            )
        )
    return pg_database


@pytest.fixture
def zoned(zoned_database: dict, tmp_path) -> Iterator[SimpleNamespace]:
    with psycopg.connect(**zoned_database, autocommit=True) as conn:
        assert conn.execute("show timezone").fetchone()[0] == ZONE
        yield SimpleNamespace(
            conn=conn, dbt=DbtRunner(libpq_env(zoned_database), tmp_path)
        )


# --------------------------------------------------------------- foreign tables
def load_foreign_tables(conn: psycopg.Connection) -> None:
    conn.execute("create schema production")
    create_table(conn, "production", "tracks", TRACK)
    create_table(
        conn, "production", "deployments_show", {**TRACK, "deployment_name": "text"}
    )
    for message_id, minute in (("show-1", "10:00"), ("show-2", "10:05")):
        insert_track(
            conn,
            "production",
            track(
                message_id,
                f"2024-03-01 {minute}",
                LOAD_1,
                "deployments_show",
                anonymous_id="device-1",
                deployment_name="api",
            ),
        )
    # An event table whose "timestamp" column is text (as an import left it): one
    # value without an offset (UTC), one that is no time at all. Its calls are in
    # the event table only.
    create_table(conn, "production", "signed_up", {**TRACK, "timestamp": "text"})
    received = at("2024-03-01 11:00")
    for message_id, stamp in (("sign-1", "2024-03-01 09:00:00"), ("sign-2", "soon")):
        insert(
            conn,
            "production",
            "signed_up",
            {
                "id": message_id,
                "anonymous_id": "device-2",
                "event": "signed_up",
                "event_text": "Signed Up",
                "timestamp": stamp,
                "received_at": received,
                "uuid_ts": LOAD_1,
            },
        )
    # Another tool's table with Segment's envelope names and its own types.
    conn.execute(
        "create table production.imported_orders (id bigint primary key,"
        " received_at bigint, uuid_ts bigint, event text, amount numeric)"
    )
    conn.execute(
        "insert into production.imported_orders values (1, 1709280000, 1709280000,"
        " 'order', 9.5)"
    )
    # An event table without uuid_ts, a view and a backup copy of tracks.
    create_table(conn, "production", "no_load_time", {k: v for k, v in TRACK.items()})
    conn.execute("alter table production.no_load_time drop column uuid_ts")
    conn.execute(
        "insert into production.no_load_time (id, received_at, event)"
        " values ('nlt-1', '2024-03-01 10:00+00', 'no_load_time')"
    )
    conn.execute(
        "create view production.recent_tracks as select * from production.tracks"
    )
    conn.execute(
        "create table production.tracks_backup as select * from production.tracks"
    )
    # A Segment source nobody listed in segment_schemas.
    conn.execute("create schema ios")
    create_table(conn, "ios", "tracks", TRACK)


def test_foreign_tables_are_ignored_with_reasons_and_odd_values_are_null(zoned):
    load_foreign_tables(zoned.conn)
    result = zoned.dbt("build", "--exclude-resource-type", "unit_test")
    output = result.stdout

    ignored = dict(
        fetch(
            zoned.conn,
            "select table_name, reason from analytics_ops.ignored_tables"
            " where source_schema = 'production'",
        )
    )
    assert set(ignored) == {
        "imported_orders",
        "no_load_time",
        "recent_tracks",
        "tracks_backup",
    }
    assert "id is bigint, not a string" in ignored["imported_orders"]
    assert "received_at is bigint, not a timestamp" in ignored["imported_orders"]
    assert "no uuid_ts column" in ignored["no_load_time"]
    assert "view" in ignored["recent_tracks"]
    assert "copy of tracks" in ignored["tracks_backup"]
    for table, reason in ignored.items():
        assert f"ignoring production.{table}: {reason}" in output

    # The unlisted Segment source is a warning naming it.
    assert "ios hold Segment tables but are not in segment_schemas" in output

    # Every call once, under its own event; the backup copy adds nothing.
    events = {
        row[0]: row[1:]
        for row in fetch(
            zoned.conn,
            "select event_id, event_name, occurred_at from analytics.events",
        )
    }
    assert set(events) == {"show-1", "show-2", "sign-1", "sign-2"}
    assert events["show-1"][0] == "deployments_show"
    # Text without an offset is UTC; a value that is no time falls back to
    # received_at (the event-time rule), whatever the session's zone.
    assert events["sign-1"] == ("signed_up", at("2024-03-01 09:00"))
    assert events["sign-2"] == ("signed_up", at("2024-03-01 11:00"))

    assert fetch(
        zoned.conn,
        "select source_schema, table_name, column_name, message_id, raw_value"
        " from analytics_ops.uncastable_values",
    ) == [("production", "signed_up", "timestamp", "sign-2", "soon")]
    assert "1 value(s) of production.signed_up.timestamp are not timestamps" in output
    assert "id sign-2" in output


def test_a_garbage_timestamp_in_a_default_table_never_fails_the_run(zoned):
    zoned.conn.execute("create schema production")
    create_table(zoned.conn, "production", "pages", {**ENVELOPE, "timestamp": "text"})
    rows = [
        ("page-1", "2024-03-01T08:30:00Z"),
        ("page-2", "2024-02-30 10:00:00"),  # no such day
        ("page-3", ""),
    ]
    for message_id, stamp in rows:
        insert(
            zoned.conn,
            "production",
            "pages",
            {
                "id": message_id,
                "anonymous_id": "device-3",
                "timestamp": stamp,
                "received_at": at("2024-03-01 12:00"),
                "uuid_ts": LOAD_1,
            },
        )
    zoned.dbt("run")
    assert dict(
        fetch(zoned.conn, "select event_id, occurred_at from analytics.events")
    ) == {
        "page-1": at("2024-03-01 08:30"),
        "page-2": at("2024-03-01 12:00"),
        "page-3": at("2024-03-01 12:00"),
    }
    assert sorted(
        fetch(
            zoned.conn,
            "select message_id, raw_value from analytics_ops.uncastable_values",
        )
    ) == [("page-2", "2024-02-30 10:00:00"), ("page-3", "")]


# -------------------------------------------------------------------- settings
def test_every_wrong_var_is_named_before_anything_is_written(zoned):
    zoned.conn.execute("create schema production")
    cases = [
        (
            {
                "session_timeout_minutes": 0,
                "incremental_lookback_hours": -1,
                "segment_schemas": "production",
                "identity_ignore_values": "null",
                "excluded_user_ids": {"a": 1},
            },
            [
                "session_timeout_minutes must be a whole number of minutes from 1 "
                "to 1440 (one day); got 0 (a number)",
                "incremental_lookback_hours must be a number of hours from 1 to "
                "8760; got -1 (a number)",
                "segment_schemas must be a list of schema names, for example "
                '[production, ios]; got "production" (a string)',
                "identity_ignore_values must be a list of strings, for example "
                "['', 'null']; got \"null\" (a string)",
                "excluded_user_ids must be a list of strings",
            ],
        ),
        (
            {
                "session_timeout_minutes": "abc",
                "incremental_lookback_hours": "abc",
                "segment_schemas": [],
            },
            [
                "session_timeout_minutes must be a whole number of minutes from 1 "
                'to 1440 (one day); got "abc" (a string)',
                "incremental_lookback_hours must be a number of hours from 1 to "
                '8760; got "abc" (a string)',
                "segment_schemas is empty",
            ],
        ),
        (
            {
                "session_timeout_minutes": -5,
                "incremental_lookback_hours": 0.5,
                "segment_schemas": [""],
            },
            [
                "got -5 (a number)",
                "got 0.5 (a number)",
                'segment_schemas must hold schema names (non-empty strings); got ""',
            ],
        ),
        (
            {"session_timeout_minutes": 30.5, "incremental_lookback_hours": True},
            ["got 30.5 (a number)", "got true (a boolean)"],
        ),
    ]
    for wrong, messages in cases:
        result = zoned.dbt("build", vars=wrong, check=False)
        assert result.returncode != 0, wrong
        for message in messages:
            assert message in result.stdout, (message, result.stdout[-3000:])
        written = fetch(
            zoned.conn,
            "select nspname from pg_namespace where nspname like 'analytics%'",
        )
        assert written == [], (wrong, written)


def load_sessions(conn: psycopg.Connection) -> None:
    """device-1: three pages 40 minutes apart (two gaps between 30 and 45
    minutes), device-2 in a second source `ios`, u-staff's page, and a page of user
    id `guest` (a junk value some teams send) on device-4."""
    for schema in ("production", "ios"):
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
        create_table(conn, schema, "pages", ENVELOPE)
        create_table(conn, schema, "identifies", ENVELOPE)
    start = at("2024-03-01 10:00")
    for index in range(3):
        happened = start + timedelta(minutes=40 * index)
        insert(
            conn,
            "production",
            "pages",
            {
                "id": f"p-{index}",
                "anonymous_id": "device-1",
                "timestamp": happened,
                "received_at": happened,
                "uuid_ts": LOAD_1,
            },
        )
    insert(
        conn,
        "production",
        "pages",
        {
            "id": "staff-1",
            "anonymous_id": "device-staff",
            "user_id": "u-staff",
            "timestamp": start,
            "received_at": start,
            "uuid_ts": LOAD_1,
        },
    )
    insert(
        conn,
        "production",
        "pages",
        {
            "id": "guest-1",
            "anonymous_id": "device-4",
            "user_id": "guest",
            "timestamp": start,
            "received_at": start,
            "uuid_ts": LOAD_1,
        },
    )
    insert(
        conn,
        "ios",
        "pages",
        {
            "id": "ios-1",
            "anonymous_id": "device-2",
            "timestamp": start,
            "received_at": start,
            "uuid_ts": LOAD_1,
        },
    )


def sessions_of(conn: psycopg.Connection, schema: str = "analytics") -> list:
    return fetch(
        conn,
        sql.SQL(
            "select person_id, started_at, event_count from {}.sessions"
            " order by person_id, started_at"
        )
        .format(sql.Identifier(schema))
        .as_string(conn),
    )


def test_changed_settings_rebuild_what_they_change_by_themselves(zoned, tmp_path):
    conn, dbt = zoned.conn, zoned.dbt
    load_sessions(conn)
    both = {"segment_schemas": ["production", "ios"]}
    dbt("build", "--exclude-resource-type", "unit_test", vars=both)
    start = at("2024-03-01 10:00")
    assert sessions_of(conn) == [
        ("device-1", start, 1),
        ("device-1", start + timedelta(minutes=40), 1),
        ("device-1", start + timedelta(minutes=80), 1),
        ("device-2", start, 1),
        ("guest", start, 1),
        ("u-staff", start, 1),
    ]

    # A longer timeout joins device-1's pages into one session, old rows included,
    # in the plain run that first sees it; the data tests pass.
    longer = {**both, "session_timeout_minutes": 45}
    result = dbt("build", "--exclude-resource-type", "unit_test", vars=longer)
    assert "settings changed since the last build" in result.stdout
    assert "session_timeout_minutes: 30 -> 45" in result.stdout
    assert sessions_of(conn) == [
        ("device-1", start, 3),
        ("device-2", start, 1),
        ("guest", start, 1),
        ("u-staff", start, 1),
    ]
    device_sessions = fetch(
        conn,
        "select distinct session_id from analytics.events"
        " where anonymous_id = 'device-1'",
    )
    assert len(device_sessions) == 1

    # The same settings again: nothing is rebuilt.
    result = dbt("run", vars=longer)
    assert "settings changed" not in result.stdout

    # Excluding a user and dropping a source take their rows out of every mart;
    # a new junk value turns `guest` back into the anonymous device it came from.
    narrower = {
        "segment_schemas": ["production"],
        "session_timeout_minutes": 45,
        "excluded_user_ids": ["u-staff"],
        "identity_ignore_values": [
            *project_vars()["identity_ignore_values"],
            "Guest",
        ],
    }
    result = dbt("build", "--exclude-resource-type", "unit_test", vars=narrower)
    assert "segment_schemas no longer lists ios" in result.stdout
    assert sessions_of(conn) == [("device-1", start, 3), ("device-4", start, 1)]
    assert fetch(
        conn,
        "select event_id, user_id, person_id from analytics.events"
        " where event_id in ('guest-1', 'staff-1', 'ios-1')",
    ) == [("guest-1", None, "device-4")]
    assert fetch(conn, "select count(*) from analytics.users") == [(0,)]

    # What the changed runs left equals a full build with the final settings.
    fresh = DbtRunner(libpq_env(zoned_conninfo(conn)), tmp_path / "fresh", "fresh")
    fresh("run", vars=narrower)
    assert mart_differences(conn, "fresh", "analytics") == {}


def zoned_conninfo(conn: psycopg.Connection) -> dict:
    info = conn.info
    return {
        "host": info.host,
        "port": str(info.port),
        "user": info.user,
        "dbname": info.dbname,
        "password": info.password,
    }


def test_a_lookback_below_the_minimum_is_refused_on_an_existing_build(zoned):
    load_sessions(zoned.conn)
    zoned.dbt("run")
    before = fetch(zoned.conn, "select count(*) from analytics.events")
    insert(
        zoned.conn,
        "production",
        "pages",
        {
            "id": "p-late",
            "anonymous_id": "device-1",
            "timestamp": at("2024-03-01 13:00"),
            "received_at": at("2024-03-01 13:00"),
            "uuid_ts": LOAD_2,
        },
    )
    result = zoned.dbt("run", vars={"incremental_lookback_hours": -1}, check=False)
    assert result.returncode != 0
    assert "incremental_lookback_hours must be a number of hours" in result.stdout
    assert fetch(zoned.conn, "select count(*) from analytics.events") == before
    zoned.dbt("run")
    assert fetch(
        zoned.conn, "select count(*) from analytics.events where event_id = 'p-late'"
    ) == [(1,)]
