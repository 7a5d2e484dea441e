"""The catalog and data quality tables of <target>_ops: hand-worked cases.

The server runs in Asia/Kolkata (UTC+05:30), so a load hour or an activity day
taken in the session's zone would be half an hour off. Two sources, `web` and
`app`; the tracking plan (PLAN) is a copy of the seed written for this test. All
times UTC; every call is received 5 s after it happens and loaded an hour later
unless said. The warehouse's latest event day is 2024-03-10, so "the last 7 days"
are 03-04..03-10 and "the last 28 days" 02-12..03-10.

- web.order_placed o1..o10 on 03-01..03-10 at 10:00 (o<i> on day i): o1-o5 by u1,
  o6-o8 by u2, o9-o10 by u3; amount (bigint) on all; region on o4..o10 only (30%
  lack it). o2 is loaded late (03-05 10:00, 72 h after it happened); o3 is loaded
  exactly 24 h after (not late).
- app.order_placed a1..a4 on 03-06..03-09 at 10:00 by u4, amount numeric (the type
  differs between the sources), region on all. a3's device clock is 2 h ahead: its
  "timestamp" is later than received_at (a future timestamp).
- web.signed_up s1 (u1, 02-20 09:00, plan, referral_code) and s2 (u2, 03-02 09:00,
  plan): referral_code is not in the plan.
- web.trial_started t1 (u5, 01-01 10:00): planned, not sent in the last 28 days.
- web.feedback_given f1..f3 (u3, 03-05 10:00..10:02): not in the plan.
- web pages p1 (u1, 03-10 12:00), p2 (u1, 03-09 12:00), p3 (anon-1, 03-08 12:00,
  with an `experiment` column the plan lacks), p4 (03-07 12:00, anonymous_id
  "undefined", a junk id: no person).
- app screens sc1..sc3, received 03-09 11:00, 10:40, 10:10 and all loaded in the
  11:00 hour, lags 600, 1200, 3000 s: p50 1200 s, p95 1200 + 0.9 * 1800 = 2820 s.
- deleted_account is planned and never sent; coupon (optional) is never sent.

A later sync (LATE) adds o11 (u3, 03-10 11:00, no region) and p5 (u2, 03-10
12:30), loaded into the hour p1 was loaded in (13:00), which the first run counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import psycopg
import pytest

from dbt_helpers import DbtRunner, libpq_env, project_copy
from incremental_helpers import describe, mart_differences
from segment_rows import RawWarehouse, at

PLAN = """\
event_name,property_name,data_type,is_required
page_view,,,
order_placed,,,
order_placed,amount,bigint,true
order_placed,coupon,text,false
order_placed,region,text,true
signed_up,,,
signed_up,plan,character varying,true
trial_started,,,
deleted_account,,,
"""
EMPTY_PLAN = "event_name,property_name,data_type,is_required\n"
OPS = ("event_catalog", "event_properties", "tracking_plan_audit", "source_loads")
JUNK = {"", "null", "undefined", "anonymous", "0", "none", "nil", "-1", "nan"}
JUNK |= {"unknown", "[object object]"}


def _load(wh: RawWarehouse) -> None:
    for i in range(1, 11):
        user = "u1" if i <= 5 else "u2" if i <= 8 else "u3"
        when = at(f"2024-03-{i:02d} 10:00")
        loaded = {2: at("2024-03-05 10:00"), 3: when + timedelta(hours=24)}
        late = {"loaded": loaded[i]} if i in loaded else {}
        props = {"amount": i * 10, "region": "eu" if i >= 4 else None}
        wh.track("web", "order_placed", f"o{i}", when, user_id=user,
                 properties=props, **late)  # fmt: skip
    for i in range(1, 5):
        when = at(f"2024-03-{i + 5:02d} 10:00")
        clock = {"timestamp": when + timedelta(hours=2)} if i == 3 else {}
        wh.track("app", "order_placed", f"a{i}", when, user_id="u4",
                 properties={"amount": Decimal("9.50"), "region": "us"},
                 **clock)  # fmt: skip
    wh.track("web", "signed_up", "s1", at("2024-02-20 09:00"), user_id="u1",
             properties={"plan": "pro", "referral_code": "X1"})  # fmt: skip
    wh.track("web", "signed_up", "s2", at("2024-03-02 09:00"), user_id="u2",
             properties={"plan": "free"})  # fmt: skip
    wh.track("web", "trial_started", "t1", at("2024-01-01 10:00"), user_id="u5")
    for i in range(3):
        wh.track("web", "feedback_given", f"f{i + 1}", at(f"2024-03-05 10:0{i}"),
                 user_id="u3", properties={"score": 5})  # fmt: skip
    wh.page("web", "p1", at("2024-03-10 12:00"), user_id="u1", path="/")
    wh.page("web", "p2", at("2024-03-09 12:00"), user_id="u1", path="/")
    wh.page("web", "p3", at("2024-03-08 12:00"), anonymous_id="anon-1", path="/",
            experiment="b")  # fmt: skip
    wh.page("web", "p4", at("2024-03-07 12:00"), anonymous_id="undefined", path="/")
    for name, received, lag in (
        ("sc1", "2024-03-09 11:00", 600),
        ("sc2", "2024-03-09 10:40", 1200),
        ("sc3", "2024-03-09 10:10", 3000),
    ):
        got = at(received)
        wh.screen("app", name, got - timedelta(seconds=5), user_id="u4", name="Home",
                  received=got, loaded=got + timedelta(seconds=lag))  # fmt: skip


def _load_late(wh: RawWarehouse) -> None:
    wh.track("web", "order_placed", "o11", at("2024-03-10 11:00"), user_id="u3",
             properties={"amount": 110}, loaded=at("2024-03-10 13:20"))  # fmt: skip
    wh.page("web", "p5", at("2024-03-10 12:30"), user_id="u2", path="/")


def _append(conn: psycopg.Connection, wh: RawWarehouse) -> None:
    """Insert wh's rows into the existing tables (a later sync)."""
    for table in wh.tables.values():
        names = [name for name, _ in table.columns()]
        for row in table.rows:
            conn.execute(
                psycopg.sql.SQL("insert into {} ({}) values ({})").format(
                    psycopg.sql.Identifier(table.schema, table.name),
                    psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, names)),
                    psycopg.sql.SQL(", ").join(psycopg.sql.Placeholder() * len(names)),
                ),
                [row.get(name) for name in names],
            )


