"""Staging models over raw Segment tables written by hand.

Each scenario is small and its expected rows are worked out by hand from the raw rows
below, never copied from dbt's output. One module-level warehouse with two sources is
built once and checked by several tests, since every dbt invocation costs seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import psycopg
import pytest
from psycopg import sql

from dbt_helpers import DbtRunner, libpq_env

STAGING = "analytics_staging"
MODELS = {
    "stg_segment__tracks": ("source_schema", "event_id"),
    "stg_segment__track_properties": ("source_schema", "event_id"),
    "stg_segment__pages": ("source_schema", "event_id"),
    "stg_segment__screens": ("source_schema", "event_id"),
    "stg_segment__identifies": ("source_schema", "message_id"),
    "stg_segment__aliases": ("source_schema", "message_id"),
    "stg_segment__groups": ("source_schema", "message_id"),
    "stg_segment__users": ("source_schema", "user_id"),
    "stg_segment__accounts": ("source_schema", "account_id"),
}

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


def at(text: str) -> datetime:
    """A UTC timestamp from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


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


def call(message_id: str, loaded: str, **columns) -> dict:
    """A raw call row, received 2024-03-01 10:00 with timestamp 09:59 unless given."""
    return {
        "id": message_id,
        "received_at": at("2024-03-01 10:00"),
        "timestamp": at("2024-03-01 09:59"),
        "uuid_ts": at(loaded),
        **columns,
    }


def fetch(conn: psycopg.Connection, query: str) -> list[tuple]:
    return conn.execute(query).fetchall()


def column_types(conn: psycopg.Connection, table: str) -> dict[str, str]:
    rows = fetch(
        conn,
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{STAGING}' and table_name = '{table}'",
    )
    return dict(rows)


@pytest.fixture(scope="module")
def module_database(pg_cluster, request) -> Iterator[dict]:
    """A database shared by the tests of one module."""
    name = f"m_{request.module.__name__}"[:60]
    admin = pg_cluster.conninfo("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield pg_cluster.conninfo(name)
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(name)
                )
            )


