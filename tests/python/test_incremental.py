"""Incremental runs equal a full refresh (README, "How incremental runs stay correct"),
and the marts equal the independent Python implementation in reference.py.

One module-level warehouse receives six loads of raw Segment data:

1. generated history (two sources, production:web and ios:mobile, ~20 days) plus
   hand-written devices and users whose later fate the next loads decide;
2. late events for old days, in `tracks` + event tables, `pages` and `screens`:
   some land inside an existing session (of hand-written and of generated
   devices), two bridge two sessions into one, one is a new person's first event;
3. identity re-mapping: an alias merges an old user id into another user (its
   anonymous history follows), an identify and a track move old anonymous ids to
   other users, an older link that must not win, a server-side alias of an id
   seen nowhere else (a user id, until load 5);
4. later-loaded duplicates of old ids in raw tables whose primary key was dropped
   (as another loader leaves them), and a third source schema `legacy` written by
   another tool (no key, an id twice) that is added to `segment_schemas`;
5. events inside existing sessions, property and trait columns that appear for the
   first time (ALTER TABLE ADD COLUMN), track calls whose event table is not there
   yet, the first call of the load-3 alias's previous_id as an anonymous id;
6. those event tables, one load after their `tracks` rows.

Every load is loaded (uuid_ts) a day after the previous one, far beyond the 6-hour
lookback. Two incremental chains follow the loads, each in its own target schema,
side by side (two dbt processes, to fit the time budget):

- `analytics` (chain A) runs `dbt run` after every load;
- `analytics_b` (chain B) runs only `--select staging intermediate` after load 2,
  a run whose `sessions` pre-hook fails after load 3 (a trigger on the mart makes
  its delete fail; `events` and the day counts complete, `users` is skipped), a
  normal run after load 4, a run whose `events` pre-hook fails after load 5
  (everything after `events` is skipped) and a normal run after load 6.

After the last load each chain runs once more with no new data; then `fresh` is
built with --full-refresh from the same raw data, and the data tests run on all
three targets.

Expectations come from the full refresh, from reference.py, or from the raw rows
below worked out by hand; never from the incremental output itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import psycopg
import pytest
from psycopg import sql

from dbt_helpers import DbtError, DbtRunner, libpq_env
from incremental_helpers import (
    ENVELOPE,
    MARTS,
    TRACK,
    at,
    call,
    columns_of,
    copy_marts,
    counts_vs_reference,
    create_table,
    daily_active_users_vs_reference,
    describe,
    drop_primary_key,
    events_vs_reference,
    fetch,
    funnel_conversions_vs_reference,
    in_parallel,
    insert,
    insert_track,
    mart_differences,
    session_membership_vs_reference,
    sessions_vs_reference,
    track,
    track_properties_vs_reference,
    users_vs_reference,
    weekly_retention_vs_reference,
)
from reference import Reference
from segment_reports.generator import generate_batch

SOURCES = ["production:web", "ios:mobile"]
SCHEMAS = ["production", "ios"]
ALL_SCHEMAS = [*SCHEMAS, "legacy"]  # from load 4 on
GENERATED_START = datetime(2024, 3, 4, tzinfo=UTC)
GENERATED_DAYS = 20  # 2024-03-04 .. 2024-03-24, loaded 2024-03-24 ~00:05

# load times (uuid_ts): a day apart, far beyond the 6-hour lookback
L1 = at("2024-03-24 00:30")  # the hand-written part of load 1
L2 = at("2024-03-26 00:00")
L3 = at("2024-03-27 00:00")
L4 = at("2024-03-28 00:00")
L5 = at("2024-03-29 00:00")
L6 = at("2024-03-30 00:00")

# intermediate models holding state (int_device_changes is a log of runs)
INTERMEDIATE = (
    "int_user_ids_merged",
    "int_anonymous_ids_linked",
    "int_person_event_days",
    "int_person_event_months",
    "int_person_days",
    "int_deployment_views_by_person",
    "int_source_event_days",
    "int_event_rows",
    "int_event_property_values",
)
# <schema>_ops: the catalog and data quality tables (ignored_tables and
# uncastable_values are rebuilt from scratch on every run)
OPS = ("event_catalog", "event_properties", "tracking_plan_audit", "source_loads")
RUN_STAMPS = {"changed_at", "user_changed_at", "staged_at"}

FULL = "analytics"  # chain A: dbt run after every load
PARTIAL = "analytics_b"  # chain B: partial and failing runs in between
FRESH = "fresh"  # --full-refresh of the final raw data
AFTER_LOAD_1 = "after_load_1"  # chain A's marts after the generated history


def session_id(device_key: str, source_schema: str, event_id: str) -> str:
    """md5(device_key || '|' || first event's source_schema || '|' || id)."""
    return hashlib.md5(f"{device_key}|{source_schema}|{event_id}".encode()).hexdigest()


# --- the loads ------------------------------------------------------------------------
def load_1(conn: psycopg.Connection) -> None:
    """Generated history, plus hand-written devices and users."""
    generate_batch(
        conn,
        sources=SOURCES,
        events=5000,
        days=GENERATED_DAYS,
        seed=2024,
        start=GENERATED_START,
    )
    page = "production", "pages"
    # anon-inside: sessions 10:00-10:20 and 12:00
    insert(
        conn,
        *page,
        call("p-d1-1", "2024-03-10 10:00", L1, anonymous_id="anon-inside", path="/a"),
        call("p-d1-2", "2024-03-10 10:10", L1, anonymous_id="anon-inside", path="/b"),
        call("p-d1-3", "2024-03-10 10:20", L1, anonymous_id="anon-inside", path="/c"),
        call("p-d1-4", "2024-03-10 12:00", L1, anonymous_id="anon-inside", path="/d"),
    )
    # anon-bridge: sessions 09:00-09:20 and 10:30-11:00 (a gap of exactly 30 min
    # does not split)
    insert(
        conn,
        *page,
        call("p-d2-1", "2024-03-11 09:00", L1, anonymous_id="anon-bridge", path="/"),
        call("p-d2-2", "2024-03-11 09:20", L1, anonymous_id="anon-bridge", path="/p"),
        call("p-d2-3", "2024-03-11 10:30", L1, anonymous_id="anon-bridge", path="/d"),
        call("p-d2-4", "2024-03-11 11:00", L1, anonymous_id="anon-bridge", path="/x"),
    )
    # identities: u-old (device anon-u1 and its own user device), u-new (anon-u2),
    # anon-x -> u-x1, anon-y -> u-y1, anon-z -> u-z1
    insert(
        conn,
        *page,
        call("p-u1-1", "2024-03-08 08:50", L1, anonymous_id="anon-u1", path="/w"),
        call(
            "p-u1-2",
            "2024-03-08 09:05",
            L1,
            anonymous_id="anon-u1",
            user_id="u-old",
            path="/app",
        ),
        call(
            "p-u2-1",
            "2024-03-12 10:00",
            L1,
            anonymous_id="anon-u2",
            user_id="u-new",
            path="/app",
        ),
        call("p-u2-2", "2024-03-12 10:10", L1, anonymous_id="anon-u2", path="/s"),
        call("p-x-1", "2024-03-11 09:05", L1, anonymous_id="anon-x", path="/x1"),
        call(
            "p-x-2",
            "2024-03-11 09:10",
            L1,
            anonymous_id="anon-x",
            user_id="u-x1",
            path="/x2",
        ),
        call("p-x-3", "2024-03-13 15:00", L1, anonymous_id="anon-x", path="/x3"),
        call("p-y-2", "2024-03-11 09:10", L1, anonymous_id="anon-y", path="/y2"),
        call("p-z-1", "2024-03-15 10:00", L1, anonymous_id="anon-z", path="/z1"),
    )
    insert_track(
        conn,
        "production",
        track(
            "t-uold-1",
            "2024-03-09 14:00",
            L1,
            "deployments_show",
            user_id="u-old",
            deployment_name="db-old",
            deployment_type="postgres",
        ),
    )
    # a view with no id at all (no device, no person), counted again in load 5
    insert_track(
        conn,
        "production",
        track(
            "t-noid-1",
            "2024-03-09 15:00",
            L1,
            "deployments_show",
            deployment_name="db-old",
            deployment_type="postgres",
        ),
    )
    insert_track(
        conn,
        "production",
        track(
            "t-y-1",
            "2024-03-11 09:00",
            L1,
            "logged_in",
            anonymous_id="anon-y",
            user_id="u-y1",
            method="password",
        ),
    )
    insert(
        conn,
        "production",
        "identifies",
        call(
            "i-u1",
            "2024-03-08 09:00",
            L1,
            anonymous_id="anon-u1",
            user_id="u-old",
            name="Old Name",
            email="old@example.com",
            plan="free",
        ),
        call(
            "i-u2",
            "2024-03-12 10:00",
            L1,
            anonymous_id="anon-u2",
            user_id="u-new",
            name="New Name",
            plan="pro",
        ),
        call(
            "i-x1",
            "2024-03-11 09:00",
            L1,
            anonymous_id="anon-x",
            user_id="u-x1",
            name="X One",
        ),
        call(
            "i-z1",
            "2024-03-15 09:50",
            L1,
            anonymous_id="anon-z",
            user_id="u-z1",
            name="Z One",
        ),
    )
    # anon-mobile: sessions 08:00-08:05 and 09:00
    insert(
        conn,
        "ios",
        "screens",
        call("s-m1-1", "2024-03-12 08:00", L1, anonymous_id="anon-mobile", name="Home"),
        call("s-m1-2", "2024-03-12 08:05", L1, anonymous_id="anon-mobile", name="List"),
        call("s-m1-3", "2024-03-12 09:00", L1, anonymous_id="anon-mobile", name="Home"),
    )


def inside_a_generated_session(conn: psycopg.Connection, schema: str, table: str):
    """(device, event id, time) of a generated call followed on its device, in the same
    table, by another within 2-20 minutes: a time between them is inside a session."""
    query = sql.SQL(
        """
        select anonymous_id, id, occurred_at + (next_at - occurred_at) / 2
        from (
            select anonymous_id, id, occurred_at,
                lead(occurred_at) over (
                    partition by anonymous_id order by occurred_at, id
                ) as next_at
            from (
                select anonymous_id, id, least("timestamp", received_at) as occurred_at
                from {}
                where length(anonymous_id) = 36
            ) as calls
            where occurred_at is not null
        ) as timeline
        where next_at - occurred_at between interval '2 minutes'
            and interval '20 minutes'
        order by anonymous_id, occurred_at
        limit 1
        """
    ).format(sql.Identifier(schema, table))
    return conn.execute(query).fetchone()


def load_2(conn: psycopg.Connection) -> dict:
    """Late events for old days, for devices that already have sessions."""
    # inside anon-inside's first session (10:10 < 10:15 < 10:20)
    insert_track(
        conn,
        "production",
        track(
            "t-d1-late",
            "2024-03-10 10:15",
            L2,
            "deployments_show",
            anonymous_id="anon-inside",
            deployment_name="db-1",
            deployment_type="postgres",
        ),
    )
    # bridging anon-bridge's two sessions: 09:20 -> 09:45 -> 10:10 -> 10:30; the
    # first was received on time, the second only now (retried)
    insert_track(
        conn,
        "production",
        track(
            "t-d2-late1",
            "2024-03-11 09:45",
            L2,
            "logged_in",
            anonymous_id="anon-bridge",
            method="sso",
        ),
    )
    insert(
        conn,
        "production",
        "pages",
        call(
            "p-d2-late2",
            "2024-03-11 10:10",
            L2,
            anonymous_id="anon-bridge",
            path="/signup",
            received_at=L2 - timedelta(hours=1),
        ),
    )
    # a device first seen now, on an old day: a new person on 03-05
    insert(
        conn,
        "production",
        "pages",
        call("p-new-late", "2024-03-05 07:00", L2, anonymous_id="anon-new", path="/"),
    )
    # inside anon-mobile's first session (08:05 -> 08:20 -> 09:00 stays split)
    insert_track(
        conn,
        "ios",
        track(
            "t-m1-late",
            "2024-03-12 08:20",
            L2,
            "deployments_show",
            anonymous_id="anon-mobile",
            deployment_name="db-m",
        ),
    )
    # inside sessions of generated devices
    web_device, web_before, web_when = inside_a_generated_session(
        conn, "production", "pages"
    )
    insert(
        conn,
        "production",
        "pages",
        call("p-gen-late", web_when, L2, anonymous_id=web_device, path="/late"),
    )
    mobile_device, mobile_before, mobile_when = inside_a_generated_session(
        conn, "ios", "screens"
    )
    insert(
        conn,
        "ios",
        "screens",
        call("s-gen-late", mobile_when, L2, anonymous_id=mobile_device, name="Late"),
    )
    return {
        ("production", "p-gen-late"): ("production", web_before),
        ("ios", "s-gen-late"): ("ios", mobile_before),
    }


def load_3(conn: psycopg.Connection) -> None:
    """Identity re-mapping of old history."""
    # the first alias call of this source: Segment creates the table now
    create_table(
        conn,
        "production",
        "aliases",
        {**ENVELOPE, "previous_id": "text"},
        if_missing=True,
    )
    insert(
        conn,
        "production",
        "aliases",
        # u-old merges into u-new: u-old's events and anon-u1's history follow
        call(
            "a-merge",
            "2024-03-26 12:00",
            L3,
            anonymous_id="anon-u2",
            previous_id="u-old",
            user_id="u-new",
        ),
        # an id from an older system, known only from this alias
        call("a-crm", "2024-03-26 11:00", L3, previous_id="crm-4711", user_id="u-new"),
    )
    # a server-side alias of an id seen nowhere else: a user id, merged into u-w
    # (until load 5 shows it is a device's anonymous id)
    insert(
        conn,
        "production",
        "aliases",
        call("a-w", "2024-03-26 10:00", L3, previous_id="anon-w", user_id="u-w"),
    )
    # anon-x now follows u-x2 (a newer link than i-x1 at 03-11 09:00)
    insert(
        conn,
        "production",
        "identifies",
        call(
            "i-x2",
            "2024-03-14 12:00",
            L3,
            anonymous_id="anon-x",
            user_id="u-x2",
            name="X Two",
            email="x2@example.com",
        ),
    )
    # anon-z now follows u-z2 (a track newer than i-z1 at 03-15 09:50)
    insert_track(
        conn,
        "production",
        track(
            "t-z-2",
            "2024-03-16 10:00",
            L3,
            "deployments_show",
            anonymous_id="anon-z",
            user_id="u-z2",
            deployment_name="db-z",
        ),
    )
    # an older link of anon-y, loaded last: anon-y keeps following u-y1
    insert_track(
        conn,
        "production",
        track(
            "t-y-late",
            "2024-03-10 09:00",
            L3,
            "logged_in",
            anonymous_id="anon-y",
            user_id="u-y2",
            method="password",
        ),
    )


def load_4(conn: psycopg.Connection) -> None:
    """Later-loaded duplicates of old ids; a third source written by another tool."""
    for table in ("pages", "tracks", "deployments_show"):
        drop_primary_key(conn, "production", table)
    insert(
        conn,
        "production",
        "pages",
        call("p-d1-2", "2024-03-20 10:00", L4, anonymous_id="anon-dup", path="/dup"),
    )
    first_generated_page = fetch(
        conn, "select id from production.pages where id like 'ajs%' order by id limit 1"
    )[0][0]
    insert(
        conn,
        "production",
        "pages",
        call(
            first_generated_page,
            "2024-03-21 10:00",
            L4,
            anonymous_id="anon-dup",
            path="/dup",
        ),
    )
    insert_track(
        conn,
        "production",
        track(
            "t-d1-late",
            "2024-03-20 10:00",
            L4,
            "deployments_show",
            anonymous_id="anon-dup",
            deployment_name="db-dup",
        ),
    )
    insert(
        conn,
        "production",
        "tracks",
        track("t-uold-1", "2024-03-20 10:00", L4, "deployments_show", user_id="u-x"),
    )

    conn.execute("create schema legacy")
    columns = {
        k: v for k, v in TRACK.items() if k not in ("user_id", "event", "event_text")
    }
    create_table(
        conn,
        "legacy",
        "pages",
        {**columns, "path": "text", "title": "text"},
        primary_key=False,
    )
    insert(
        conn,
        "legacy",
        "pages",
        # starts anon-inside's 12:00 session: 10:20 -> 11:45 -> 12:00
        call("lp-1", "2024-03-10 11:45", L4, anonymous_id="anon-inside", path="/l"),
        # the same id twice: the copy loaded first (L4) is the one that counts
        call(
            "lp-2",
            "2024-03-20 16:00",
            L4 + timedelta(hours=1),
            anonymous_id="anon-legacy",
            path="/late-copy",
        ),
        call(
            "lp-2",
            "2024-03-20 16:00",
            L4,
            anonymous_id="anon-legacy",
            path="/first-copy",
        ),
    )


def load_5(conn: psycopg.Connection) -> None:
    """Events inside sessions, new columns, tracks whose event table is missing."""
    conn.execute("alter table production.pages add column ab_variant text")
    conn.execute("alter table production.deployments_show add column region text")
    conn.execute("alter table production.identifies add column favorite_color text")
    # anon-w, aliased to u-w in load 3, turns out to be a device's anonymous id
    insert(
        conn,
        "production",
        "pages",
        call("p-w-1", "2024-03-14 10:00", L5, anonymous_id="anon-w", path="/w"),
    )
    insert(
        conn,
        "production",
        "pages",
        call(
            "p-d2-5",
            "2024-03-11 11:10",
            L5,
            anonymous_id="anon-bridge",
            path="/y",
            ab_variant="B",
        ),
    )
    insert_track(
        conn,
        "production",
        track(
            "t-u2-dep",
            "2024-03-12 10:05",
            L5,
            "deployments_show",
            anonymous_id="anon-u2",
            deployment_name="db-2",
            region="eu",
        ),
    )
    insert_track(
        conn,
        "production",
        track(
            "t-noid-2",
            "2024-03-20 11:00",
            L5,
            "deployments_show",
            deployment_name="db-old",
            region="us",
        ),
    )
    insert(
        conn,
        "production",
        "identifies",
        call("i-u3", "2024-03-13 08:00", L5, user_id="u-old", favorite_color="teal"),
    )
    insert(
        conn,
        "production",
        "tracks",
        track(
            "t-exp-1",
            "2024-03-11 10:40",
            L5,
            "export_started",
            anonymous_id="anon-bridge",
        ),
        track("t-exp-2", "2024-03-25 09:00", L5, "export_started", user_id="u-new"),
    )
    insert(
        conn,
        "ios",
        "tracks",
        track(
            "t-m1-exp",
            "2024-03-12 09:10",
            L5,
            "report_exported",
            anonymous_id="anon-mobile",
        ),
    )


def load_6(conn: psycopg.Connection) -> None:
    """The event tables of load 5's track calls arrive."""
    create_table(conn, "production", "export_started", {**TRACK, "format": "text"})
    insert(
        conn,
        "production",
        "export_started",
        track(
            "t-exp-1",
            "2024-03-11 10:40",
            L6,
            "export_started",
            anonymous_id="anon-bridge",
            format="csv",
        ),
        track(
            "t-exp-2",
            "2024-03-25 09:00",
            L6,
            "export_started",
            user_id="u-new",
            format="pdf",
        ),
    )
    create_table(conn, "ios", "report_exported", {**TRACK, "row_count": "bigint"})
    insert(
        conn,
        "ios",
        "report_exported",
        track(
            "t-m1-exp",
            "2024-03-12 09:10",
            L6,
            "report_exported",
            anonymous_id="anon-mobile",
            row_count=10,
        ),
    )


# --- the module warehouse -------------------------------------------------------------
FAILING = """
create or replace function public.injected_failure() returns trigger
language plpgsql as $$
begin
    raise exception 'injected failure in %.%', tg_table_schema, tg_table_name;
end
$$
"""


def inject_failure(conn: psycopg.Connection, schema: str, table: str) -> None:
    """Any later delete or insert on the table fails (its pre-hook deletes first)."""
    conn.execute(FAILING)
    conn.execute(
        sql.SQL(
            "create trigger injected_failure before insert or delete on {} "
            "for each statement execute function public.injected_failure()"
        ).format(sql.Identifier(schema, table))
    )


def remove_failure(conn: psycopg.Connection, schema: str, table: str) -> None:
    conn.execute(
        sql.SQL("drop trigger injected_failure on {}").format(
            sql.Identifier(schema, table)
        )
    )


@pytest.fixture(scope="module")
def module_database(pg_cluster) -> Iterator[dict]:
    name = "m_test_incremental"
    admin = pg_cluster.conninfo("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)
            )
        )
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


