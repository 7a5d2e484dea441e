"""weekly_retention: cohorts by the UTC ISO week of a person's first event.

The server runs in America/New_York, where the Sunday-night UTC boundary events
below fall on the same local Sunday: only UTC weeks separate them. Every expected
row is worked out by hand from the rule (README, "For analysts", retention);
2024-02-26, 03-04, 03-11 and 03-18 are Mondays.

Persons (events in UTC):
- A: Sunday 03-03 23:30 (cohort 02-26), Monday 03-04 00:10 (its week 1).
- B: Monday 03-04 00:30 (cohort 03-04), Monday 03-18 (week 2; the latest event).
- D: Tuesday 02-27 (cohort 02-26), deployments_new Tuesday 03-05 (week 1),
  page Tuesday 03-12 (week 2).
- ret-u: a signed-in track Wednesday 02-28 on one device, then an anonymous page
  on another device Tuesday 03-05 that an identify links to ret-u: one person,
  cohort 02-26, weeks 0 and 1.
- C: Tuesday 03-12 (cohort 03-11). A later load brings C's event of Friday 03-01,
  received late: C moves to cohort 02-26, where 03-12 is week 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace

import psycopg
import pytest

from dbt_helpers import DbtRunner, libpq_env
from incremental_helpers import insert
from segment_rows import RawWarehouse, at, envelope

P = "production"
W0, W1, W2, W3 = (
    date(2024, 2, 26),
    date(2024, 3, 4),
    date(2024, 3, 11),
    date(2024, 3, 18),
)


def _load(wh: RawWarehouse) -> None:
    wh.page(P, "rt-a1", at("2024-03-03 23:30"), anonymous_id="anon-a", path="/")
    wh.page(P, "rt-a2", at("2024-03-04 00:10"), anonymous_id="anon-a", path="/x")
    wh.page(P, "rt-b1", at("2024-03-04 00:30"), anonymous_id="anon-b", path="/")
    wh.page(P, "rt-b2", at("2024-03-18 10:00"), anonymous_id="anon-b", path="/")
    wh.page(P, "rt-d1", at("2024-02-27 10:00"), anonymous_id="anon-d", path="/")
    wh.track(P, "deployments_new", "rt-d2", at("2024-03-05 10:00"),
             anonymous_id="anon-d")  # fmt: skip
    wh.page(P, "rt-d3", at("2024-03-12 10:00"), anonymous_id="anon-d", path="/")
    wh.track(P, "logged_in", "rt-u1", at("2024-02-28 12:00"), user_id="ret-u")
    wh.page(P, "rt-u2", at("2024-03-05 10:00"), anonymous_id="anon-e", path="/")
    wh.identify(P, "rt-u3", at("2024-03-05 10:05"), anonymous_id="anon-e",
                user_id="ret-u")  # fmt: skip
    wh.page(P, "rt-c1", at("2024-03-12 10:00"), anonymous_id="anon-c", path="/")


@pytest.fixture(scope="module")
def warehouse(pg_database_in_zone, tmp_path_factory) -> Iterator[SimpleNamespace]:
    conninfo = pg_database_in_zone("America/New_York")
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        wh = RawWarehouse()
        _load(wh)
        wh.load(conn)
        dbt = DbtRunner(libpq_env(conninfo), tmp_path_factory.mktemp("dbt"))
        dbt("run")
        yield SimpleNamespace(conn=conn, dbt=dbt)


def retention(conn: psycopg.Connection) -> dict[tuple[date, int], tuple[int, int]]:
    """{(cohort_week, N): (cohort_size, retained_persons)}; rates checked apart."""
    rows = conn.execute(
        "select cohort_week, weeks_since_first_seen, cohort_size, retained_persons,"
        " retention_rate from analytics.weekly_retention"
    ).fetchall()
    for _, _, size, retained, rate in rows:
        assert abs(float(rate) - retained / size) < 1e-12
    return {(week, n): (size, retained) for week, n, size, retained, _ in rows}


def test_cohorts_follow_utc_weeks_and_identity(warehouse):
    assert retention(warehouse.conn) == {
        # A, D and ret-u; A came back Monday 03-04 (UTC), ret-u and D that week too
        (W0, 0): (3, 3),
        (W0, 1): (3, 3),
        (W0, 2): (3, 1),  # D on 03-12
        (W0, 3): (3, 0),
        # B alone: Monday 00:30 UTC is still Sunday in New York
        (W1, 0): (1, 1),
        (W1, 1): (1, 0),
        (W1, 2): (1, 1),
        # C, until its late first event arrives; the latest event is in week W3
        (W2, 0): (1, 1),
        (W2, 1): (1, 0),
    }


def test_returning_events_and_the_week_limit(warehouse):
    warehouse.dbt(
        "run",
        "--select",
        "weekly_retention",
        vars={"retention_return_events": ["deployments_new"], "retention_max_weeks": 1},
    )
    try:
        assert retention(warehouse.conn) == {
            # only D's deployments_new (week 1) counts; no week after 1
            (W0, 0): (3, 0),
            (W0, 1): (3, 1),
            (W1, 0): (1, 0),
            (W1, 1): (1, 0),
            (W2, 0): (1, 0),
            (W2, 1): (1, 0),
        }
    finally:
        warehouse.dbt("run", "--select", "weekly_retention")


def test_a_late_first_event_moves_the_person_to_an_earlier_cohort(warehouse):
    row = {
        **envelope(
            "rt-c0",
            at("2024-03-01 10:00"),
            received=at("2024-03-19 09:00"),
            loaded=at("2024-03-19 10:00"),
        ),
        "anonymous_id": "anon-c",
        "path": "/",
    }
    insert(warehouse.conn, P, "pages", row)
    warehouse.dbt("run")
    assert retention(warehouse.conn) == {
        (W0, 0): (4, 4),  # A, C (03-01), D, ret-u
        (W0, 1): (4, 3),
        (W0, 2): (4, 2),  # D and C on 03-12
        (W0, 3): (4, 0),
        (W1, 0): (1, 1),
        (W1, 1): (1, 0),
        (W1, 2): (1, 1),
    }


def test_wrong_retention_settings_are_refused(warehouse):
    result = warehouse.dbt(
        "run", vars={"retention_max_weeks": 0, "retention_return_events": "x"},
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "retention_max_weeks must be a whole number of weeks" in result.stdout
    assert "retention_return_events must be a list of event names" in result.stdout