@pytest.fixture(scope="module")
def warehouse(pg_database_in_zone, tmp_path_factory) -> Iterator[SimpleNamespace]:
    conninfo = pg_database_in_zone("Asia/Kolkata")
    project = project_copy(tmp_path_factory.mktemp("project"), {"tracking_plan": PLAN})
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        first, late = RawWarehouse(), RawWarehouse()
        _load(first)
        _load_late(late)
        first.load(conn)
        env = libpq_env(conninfo)
        dbt = DbtRunner(env, tmp_path_factory.mktemp("dbt"), project_dir=project)
        dbt("run", vars={"segment_schemas": ["web", "app"]})
        yield SimpleNamespace(
            conn=conn, dbt=dbt, env=env, project=project, first=first, late=late,
            tmp=tmp_path_factory,
        )  # fmt: skip


def rows(conn: psycopg.Connection, query: str) -> list[tuple]:
    return conn.execute(query).fetchall()


# --- the first sync, worked out by hand -----------------------------------------------
def test_event_catalog(warehouse):
    found = {
        (schema, event): rest
        for schema, event, *rest in rows(
            warehouse.conn,
            "select source_schema, event_name, first_seen_at, last_seen_at,"
            " event_count, events_last_7d, persons_last_28d, is_planned"
            " from analytics_ops.event_catalog",
        )
    }
    day = "2024-03-{:02d} 10:00"
    assert found == {
        ("web", "order_placed"): [
            at(day.format(1)),
            at(day.format(10)),
            10,
            7,
            3,
            True,
        ],
        # a3's future timestamp is capped at its received_at
        ("app", "order_placed"): [at(day.format(6)), at(day.format(9)), 4, 4, 1, True],
        ("web", "signed_up"): [
            at("2024-02-20 09:00"),
            at("2024-03-02 09:00"),
            2,
            0,
            2,
            True,
        ],
        ("web", "trial_started"): [
            at("2024-01-01 10:00"),
            at("2024-01-01 10:00"),
            1,
            0,
            0,
            True,
        ],
        ("web", "feedback_given"): [
            at("2024-03-05 10:00"),
            at("2024-03-05 10:02"),
            3,
            3,
            1,
            False,
        ],
        # p4 has no id left once its junk anonymous_id is read as null: no person
        ("web", "page_view"): [
            at("2024-03-07 12:00"),
            at("2024-03-10 12:00"),
            4,
            4,
            2,
            True,
        ],
        ("app", "screen_view"): [
            at("2024-03-09 10:09:55"),
            at("2024-03-09 10:59:55"),
            3,
            3,
            1,
            False,
        ],
    }


