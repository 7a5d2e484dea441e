"""The change_driven materialization: what an incremental run replaces, logs and keeps.

Raw rows are written by hand; the expected sessions are worked out from them by the
session rule (a device's events, a new session after a gap of more than 30 minutes,
the person of its latest event with a user id). Every scenario also ends equal to a
full build of the same raw data, built by a second dbt target in the same database.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import psycopg
import pytest

from dbt_helpers import DbtRunner, libpq_env
from incremental_helpers import (
    TRACK,
    at,
    call,
    create_table,
    fetch,
    insert,
    mart_differences,
    track,
)

LOAD_1 = at("2024-03-02 00:00")
LOAD_2 = at("2024-03-03 00:00")
LOAD_3 = at("2024-03-04 00:00")
PAGE = {
    "id": "varchar(1024)",
    "received_at": "timestamptz",
    "uuid_ts": "timestamptz",
    "anonymous_id": "text",
    "user_id": "text",
    "timestamp": "timestamptz",
    "sent_at": "timestamptz",
    "original_timestamp": "timestamptz",
    "path": "text",
}
# the change-driven models that publish a change log
LOGGED = ("int_events", "int_person_event_days", "int_person_event_months")


@pytest.fixture
def warehouse(pg_database: dict, tmp_path) -> Iterator[SimpleNamespace]:
    with psycopg.connect(**pg_database, autocommit=True) as conn:
        conn.execute("create schema production")
        create_table(conn, "production", "tracks", TRACK)
        create_table(conn, "production", "pages", PAGE)
        env = libpq_env(pg_database)
        yield SimpleNamespace(
            conn=conn,
            dbt=DbtRunner(env, tmp_path / "chain"),
            fresh=DbtRunner(env, tmp_path / "fresh", "fresh"),
        )


def equals_a_full_build(warehouse: SimpleNamespace) -> dict[str, str]:
    warehouse.fresh("run", "--full-refresh")
    return mart_differences(warehouse.conn, "analytics", "fresh")


def test_a_late_event_reaches_a_session_whose_first_event_is_another_persons(
    warehouse,
):
    conn = warehouse.conn
    # One device: a call of u-six, then one of u-zero five minutes later. Both carry
    # their own user id, so each keeps it; the session's person is that of its
    # latest event with a user id: u-zero.
    insert(
        conn,
        "production",
        "tracks",
        track(
            "a",
            "2024-03-01 10:00",
            LOAD_1,
            "clicked",
            anonymous_id="dev",
            user_id="u-six",
        ),
        track(
            "b",
            "2024-03-01 10:05",
            LOAD_1,
            "clicked",
            anonymous_id="dev",
            user_id="u-zero",
        ),
    )
    warehouse.dbt("run")
    start = at("2024-03-01 10:00")
    query = (
        "select person_id, started_at, ended_at, event_count from analytics.sessions"
    )
    assert fetch(conn, query) == [("u-zero", start, at("2024-03-01 10:05"), 2)]

    # A late call of the device without a user id, 15 minutes after b: the same
    # session (gap 15 < 30), which now ends at 10:20 with three events. The run
    # logs the device's rows from 10:00 (its session start), under u-six and
    # u-zero; u-zero's session starts at 10:00 although u-zero's first row is 10:05.
    insert(
        conn,
        "production",
        "tracks",
        track("t", "2024-03-01 10:20", LOAD_2, "clicked", anonymous_id="dev"),
    )
    warehouse.dbt("run")
    assert fetch(conn, query) == [("u-zero", start, at("2024-03-01 10:20"), 3)]
    assert equals_a_full_build(warehouse) == {}


def log_rows(conn: psycopg.Connection, model: str) -> int:
    return fetch(conn, f"select count(*) from analytics_intermediate.{model}__changes")[
        0
    ][0]


def test_a_run_without_new_data_logs_nothing_and_prunes_what_was_applied(warehouse):
    conn = warehouse.conn
    insert(
        conn,
        "production",
        "pages",
        call("p1", "2024-03-01 09:00", LOAD_1, anonymous_id="dev-1", path="/"),
        call("p2", "2024-03-01 09:10", LOAD_1, anonymous_id="dev-2", path="/"),
    )
    warehouse.dbt("run")
    # a full build starts with empty logs
    assert [log_rows(conn, model) for model in LOGGED] == [0, 0, 0]

    # One new page of dev-1 in the same session (20 minutes after p1): int_events
    # recomputes the session from its start, p1 and p3, but p1 comes out as
    # stored, so it is neither rewritten nor logged: its log holds +p3 alone. Only
    # dev-1's day count changed (1 -> 2): -1 and +1 row in int_person_event_days'
    # log, and the same in the month's.
    insert(
        conn,
        "production",
        "pages",
        call("p3", "2024-03-01 09:20", LOAD_2, anonymous_id="dev-1", path="/a"),
    )
    warehouse.dbt("run")
    assert [log_rows(conn, model) for model in LOGGED] == [1, 2, 2]
    assert fetch(
        conn,
        "select session_id is not null, change_sign"
        " from analytics_intermediate.int_events__changes",
    ) == [(True, 1)]
    assert fetch(
        conn,
        "select event_count from analytics_intermediate.int_person_event_days"
        " where person_id = 'dev-1'",
    ) == [(2,)]

    # No new data: nothing is replaced, so nothing is logged, and every consumer
    # has applied the previous run's rows, which are pruned.
    warehouse.dbt("run")
    assert [log_rows(conn, model) for model in LOGGED] == [0, 0, 0]
    assert equals_a_full_build(warehouse) == {}


def test_rebuilding_one_model_rebuilds_its_consumers_and_keeps_the_views(warehouse):
    conn = warehouse.conn
    insert(
        conn,
        "production",
        "pages",
        call("p1", "2024-03-01 09:00", LOAD_1, anonymous_id="dev-1", path="/"),
    )
    warehouse.dbt("run")

    # int_events alone, in full: same columns, so it is reloaded in place and the
    # events view over it stays (a swapped table would take the view with it).
    warehouse.dbt("run", "--full-refresh", "--select", "int_events")
    assert fetch(conn, "select event_id from analytics.events") == [("p1",)]
    rebuilt, applied = fetch(
        conn,
        "select rebuilt.rebuilt_at, consumer.run_started_at"
        " from analytics_ops.model_run_state as rebuilt,"
        " analytics_ops.model_run_state as consumer"
        " where rebuilt.model_name = 'int_events'"
        " and consumer.model_name = 'int_person_event_days'",
    )[0]
    assert rebuilt > applied

    # Its log no longer reaches back to its consumers' last run, so the next plain
    # run rebuilds them in full, and they count the new page once.
    insert(
        conn,
        "production",
        "pages",
        call("p2", "2024-03-02 09:00", LOAD_2, anonymous_id="dev-1", path="/"),
    )
    result = warehouse.dbt("run")
    assert "int_person_event_days" in result.stdout
    assert fetch(
        conn,
        "select activity_date::text, event_count, person_count"
        " from analytics.daily_event_counts order by activity_date",
    ) == [("2024-03-01", 1, 1), ("2024-03-02", 1, 1)]
    assert equals_a_full_build(warehouse) == {}


def test_a_failed_model_changes_nothing_and_the_next_run_applies_it(warehouse):
    conn = warehouse.conn
    insert(
        conn,
        "production",
        "pages",
        call("p1", "2024-03-01 09:00", LOAD_1, anonymous_id="dev-1", path="/"),
    )
    warehouse.dbt("run")
    # daily_event_counts fails on its first write of the next run
    conn.execute(
        "create function public.refuse() returns trigger language plpgsql as"
        " $$ begin raise exception 'refused'; end $$"
    )
    conn.execute(
        "create trigger refuse before insert or delete on analytics.daily_event_counts"
        " for each statement execute function public.refuse()"
    )
    insert(
        conn,
        "production",
        "pages",
        call("p2", "2024-03-01 09:05", LOAD_2, anonymous_id="dev-2", path="/"),
        call("p3", "2024-03-02 09:00", LOAD_3, anonymous_id="dev-1", path="/"),
    )
    result = warehouse.dbt("run", check=False)
    assert result.returncode != 0
    assert "refused" in result.stdout
    # nothing of the failed model's run was kept
    assert fetch(
        conn,
        "select activity_date::text, event_count, person_count"
        " from analytics.daily_event_counts",
    ) == [("2024-03-01", 1, 1)]

    conn.execute("drop trigger refuse on analytics.daily_event_counts")
    warehouse.dbt("run")
    assert fetch(
        conn,
        "select activity_date::text, event_count, person_count"
        " from analytics.daily_event_counts order by activity_date",
    ) == [("2024-03-01", 2, 2), ("2024-03-02", 1, 1)]
    assert equals_a_full_build(warehouse) == {}


def test_a_call_exactly_the_timeout_after_the_last_one_joins_its_session(warehouse):
    conn = warehouse.conn
    sessions = (
        "select started_at, ended_at, event_count, session_number"
        " from analytics.sessions order by started_at"
    )

    def page_views_then_sessions(loaded, *times: str) -> list[tuple]:
        """Load page views of dev-1 at these times, run, and read the sessions."""
        views = [
            call(f"p-{when}", when, loaded, anonymous_id="dev-1", path="/")
            for when in times
        ]
        insert(conn, "production", "pages", *views)
        warehouse.dbt("run")
        return fetch(conn, sessions)

    first = at("2024-03-01 09:00")
    assert page_views_then_sessions(LOAD_1, "2024-03-01 09:00", "2024-03-01 09:10") == [
        (first, at("2024-03-01 09:10"), 2, 1)
    ]
    # 09:40 is 30 minutes after 09:10, exactly the timeout: a new session starts
    # only after a longer gap, so it extends the 09:00 session (int_events
    # recomputes it from 09:00).
    assert page_views_then_sessions(LOAD_2, "2024-03-01 09:40") == [
        (first, at("2024-03-01 09:40"), 3, 1)
    ]
    # 10:11 is 31 minutes after 09:40: a session of its own
    later = at("2024-03-01 10:11")
    assert page_views_then_sessions(LOAD_3, "2024-03-01 10:11") == [
        (first, at("2024-03-01 09:40"), 3, 1),
        (later, later, 1, 2),
    ]
    # only the 10:11 view was written: the earlier ones were not recomputed
    assert fetch(
        conn,
        "select occurred_at, change_sign"
        " from analytics_intermediate.int_events__changes",
    ) == [(later, 1)]
    assert equals_a_full_build(warehouse) == {}