# The chains `dbt run`; data tests run once at the end, on every target schema
# (test_data_tests_pass_on_every_target): with `build`, a failing data test would
# skip the models after it and hide what this module checks, and a failure
# injected into chain B must be the only one. Unit tests check models in isolation,
# not incremental state, and are left out.
RUN = ("run",)
PARTIAL_RUN = ("run", "--select", "staging", "intermediate")


@pytest.fixture(scope="module")
def warehouse(module_database, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The six loads with both incremental chains, the no-op runs and a full refresh.

    dbt failures are recorded, not raised, so that each test reports its own part.
    """
    env = libpq_env(module_database)
    runners = {
        schema: DbtRunner(env, tmp_path_factory.mktemp(schema), schema=schema)
        for schema in (FULL, PARTIAL, FRESH)
    }
    state = SimpleNamespace(full_runs=[], partial_runs=[], late_inside={})

    def both(load, partial_args: tuple[str, ...], schemas: list[str]) -> None:
        """Chain A runs; chain B runs `partial_args`, side by side."""
        vars = {"segment_schemas": schemas}
        full, partial = in_parallel(
            lambda: runners[FULL](*RUN, vars=vars, check=False),
            lambda: runners[PARTIAL](*partial_args, vars=vars, check=False),
        )
        state.full_runs.append((load, full))
        state.partial_runs.append((load, partial))

    with psycopg.connect(**module_database, autocommit=True) as conn:
        state.conn = conn
        load_1(conn)
        both(1, RUN, SCHEMAS)
        if state.full_runs[0][1].returncode != 0:
            raise DbtError(failures(state.full_runs))
        # load 1 after a first (full) build, for comparing with the reference
        state.reference_load_1 = Reference(conn, SCHEMAS)
        copy_marts(conn, FULL, AFTER_LOAD_1)

        state.late_inside = load_2(conn)
        both(2, PARTIAL_RUN, SCHEMAS)

        load_3(conn)
        inject_failure(conn, PARTIAL, "sessions")
        both(3, RUN, SCHEMAS)
        remove_failure(conn, PARTIAL, "sessions")

        load_4(conn)
        both(4, RUN, ALL_SCHEMAS)

        load_5(conn)
        inject_failure(conn, f"{PARTIAL}_intermediate", "int_events")
        both(5, RUN, ALL_SCHEMAS)
        remove_failure(conn, f"{PARTIAL}_intermediate", "int_events")

        load_6(conn)
        both(6, RUN, ALL_SCHEMAS)

        # once more with no new data
        copy_marts(conn, FULL, "full_before_noop")
        copy_marts(conn, PARTIAL, "partial_before_noop")
        both("no-op", RUN, ALL_SCHEMAS)

        vars = {"segment_schemas": ALL_SCHEMAS}
        state.fresh_run = runners[FRESH](
            "run", "--full-refresh", vars=vars, check=False
        )
        data_tests = ("test", "--exclude-resource-type", "unit_test")
        results = in_parallel(
            *(
                lambda runner=runner: runner(*data_tests, vars=vars, check=False)
                for runner in runners.values()
            )
        )
        state.data_tests = dict(zip(runners, results, strict=True))
        state.reference_final = Reference(conn, ALL_SCHEMAS)
        yield state


def dbt_errors(result) -> str:
    """The error summary dbt prints at the end of a failed run."""
    output = result.stdout
    start = output.rfind("Completed with")
    return (output[start:] if start >= 0 else output[-3000:])[:6000]


def failures(runs) -> str:
    return "\n\n".join(
        f"load {run[0]}: dbt {run[-1].args[1]} exited {run[-1].returncode}:\n"
        + dbt_errors(run[-1])
        for run in runs
        if run[-1].returncode != 0
    )


# --- 1. incremental builds equal a full refresh ---------------------------------------
def test_every_incremental_run_and_the_full_refresh_succeed(warehouse):
    loads = [run for run in warehouse.full_runs if run[0] != "no-op"]
    assert failures(loads) == ""
    assert warehouse.fresh_run.returncode == 0, dbt_errors(warehouse.fresh_run)


@pytest.mark.parametrize("schema", [FULL, PARTIAL, FRESH])
def test_data_tests_pass_on_every_target(warehouse, schema):
    result = warehouse.data_tests[schema]
    assert result.returncode == 0, dbt_errors(result)


@pytest.mark.parametrize("mart", MARTS)
def test_incremental_marts_equal_a_full_refresh(warehouse, mart):
    problems = mart_differences(warehouse.conn, FULL, FRESH, [mart])
    assert not problems, describe(problems)


@pytest.mark.parametrize("model", INTERMEDIATE)
@pytest.mark.parametrize("schema", [FULL, PARTIAL])
def test_intermediate_state_equals_a_full_refresh(warehouse, schema, model):
    """The state the marts are rebuilt from, without its run stamps."""
    problems = mart_differences(
        warehouse.conn,
        f"{schema}_intermediate",
        f"{FRESH}_intermediate",
        [model],
        ignore=RUN_STAMPS,
    )
    assert not problems, describe(problems)


@pytest.mark.parametrize("model", OPS)
@pytest.mark.parametrize("schema", [FULL, PARTIAL])
def test_catalog_and_quality_tables_equal_a_full_refresh(warehouse, schema, model):
    problems = mart_differences(
        warehouse.conn, f"{schema}_ops", f"{FRESH}_ops", [model]
    )
    assert not problems, describe(problems)


@pytest.mark.parametrize("schema", [FULL, PARTIAL])
def test_a_run_with_no_new_data_succeeds(warehouse, schema):
    runs = warehouse.full_runs if schema == FULL else warehouse.partial_runs
    assert failures([run for run in runs if run[0] == "no-op"]) == ""


@pytest.mark.parametrize("mart", MARTS)
@pytest.mark.parametrize(
    "schema,before", [(FULL, "full_before_noop"), (PARTIAL, "partial_before_noop")]
)
def test_a_run_with_no_new_data_changes_nothing(warehouse, schema, before, mart):
    problems = mart_differences(warehouse.conn, before, schema, [mart])
    assert not problems, describe(problems)


# --- 3. partial and failed runs are caught up -----------------------------------------
def test_the_partial_chain_failed_where_it_was_made_to(warehouse):
    by_load = {run[0]: run for run in warehouse.partial_runs}
    assert by_load[2][1].returncode == 0, dbt_errors(by_load[2][1])
    for load, table, completed, skipped in (
        (3, f"{PARTIAL}.sessions", "int_events", "users"),
        (5, f"{PARTIAL}_intermediate.int_events", "int_device_changes", "sessions"),
    ):
        output = by_load[load][1].stdout
        assert by_load[load][1].returncode != 0
        assert f"injected failure in {table}" in output
        # midway: a model before it completed, one after it was skipped
        assert re.search(rf"OK created .*\b{PARTIAL}\w*\.{completed} ", output)
        assert re.search(rf"SKIP relation {PARTIAL}\w*\.{skipped} ", output)
    assert failures([by_load[4], by_load[6]]) == ""


@pytest.mark.parametrize("mart", MARTS)
def test_partial_and_failed_runs_are_caught_up(warehouse, mart):
    problems = mart_differences(warehouse.conn, PARTIAL, FRESH, [mart])
    assert not problems, describe(problems)


# --- the scenario, worked out by hand -------------------------------------------------
SCENARIO_SCHEMAS = [FRESH, FULL, PARTIAL]


def sessions_of(conn, schema: str, device: str) -> dict[str, set[str]]:
    """{session_id: its event ids} of the events of one anonymous id."""
    rows = fetch(
        conn,
        sql.SQL("select session_id, event_id from {} where anonymous_id = %s").format(
            sql.Identifier(schema, "events")
        ),
        (device,),
    )
    sessions: dict[str, set[str]] = {}
    for sid, event_id in rows:
        sessions.setdefault(sid, set()).add(event_id)
    return sessions


@pytest.mark.parametrize("schema", SCENARIO_SCHEMAS)
def test_late_events_join_and_bridge_sessions(warehouse, schema):
    conn = warehouse.conn
    assert sessions_of(conn, schema, "anon-inside") == {
        session_id("anon-inside", "production", "p-d1-1"): {
            "p-d1-1",
            "p-d1-2",
            "t-d1-late",
            "p-d1-3",
        },
        # a legacy page 15 minutes before 12:00 now starts that session
        session_id("anon-inside", "legacy", "lp-1"): {"lp-1", "p-d1-4"},
    }
    assert sessions_of(conn, schema, "anon-bridge") == {
        session_id("anon-bridge", "production", "p-d2-1"): {
            "p-d2-1",
            "p-d2-2",
            "t-d2-late1",
            "p-d2-late2",
            "p-d2-3",
            "t-exp-1",
            "p-d2-4",
            "p-d2-5",
        }
    }
    assert sessions_of(conn, schema, "anon-mobile") == {
        session_id("anon-mobile", "ios", "s-m1-1"): {"s-m1-1", "s-m1-2", "t-m1-late"},
        session_id("anon-mobile", "ios", "s-m1-3"): {"s-m1-3", "t-m1-exp"},
    }
    for late, before in warehouse.late_inside.items():
        rows = fetch(
            conn,
            sql.SQL(
                "select source_schema, event_id, session_id from {} "
                "where (source_schema, event_id) in ((%s, %s), (%s, %s))"
            ).format(sql.Identifier(schema, "events")),
            (*late, *before),
        )
        assert len(rows) == 2 and rows[0][2] == rows[1][2], rows


@pytest.mark.parametrize("schema", SCENARIO_SCHEMAS)
def test_identity_changes_reach_old_history(warehouse, schema):
    conn = warehouse.conn
    persons = dict(
        fetch(
            conn,
            sql.SQL(
                "select event_id, person_id from {} where event_id = any(%s)"
            ).format(sql.Identifier(schema, "events")),
            (
                [
                    "p-u1-1",
                    "p-u1-2",
                    "t-uold-1",
                    "p-u2-1",
                    "p-u2-2",
                    "t-u2-dep",
                    "t-exp-2",
                    "p-x-1",
                    "p-x-2",
                    "p-x-3",
                    "t-y-1",
                    "p-y-2",
                    "t-y-late",
                    "p-z-1",
                    "t-z-2",
                    "p-w-1",
                ],
            ),
        )
    )
    assert persons == {
        # u-old merged into u-new, with anon-u1's anonymous history
        "p-u1-1": "u-new",
        "p-u1-2": "u-new",
        "t-uold-1": "u-new",
        "p-u2-1": "u-new",
        "p-u2-2": "u-new",
        "t-u2-dep": "u-new",
        "t-exp-2": "u-new",
        # anon-x follows u-x2; the event carrying u-x1 keeps it
        "p-x-1": "u-x2",
        "p-x-2": "u-x1",
        "p-x-3": "u-x2",
        # anon-y keeps u-y1: the late link to u-y2 is older
        "t-y-1": "u-y1",
        "p-y-2": "u-y1",
        "t-y-late": "u-y2",
        # anon-z follows u-z2
        "p-z-1": "u-z2",
        "t-z-2": "u-z2",
        # anon-w is a device's anonymous id since load 5: its alias links the device
        "p-w-1": "u-w",
    }
    sessions = fetch(
        conn,
        sql.SQL(
            "select session_number, session_id, event_count from {} "
            "where person_id = 'u-new' order by session_number"
        ).format(sql.Identifier(schema, "sessions")),
    )
    assert sessions == [
        (1, session_id("anon-u1", "production", "p-u1-1"), 2),
        (2, session_id("user:u-old", "production", "t-uold-1"), 1),
        (3, session_id("anon-u2", "production", "p-u2-1"), 3),
        (4, session_id("user:u-new", "production", "t-exp-2"), 1),
    ]
    users = sql.Identifier(schema, "users")
    assert fetch(
        conn,
        sql.SQL(
            "select merged_user_ids, name, email, plan, favorite_color, event_count, "
            "session_count, first_seen_at, last_seen_at from {} where user_id = 'u-new'"
        ).format(users),
    ) == [
        (
            ["crm-4711", "u-old"],
            "New Name",  # i-u2 (03-12) is the latest identify with a name
            "old@example.com",  # only u-old's identify has an email
            "pro",
            "teal",  # sent for u-old after the merge's first build
            7,
            4,
            at("2024-03-08 08:50"),
            at("2024-03-25 09:00"),
        )
    ]
    assert fetch(
        conn,
        sql.SQL(
            "select user_id, merged_user_ids, event_count from {} "
            "where user_id in ('u-w', 'anon-w', 'u-old', 'crm-4711')"
        ).format(users),
    ) == [("u-w", [], 1)]
    assert fetch(
        conn,
        sql.SQL(
            "select user_id, name from {} where user_id like 'u-%%' order by 1"
        ).format(users),
    ) == [
        ("u-new", "New Name"),
        ("u-w", None),
        ("u-x1", "X One"),
        ("u-x2", "X Two"),
        ("u-y1", None),
        ("u-y2", None),
        ("u-z1", "Z One"),
        ("u-z2", None),
    ]


@pytest.mark.parametrize("schema", SCENARIO_SCHEMAS)
def test_duplicates_new_columns_and_late_event_tables(warehouse, schema):
    conn = warehouse.conn
    rows = fetch(
        conn,
        sql.SQL(
            "select source_schema, event_id, event_name, anonymous_id, page_path, "
            "occurred_at, loaded_at, properties from {} "
            "where event_id in ('p-d1-2', 't-d1-late', 't-uold-1', 'lp-2', "
            "'t-exp-1', 't-exp-2', 't-m1-exp', 't-u2-dep') order by 1, 2"
        ).format(sql.Identifier(schema, "events")),
    )
    assert rows == [
        (
            "ios",
            "t-m1-exp",
            "report_exported",
            "anon-mobile",
            None,
            at("2024-03-12 09:10"),
            L5,
            {"row_count": 10},
        ),
        (
            "legacy",
            "lp-2",
            "page_view",
            "anon-legacy",
            "/first-copy",
            at("2024-03-20 16:00"),
            L4,
            {},
        ),
        (
            "production",
            "p-d1-2",
            "page_view",
            "anon-inside",
            "/b",
            at("2024-03-10 10:10"),
            L1,
            {},
        ),
        (
            "production",
            "t-d1-late",
            "deployments_show",
            "anon-inside",
            None,
            at("2024-03-10 10:15"),
            L2,
            {"deployment_name": "db-1", "deployment_type": "postgres"},
        ),
        (
            "production",
            "t-exp-1",
            "export_started",
            "anon-bridge",
            None,
            at("2024-03-11 10:40"),
            L5,
            {"format": "csv"},
        ),
        (
            "production",
            "t-exp-2",
            "export_started",
            None,
            None,
            at("2024-03-25 09:00"),
            L5,
            {"format": "pdf"},
        ),
        (
            "production",
            "t-u2-dep",
            "deployments_show",
            "anon-u2",
            None,
            at("2024-03-12 10:05"),
            L5,
            {"deployment_name": "db-2", "region": "eu"},
        ),
        (
            "production",
            "t-uold-1",
            "deployments_show",
            None,
            None,
            at("2024-03-09 14:00"),
            L1,
            {"deployment_name": "db-old", "deployment_type": "postgres"},
        ),
    ]
    assert fetch(
        conn,
        sql.SQL(
            "select deployment_name, person_id, user_id, user_name, user_email, "
            "view_count from {} where deployment_name in ('db-1', 'db-2', 'db-old') "
            "order by 1, 2"
        ).format(sql.Identifier(schema, "deployment_views_by_user")),
    ) == [
        ("db-1", "anon-inside", None, None, None, 1),
        ("db-2", "u-new", "u-new", "New Name", "old@example.com", 1),
        ("db-old", "u-new", "u-new", "New Name", "old@example.com", 1),
        # t-noid-1 (load 1) and t-noid-2 (load 5): views with no id, no person
        ("db-old", None, None, None, None, 2),
    ]
    assert "favorite_color" in columns_of(conn, schema, "users")


# --- 2. marts equal the independent reference -----------------------------------------
def reference_checks(conn, schema: str, ref: Reference) -> dict[str, Callable]:
    return {
        "events": lambda: events_vs_reference(conn, schema, ref),
        "track properties": lambda: track_properties_vs_reference(conn, schema, ref),
        "session membership": lambda: session_membership_vs_reference(
            conn, schema, ref
        ),
        "sessions": lambda: sessions_vs_reference(conn, schema, ref),
        "users": lambda: users_vs_reference(conn, schema, ref),
        "daily_active_users": lambda: daily_active_users_vs_reference(
            conn, schema, ref
        ),
        "weekly_retention": lambda: weekly_retention_vs_reference(conn, schema, ref),
        "funnel_conversions": lambda: funnel_conversions_vs_reference(
            conn, schema, ref
        ),
        "daily_event_counts": lambda: counts_vs_reference(
            conn,
            schema,
            "daily_event_counts",
            "activity_date",
            ref.daily_event_counts(),
        ),
        "monthly_event_counts": lambda: counts_vs_reference(
            conn,
            schema,
            "monthly_event_counts",
            "event_month",
            ref.monthly_event_counts(),
        ),
    }


CHECKS = list(reference_checks(None, "", None))


@pytest.mark.parametrize("check", CHECKS)
def test_marts_equal_the_reference_on_generated_history(warehouse, check):
    ref = warehouse.reference_load_1
    assert reference_checks(warehouse.conn, AFTER_LOAD_1, ref)[check]() == ""


@pytest.mark.parametrize("check", CHECKS)
def test_marts_equal_the_reference_after_every_load(warehouse, check):
    ref = warehouse.reference_final
    assert reference_checks(warehouse.conn, FRESH, ref)[check]() == ""