def test_event_properties(warehouse):
    found = {
        (schema, event, name): rest
        for schema, event, name, *rest in rows(
            warehouse.conn,
            "select source_schema, event_name, property_name, data_type,"
            " value_count, event_count, fill_rate::float8"
            " from analytics_ops.event_properties",
        )
    }
    assert found == {
        ("web", "order_placed", "amount"): ["bigint", 10, 10, 1.0],
        ("web", "order_placed", "region"): ["text", 7, 10, 0.7],
        ("app", "order_placed", "amount"): ["numeric", 4, 4, 1.0],
        ("app", "order_placed", "region"): ["text", 4, 4, 1.0],
        ("web", "signed_up", "plan"): ["text", 2, 2, 1.0],
        ("web", "signed_up", "referral_code"): ["text", 1, 2, 0.5],
        ("web", "feedback_given", "score"): ["bigint", 3, 3, 1.0],
        ("web", "page_view", "experiment"): ["text", 1, 4, 0.25],
    }
    (first_seen,) = rows(
        warehouse.conn,
        "select first_seen_at from analytics_ops.event_properties"
        " where event_name = 'order_placed' and property_name = 'region'"
        " and source_schema = 'web'",
    )[0]
    assert first_seen == at("2024-03-04 10:00:05")  # o4, the first with a region


MISSING, MISMATCH = "missing_required_property", "type_mismatch"
AUDIT = {
    ("unplanned_event", "web", "feedback_given", None): (3, None, "2024-03-05 10:02"),
    ("unplanned_event", "app", "screen_view", None): (3, None, "2024-03-09 10:59:55"),
    (
        "planned_event_missing",
        None,
        "trial_started",
        None,
    ): (1, None, "2024-01-01 10:00"),
    ("planned_event_missing", None, "deleted_account", None): (0, None, None),
    (MISSING, "web", "order_placed", "region"): (3, 0.3, "2024-03-10 10:00"),
    (MISMATCH, "app", "order_placed", "amount"): (4, None, "2024-03-09 10:00:05"),
    ("unplanned_property", "web", "signed_up", "referral_code"): (
        1,
        None,
        "2024-02-20 09:00:05",
    ),
    ("unplanned_property", "web", "page_view", "experiment"): (
        1,
        None,
        "2024-03-08 12:00:05",
    ),
}


def audit(conn: psycopg.Connection, schema: str = "analytics_ops") -> dict:
    return {
        tuple(key): (count, None if share is None else float(share), seen)
        for *key, count, share, seen in rows(
            conn,
            "select finding, source_schema, event_name, property_name, event_count,"
            f" missing_share, last_seen_at from {schema}.tracking_plan_audit",
        )
    }


def test_tracking_plan_audit(warehouse):
    expected = {
        key: (count, share, None if seen is None else at(seen))
        for key, (count, share, seen) in AUDIT.items()
    }
    assert audit(warehouse.conn) == expected
    # the plan's `character varying` matches the warehouse's text: no finding for plan
    details = dict(
        rows(
            warehouse.conn,
            "select property_name, detail from analytics_ops.tracking_plan_audit"
            " where finding = 'type_mismatch'",
        )
    )
    assert details == {"amount": "planned bigint, stored as numeric"}