def load_two_sources(conn: psycopg.Connection) -> None:
    """Two Segment sources, `production` and `web`, with the oddities staging meets."""
    conn.execute("create schema production")
    conn.execute("create schema web")

    # production.tracks has no primary key (loaded by another tool): trk-dup is in it
    # twice, the copy loaded first (11:00) inserted last.
    create_table(conn, "production", "tracks", TRACK, primary_key=False)
    insert(
        conn,
        "production",
        "tracks",
        call(
            "trk-both", "2024-03-01 11:00", event="deployments_show", anonymous_id="a1"
        ),
        call("trk-only", "2024-03-01 11:00", event="signed_up", event_text="Signed Up"),
        call("trk-dup", "2024-03-01 12:00", event="signed_up", anonymous_id="late"),
        call("trk-dup", "2024-03-01 11:00", event="signed_up", anonymous_id="first"),
        call("junk", "2024-03-01 11:00", anonymous_id="  Undefined ", user_id="NULL"),
        call("junk-2", "2024-03-01 11:00", anonymous_id="0", user_id="u-real"),
        call("future", "2024-03-01 11:00", timestamp=at("2099-01-01 00:00")),
        call("past", "2024-03-01 11:00", timestamp=at("2020-05-05 05:05")),
        call("no-ts", "2024-03-01 11:00", timestamp=None),
        call("only-load", "2024-03-01 11:00", timestamp=None, received_at=None),
        # Segment ids are varchar(1024); other strings can be far longer
        call("h" * 1024, "2024-03-01 11:00", event="huge", event_text="x" * 200_000),
    )
    # An event table with a reserved-word property column.
    create_table(
        conn,
        "production",
        "deployments_show",
        {
            **TRACK,
            "deployment_name": "text",
            "deployment_type": "text",
            "order": "bigint",
        },
    )
    insert(
        conn,
        "production",
        "deployments_show",
        call(
            "trk-both",
            "2024-03-01 11:05",
            event="deployments_show",
            anonymous_id="a1",
            deployment_name="api",
            order=3,
        ),
        call(
            "evt-only",
            "2024-03-01 11:05",
            event="deployments_show",
            user_id="u1",
            deployment_name="web",
        ),
    )
    # A mixed-case event table without a key, holding plan-1 twice.
    create_table(
        conn,
        "production",
        "PlanUpgraded",
        {**TRACK, "2fa_enabled": "boolean", "context_ip": "text"},
        primary_key=False,
    )
    insert(
        conn,
        "production",
        "PlanUpgraded",
        call("plan-1", "2024-03-01 10:00", user_id="u1", **{"2fa_enabled": True}),
        call("plan-1", "2024-03-01 09:00", user_id="u1", **{"2fa_enabled": False}),
    )
    # An event table whose name is a reserved word.
    create_table(conn, "production", "order", {**TRACK, "total": "numeric"})
    insert(conn, "production", "order", call("ord-1", "2024-03-01 11:00", total=9.5))
    # Not event tables: a copy without the envelope, and a view over tracks.
    create_table(conn, "production", "users_copy", {"id": "text", "email": "text"})
    insert(conn, "production", "users_copy", {"id": "u1", "email": "x@example.com"})
    conn.execute(
        "create view production.tracks_view as select * from production.tracks"
    )

    create_table(
        conn,
        "production",
        "pages",
        {**ENVELOPE, "title": "text", "url": "text", "category": "text"},
        primary_key=False,
    )
    insert(
        conn,
        "production",
        "pages",
        call("pg-1", "2024-03-01 12:00", title="late copy", category="docs"),
        call("pg-1", "2024-03-01 11:00", title="first copy", category="docs"),
    )
    create_table(conn, "production", "screens", {**ENVELOPE, "name": "text"})
    insert(
        conn, "production", "screens", call("scr-1", "2024-03-01 11:00", name="Home")
    )
    create_table(
        conn,
        "production",
        "identifies",
        {**ENVELOPE, "email": "text", "plan_seats": "bigint", "signup_date": "text"},
    )
    insert(
        conn,
        "production",
        "identifies",
        call(
            "idf-1",
            "2024-03-01 11:00",
            user_id="u1",
            email="u1@example.com",
            plan_seats=5,
            signup_date="2024-01-01",
        ),
    )
    create_table(conn, "production", "aliases", {**ENVELOPE, "previous_id": "text"})
    insert(
        conn,
        "production",
        "aliases",
        call("als-1", "2024-03-01 11:00", previous_id="anonymous", user_id="u1"),
        call("als-2", "2024-03-01 11:00", previous_id="a1", user_id="u1"),
    )
    create_table(
        conn, "production", "groups", {**ENVELOPE, "group_id": "text", "name": "text"}
    )
    insert(
        conn,
        "production",
        "groups",
        call("grp-1", "2024-03-01 11:00", group_id="g1", user_id="u1", name="Acme"),
    )
    create_table(
        conn,
        "production",
        "users",
        {
            "id": "varchar(1024)",
            "received_at": "timestamptz",
            "uuid_ts": "timestamptz",
            "email": "text",
        },
    )
    insert(
        conn,
        "production",
        "users",
        {
            "id": "u1",
            "received_at": at("2024-03-01 10:00"),
            "uuid_ts": at("2024-03-01 11:00"),
            "email": "u1@example.com",
        },
    )

    # web: the same message id as in production (a different call), no screens, no
    # aliases, groups or users, pages without a user_id column, drifted trait types.
    create_table(conn, "web", "tracks", TRACK)
    insert(
        conn,
        "web",
        "tracks",
        call("trk-both", "2024-03-01 11:00", event="deployments_show"),
    )
    create_table(
        conn,
        "web",
        "deployments_show",
        {**TRACK, "deployment_name": "text", "region": "text"},
    )
    insert(
        conn,
        "web",
        "deployments_show",
        call(
            "trk-both",
            "2024-03-01 11:00",
            event="deployments_show",
            deployment_name="edge",
            region="eu",
        ),
    )
    pages = {k: v for k, v in ENVELOPE.items() if k != "user_id"}
    create_table(conn, "web", "pages", {**pages, "title": "text"})
    insert(conn, "web", "pages", call("pg-w1", "2024-03-01 11:00", title="Web home"))
    create_table(
        conn,
        "web",
        "identifies",
        {
            **ENVELOPE,
            "plan_seats": "numeric",
            "signup_date": "timestamptz",
            "company": "text",
        },
    )
    insert(
        conn,
        "web",
        "identifies",
        call(
            "idf-w1",
            "2024-03-01 11:00",
            user_id="u2",
            plan_seats=2.5,
            signup_date=at("2024-02-02 00:00"),
            company="Initech",
        ),
    )