def source_loads(tables) -> dict[tuple, tuple]:
    """source_loads computed apart: every raw row of `tables` (RawTable objects,
    all syncs), grouped by its load hour in UTC."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for table in tables:
        for row in table.rows:
            hour = row["uuid_ts"].replace(minute=0, second=0, microsecond=0)
            groups[(table.schema, table.name, hour)].append(row)
    expected = {}
    for key, group in groups.items():
        lags = sorted((r["uuid_ts"] - r["received_at"]).total_seconds() for r in group)

        def percentile(p: float, lags=lags) -> float:
            position = p * (len(lags) - 1)
            low = int(position)
            high = min(low + 1, len(lags) - 1)
            return lags[low] + (position - low) * (lags[high] - lags[low])

        def occurred(row: dict) -> datetime:
            return min(row["timestamp"], row["received_at"])

        def junk(value) -> bool:
            return value is not None and value.strip().lower() in JUNK

        expected[key] = (
            len(group),
            sum(r["uuid_ts"] - occurred(r) > timedelta(hours=24) for r in group),
            pytest.approx(percentile(0.5)),
            pytest.approx(percentile(0.95)),
            sum(r["timestamp"] > r["received_at"] for r in group),
            sum(junk(r.get("anonymous_id")) or junk(r.get("user_id")) for r in group),
        )
    return expected


def stored_loads(conn: psycopg.Connection, schema: str = "analytics_ops") -> dict:
    return {
        (source, table, hour): tuple(rest)
        for source, table, hour, *rest in rows(
            conn,
            "select source_schema, table_name, load_hour, rows_loaded, late_rows,"
            " p50_load_lag_seconds, p95_load_lag_seconds, future_timestamps, junk_ids"
            f" from {schema}.source_loads",
        )
    }


def test_source_loads(warehouse):
    found = stored_loads(warehouse.conn)
    # by hand: o2 late (72 h), o3 not (exactly 24 h), in both of its tables
    hour = at("2024-03-05 10:00")
    assert found[("web", "order_placed", hour)][:2] == (1, 1)
    assert found[("web", "tracks", hour)][:2] == (1, 1)
    hour = at("2024-03-04 10:00")
    assert found[("web", "order_placed", hour)][:2] == (1, 0)
    assert found[("app", "screens", at("2024-03-09 11:00"))] == (
        3, 0, 1200.0, pytest.approx(2820.0), 0, 0
    )  # fmt: skip
    assert found[("app", "order_placed", at("2024-03-08 11:00"))][4] == 1  # a3's clock
    assert found[("web", "pages", at("2024-03-07 13:00"))][5] == 1  # p4's junk id
    # and every hour as a second, plain implementation counts it
    assert found == source_loads(warehouse.first.tables.values())


# --- a later sync, then an incremental run -------------------------------------------
def test_a_later_sync_updates_the_tables(warehouse):
    _append(warehouse.conn, warehouse.late)
    warehouse.dbt("run", vars={"segment_schemas": ["web", "app"]})
    props = {
        name: (count, events, float(rate))
        for name, count, events, rate in rows(
            warehouse.conn,
            "select property_name, value_count, event_count, fill_rate"
            " from analytics_ops.event_properties"
            " where source_schema = 'web' and event_name = 'order_placed'",
        )
    }
    assert props == {"amount": (11, 11, 1.0), "region": (7, 11, 0.6364)}
    found = audit(warehouse.conn)
    key = ("missing_required_property", "web", "order_placed", "region")
    assert found[key] == (4, 0.3636, at("2024-03-10 11:00"))
    # p5 was loaded into the hour p1 was, which the first run had counted
    loads = stored_loads(warehouse.conn)
    assert loads[("web", "pages", at("2024-03-10 13:00"))][0] == 2
    both = defaultdict(list)
    for sync in (warehouse.first, warehouse.late):
        for (schema, name), table in sync.tables.items():
            both[(schema, name)] += table.rows
    merged = [SimpleNamespace(schema=s, name=n, rows=r) for (s, n), r in both.items()]
    assert loads == source_loads(merged)


def test_a_rebuilt_staging_model_is_not_counted_twice(warehouse):
    """Rebuilding stg_segment__pages stages every page again (new staged_at): the
    property counts must start over, not add the pages a second time."""
    dbt_vars = {"segment_schemas": ["web", "app"]}
    warehouse.dbt(
        "run", "--full-refresh", "--select", "stg_segment__pages", vars=dbt_vars
    )
    warehouse.dbt("run", vars=dbt_vars)
    found = rows(
        warehouse.conn,
        "select value_count, event_count from analytics_ops.event_properties"
        " where event_name = 'page_view'",
    )
    assert found == [(1, 5)]  # p3's experiment, of p1..p5


def test_the_incremental_tables_equal_a_full_build(warehouse):
    fresh = DbtRunner(
        warehouse.env,
        warehouse.tmp.mktemp("fresh"),
        schema="fresh",
        project_dir=warehouse.project,
    )
    fresh("run", vars={"segment_schemas": ["web", "app"]})
    problems = mart_differences(warehouse.conn, "analytics_ops", "fresh_ops", OPS)
    # p4 has no id: a rebuilt stg_segment__pages staged it again, and int_events
    # must not add it twice
    problems |= mart_differences(
        warehouse.conn, "analytics", "fresh", ("events", "daily_event_counts")
    )
    assert not problems, describe(problems)


def test_an_empty_plan_has_no_findings(warehouse):
    project = project_copy(warehouse.tmp.mktemp("empty"), {"tracking_plan": EMPTY_PLAN})
    dbt = DbtRunner(
        warehouse.env,
        warehouse.tmp.mktemp("noplan"),
        schema="noplan",
        project_dir=project,
    )
    dbt("run", vars={"segment_schemas": ["web", "app"]})
    assert audit(warehouse.conn, "noplan_ops") == {}
    planned = rows(
        warehouse.conn, "select bool_or(is_planned) from noplan_ops.event_catalog"
    )
    assert planned == [(False,)]