@pytest.fixture(scope="module")
def two_sources(module_database: dict, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The two-source warehouse after `dbt build --select staging` (with its tests)."""
    with psycopg.connect(**module_database, autocommit=True) as conn:
        load_two_sources(conn)
        dbt = DbtRunner(libpq_env(module_database), tmp_path_factory.mktemp("dbt"))
        result = dbt(
            "build",
            "--select",
            "staging",
            vars={"segment_schemas": ["production", "web"]},
        )
        yield SimpleNamespace(conn=conn, output=result.stdout)


def test_duplicates_keep_the_first_loaded_copy(two_sources):
    conn = two_sources.conn
    assert fetch(
        conn,
        f"select anonymous_id, loaded_at from {STAGING}.stg_segment__tracks "
        "where event_id = 'trk-dup'",
    ) == [("first", at("2024-03-01 11:00"))]
    assert fetch(
        conn,
        f"select page_title, properties from {STAGING}.stg_segment__pages "
        "where event_id = 'pg-1'",
    ) == [("first copy", {"category": "docs"})]
    assert fetch(
        conn,
        f"select properties, loaded_at from {STAGING}.stg_segment__track_properties "
        "where event_id = 'plan-1'",
    ) == [({"2fa_enabled": False}, at("2024-03-01 09:00"))]


def test_a_track_counts_once_wherever_its_copies_are(two_sources):
    conn = two_sources.conn
    tracks = fetch(
        conn,
        f"select source_schema, event_id, event_name, loaded_at "
        f"from {STAGING}.stg_segment__tracks where event_name is distinct from 'huge' "
        "order by 1, 2",
    )
    assert tracks == [
        # in tracks and its event table: the tracks copy loaded first (11:00 < 11:05)
        ("production", "evt-only", "deployments_show", at("2024-03-01 11:05")),
        ("production", "future", None, at("2024-03-01 11:00")),
        ("production", "junk", None, at("2024-03-01 11:00")),
        ("production", "junk-2", None, at("2024-03-01 11:00")),
        ("production", "no-ts", None, at("2024-03-01 11:00")),
        ("production", "only-load", None, at("2024-03-01 11:00")),
        ("production", "ord-1", "order", at("2024-03-01 11:00")),
        ("production", "past", None, at("2024-03-01 11:00")),
        ("production", "plan-1", "PlanUpgraded", at("2024-03-01 09:00")),
        ("production", "trk-both", "deployments_show", at("2024-03-01 11:00")),
        ("production", "trk-dup", "signed_up", at("2024-03-01 11:00")),
        ("production", "trk-only", "signed_up", at("2024-03-01 11:00")),
        # same id, other source: another call; tie on load time, either copy agrees
        ("web", "trk-both", "deployments_show", at("2024-03-01 11:00")),
    ]
    properties = fetch(
        conn,
        f"select source_schema, event_id, event_name, properties "
        f"from {STAGING}.stg_segment__track_properties order by 1, 2",
    )
    assert properties == [
        ("production", "evt-only", "deployments_show", {"deployment_name": "web"}),
        ("production", "ord-1", "order", {"total": 9.5}),
        ("production", "plan-1", "PlanUpgraded", {"2fa_enabled": False}),
        (
            "production",
            "trk-both",
            "deployments_show",
            {"deployment_name": "api", "order": 3},
        ),
        (
            "web",
            "trk-both",
            "deployments_show",
            {"deployment_name": "edge", "region": "eu"},
        ),
    ]


def test_huge_strings_pass_through(two_sources):
    assert fetch(
        two_sources.conn,
        "select length(event_id), length(event_text) "
        f"from {STAGING}.stg_segment__tracks where event_name = 'huge'",
    ) == [(1024, 200_000)]


def test_tables_that_are_not_event_tables_are_ignored_and_named(two_sources):
    assert (
        "ignoring production.users_copy: not a Segment event table"
        in two_sources.output
    )
    assert "ignoring production.tracks_view: a view" in two_sources.output
    names = fetch(
        two_sources.conn,
        f"select distinct event_name from {STAGING}.stg_segment__track_properties",
    )
    assert ("users_copy",) not in names
    assert ("tracks_view",) not in names


def test_junk_identity_values_are_null(two_sources):
    conn = two_sources.conn
    assert fetch(
        conn,
        f"select event_id, anonymous_id, user_id from {STAGING}.stg_segment__tracks "
        "where event_id like 'junk%' order by 1",
    ) == [("junk", None, None), ("junk-2", None, "u-real")]
    assert fetch(
        conn,
        f"select message_id, previous_id, user_id from {STAGING}.stg_segment__aliases "
        "order by 1",
    ) == [("als-1", None, "u1"), ("als-2", "a1", "u1")]


def test_occurred_at_never_follows_received_at(two_sources):
    rows = fetch(
        two_sources.conn,
        f"select event_id, occurred_at from {STAGING}.stg_segment__tracks "
        "where source_schema = 'production' "
        "and event_id in ('future', 'past', 'no-ts', 'only-load', 'trk-only') "
        "order by 1",
    )
    assert rows == [
        ("future", at("2024-03-01 10:00")),  # 2099 capped at received_at
        ("no-ts", at("2024-03-01 10:00")),  # no timestamp: received_at
        ("only-load", at("2024-03-01 11:00")),  # neither: uuid_ts
        ("past", at("2020-05-05 05:05")),  # an old event stays old
        ("trk-only", at("2024-03-01 09:59")),
    ]


def test_columns_from_some_schemas_and_type_drift(two_sources):
    conn = two_sources.conn
    types = column_types(conn, "stg_segment__identifies")
    # bigint in production, numeric in web -> numeric; text vs timestamptz -> text
    assert types["plan_seats"] == "numeric"
    assert types["signup_date"] == "text"
    assert types["email"] == "text"  # production only
    assert types["company"] == "text"  # web only
    rows = fetch(
        conn,
        "select source_schema, user_id, email, plan_seats, company "
        f"from {STAGING}.stg_segment__identifies order by 1",
    )
    assert rows == [
        ("production", "u1", "u1@example.com", Decimal(5), None),
        ("web", "u2", None, Decimal("2.5"), "Initech"),
    ]
    # web.pages has no user_id column: a typed null
    assert fetch(
        conn,
        f"select source_schema, event_id, user_id, page_title from {STAGING}"
        ".stg_segment__pages order by 1",
    ) == [
        ("production", "pg-1", None, "first copy"),
        ("web", "pg-w1", None, "Web home"),
    ]


def test_tables_a_source_lacks_contribute_nothing(two_sources):
    conn = two_sources.conn
    assert fetch(
        conn,
        f"select source_schema, event_id, screen_name "
        f"from {STAGING}.stg_segment__screens",
    ) == [("production", "scr-1", "Home")]
    assert fetch(
        conn,
        f"select source_schema, message_id, group_id, traits "
        f"from {STAGING}.stg_segment__groups",
    ) == [("production", "grp-1", "g1", {"name": "Acme"})]
    assert fetch(
        conn, f"select source_schema, user_id, email from {STAGING}.stg_segment__users"
    ) == [("production", "u1", "u1@example.com")]
    assert fetch(conn, f"select count(*) from {STAGING}.stg_segment__accounts") == [
        (0,)
    ]


@pytest.fixture
def empty_source(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("create schema empty_source")
    return conn


def test_an_empty_schema_builds_empty_models(empty_source, dbt):
    dbt("run", "--select", "staging", vars={"segment_schemas": ["empty_source"]})
    for model in MODELS:
        assert fetch(empty_source, f"select count(*) from {STAGING}.{model}") == [(0,)]
    tracks = column_types(empty_source, "stg_segment__tracks")
    assert tracks["event_id"] == "text"
    assert tracks["occurred_at"] == "timestamp with time zone"
    assert column_types(empty_source, "stg_segment__pages")["properties"] == "jsonb"


def test_a_missing_schema_is_a_clear_error(empty_source, dbt):
    result = dbt(
        "run",
        "--select",
        "stg_segment__pages",
        vars={"segment_schemas": ["empty_source", "no_such_source"]},
        check=False,
    )
    assert result.returncode != 0
    assert "do not exist" in result.stdout
    assert "no_such_source" in result.stdout
    assert "segment_schemas" in result.stdout


def snapshot(conn: psycopg.Connection, model: str) -> set[tuple]:
    """Every row of a staging model, all columns but staged_at, by column name."""
    names = sorted(set(column_types(conn, model)) - {"staged_at"})
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    query = sql.SQL("select {} from {}.{}").format(
        columns, sql.Identifier(STAGING), sql.Identifier(model)
    )
    return {
        tuple(json.dumps(v, default=str) for v in row) for row in conn.execute(query)
    }


def test_incremental_runs_equal_a_full_refresh(conn, dbt):
    conn.execute("create schema production")
    create_table(
        conn, "production", "tracks", {**TRACK, "context_ip": "text"}, primary_key=False
    )
    create_table(conn, "production", "signed_up", {**TRACK, "plan": "text"})
    create_table(
        conn, "production", "pages", {**ENVELOPE, "title": "text"}, primary_key=False
    )
    create_table(conn, "production", "identifies", {**ENVELOPE, "email": "text"})
    insert(
        conn,
        "production",
        "tracks",
        call("t1", "2024-03-01 11:00", event="signed_up", context_ip="1.1.1.1"),
        call("t2", "2024-03-01 12:00", event="signed_up"),
    )
    insert(conn, "production", "signed_up", call("t1", "2024-03-01 11:00", plan="free"))
    insert(conn, "production", "pages", call("p1", "2024-03-01 12:00", title="first"))
    insert(
        conn, "production", "identifies", call("i1", "2024-03-01 12:00", email="a@x")
    )
    dbt("run", "--select", "staging")
    first_staged_at = fetch(
        conn, f"select max(staged_at) from {STAGING}.stg_segment__tracks"
    )

    # The next sync, a day later.
    conn.execute("alter table production.tracks add column context_page_url text")
    conn.execute("alter table production.identifies add column plan_seats bigint")
    create_table(conn, "production", "logged_in", TRACK)
    insert(
        conn,
        "production",
        "tracks",
        call("t3", "2024-03-02 12:00", event="signed_up"),
        # a late event: loaded now, happened last year
        call(
            "t4",
            "2024-03-02 12:00",
            event="signed_up",
            timestamp=at("2023-06-01 00:00"),
        ),
        # a duplicate of a staged id, loaded later: the staged copy stays
        call("t1", "2024-03-02 12:00", event="signed_up", context_ip="9.9.9.9"),
        # a clock in the future must not hold back later loads
        call(
            "t5",
            "2024-03-02 12:00",
            event="signed_up",
            timestamp=at("2099-01-01 00:00"),
        ),
        # committed late with a load time inside the lookback (before the watermark)
        call("t6", "2024-03-01 09:00", event="signed_up", context_page_url="/late"),
    )
    # t2's event-table copy arrives a sync after its tracks copy
    insert(conn, "production", "signed_up", call("t2", "2024-03-02 12:00", plan="pro"))
    insert(conn, "production", "logged_in", call("t7", "2024-03-02 12:00"))
    insert(conn, "production", "pages", call("p1", "2024-03-02 12:00", title="again"))
    insert(
        conn,
        "production",
        "identifies",
        call("i2", "2024-03-02 12:00", email="b@x", plan_seats=3),
    )
    dbt("run", "--select", "staging")

    tracks = fetch(
        conn,
        f"select event_id, context_ip, occurred_at from {STAGING}.stg_segment__tracks "
        "order by 1",
    )
    assert tracks == [
        ("t1", "1.1.1.1", at("2024-03-01 09:59")),
        ("t2", None, at("2024-03-01 09:59")),
        ("t3", None, at("2024-03-01 09:59")),
        ("t4", None, at("2023-06-01 00:00")),
        ("t5", None, at("2024-03-01 10:00")),
        ("t6", None, at("2024-03-01 09:59")),
        ("t7", None, at("2024-03-01 09:59")),
    ]
    new_rows = fetch(
        conn,
        f"select event_id from {STAGING}.stg_segment__tracks "
        f"where staged_at > '{first_staged_at[0][0].isoformat()}' order by 1",
    )
    assert new_rows == [("t3",), ("t4",), ("t5",), ("t6",), ("t7",)]
    assert fetch(
        conn,
        f"select event_id, properties from {STAGING}.stg_segment__track_properties "
        "order by 1",
    ) == [("t1", {"plan": "free"}), ("t2", {"plan": "pro"}), ("t7", {})]

    # A run with nothing new changes nothing.
    before = {model: snapshot(conn, model) for model in MODELS}
    dbt("run", "--select", "staging")
    assert {model: snapshot(conn, model) for model in MODELS} == before

    dbt("run", "--select", "staging", "--full-refresh")
    after = {model: snapshot(conn, model) for model in MODELS}
    for model in MODELS:
        assert before[model] - after[model] == set(), model
        assert after[model] - before[model] == set(), model


def manual_analyzes(conn: psycopg.Connection, model: str) -> int:
    """How many times ANALYZE ran on a staging table (autovacuum's not counted)."""
    conn.execute("select pg_stat_clear_snapshot()")
    rows = fetch(
        conn,
        "select analyze_count from pg_stat_user_tables "
        f"where schemaname = '{STAGING}' and relname = '{model}'",
    )
    return rows[0][0]


def test_a_table_is_analyzed_when_new_or_a_tenth_changed(conn, dbt):
    # analyze_if_stale(): analyze when the table has no statistics, or when more than
    # a tenth of its rows plus 50 changed in earlier runs (20 rows: more than 52).
    conn.execute("create schema production")
    create_table(conn, "production", "pages", {**ENVELOPE, "title": "text"})
    pages = [call(f"p{n}", "2024-03-01 10:00") for n in range(20)]
    insert(conn, "production", "pages", *pages)
    dbt("run", "--select", "stg_segment__pages")
    assert manual_analyzes(conn, "stg_segment__pages") == 1
    conn.execute(
        f"alter table {STAGING}.stg_segment__pages set (autovacuum_enabled = false)"
    )

    # One more row: 1 change is not stale, and an append is not analyzed.
    insert(conn, "production", "pages", call("late", "2024-03-01 11:00"))
    dbt("run", "--select", "stg_segment__pages")
    assert manual_analyzes(conn, "stg_segment__pages") == 1

    # 60 more: the run that appends them cannot count them yet (they commit with
    # it); the next run finds 61 changed rows since the analyze and analyzes.
    more = [call(f"q{n}", "2024-03-01 12:00") for n in range(60)]
    insert(conn, "production", "pages", *more)
    dbt("run", "--select", "stg_segment__pages")
    assert manual_analyzes(conn, "stg_segment__pages") == 1
    dbt("run", "--select", "stg_segment__pages")
    assert manual_analyzes(conn, "stg_segment__pages") == 2
    assert fetch(conn, f"select count(*) from {STAGING}.stg_segment__pages") == [(81,)]

    # A full refresh builds a new table, which has no statistics: analyzed.
    dbt("run", "--select", "stg_segment__pages", "--full-refresh")
    assert manual_analyzes(conn, "stg_segment__pages") == 1
    assert fetch(
        conn,
        "select count(*) > 0 from pg_stats "
        f"where schemaname = '{STAGING}' and tablename = 'stg_segment__pages'",
    ) == [(True,)]
