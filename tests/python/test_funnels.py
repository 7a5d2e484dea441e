"""funnel_conversions and int_funnel_steps: hand-worked funnel cases.

The server runs in America/New_York, where ff's two entries (03-01 23:30 and 03-02
00:10 UTC) fall on the same local day: only UTC days separate them. The project is a
copy whose seeds/funnels.csv holds two funnels:

- trial: page_view with path /pricing (a page field, not a property), signed_up,
  deployments_new; the default window (var funnel_window_hours, 168 h);
- pro: signed_up with plan = pro, then deployments_new, within 2 hours;
- again: a page view, then another one within an hour (one event matches both
  steps, but only a later event can reach step 2).

The tests run in file order (the third loads late data). Every expected value is
worked out by hand from the rules (README, "For analysts", funnels), all times UTC
on 2024-03-01 unless said:

- fa, out of order: pricing 10:00, deployments_new 10:30, signed_up 11:00. Step 2
  at 11:00; the deployment came before the sign-up: no step 3. A later load brings a
  deployments_new at 13:00: step 3.
- fb, repeated steps: pricing 10:00 and 10:05 (one entry, at 10:00), signed_up
  10:20 and 10:40 (the first counts), deployments_new 11:00.
- fc, ties at 10:00:00, ordered by message id: signed_up fc-1, pricing fc-2 (the
  entry), signed_up fc-3 (step 2, 0 s later), deployments_new fc-0 (before the
  step-2 event: no step 3).
- fd, the window's edge: pricing 10:00, signed_up 03-08 10:00:00 (exactly 168 h:
  inside), deployments_new 03-08 10:00:01 (outside).
- ff, two entry days: pricing 23:30 and 03-02 00:10, signed_up 03-02 01:00,
  deployments_new 03-08 23:50: inside the 03-02 entry's window (to 03-09 00:10),
  outside the 03-01 entry's (to 03-08 23:30).
- fg-old views pricing at 10:00 on one device; fg-new signs up at 12:00 on another
  and deploys 03-02 09:00. Two persons, until a later load brings an alias of
  fg-old to fg-new: one person, who entered at 10:00 and converted on the second
  device.
- again: fb's second page comes 300 s after the first, ff's 03-02 00:10 page 2400 s
  after 23:30 (the 03-02 entry has no later page: a row of zeros); the others have
  one page view.
- pro: fh signs up on plan free (no entry); fi on pro and deploys at 11:59:59
  (7199 s, inside 2 h); fj on pro and deploys at 12:00:01 (outside).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace

import psycopg
import pytest

from dbt_helpers import SEEDS_AND_MODELS, DbtRunner, libpq_env, project_copy
from incremental_helpers import describe, insert, mart_differences
from segment_rows import RawWarehouse, at, envelope

P = "production"
D1, D2 = date(2024, 3, 1), date(2024, 3, 2)
FUNNELS = """\
funnel_name,step_number,event_name,property_name,property_value,window_hours
trial,1,page_view,path,/pricing,
trial,2,signed_up,,,
trial,3,deployments_new,,,
pro,1,signed_up,plan,pro,2
pro,2,deployments_new,,,
again,1,page_view,,,1
again,2,page_view,,,
"""
FUNNEL_MARTS = ("funnel_conversions",)


def _load(wh: RawWarehouse) -> None:
    def page(message_id: str, when: str, user_id: str, **columns) -> None:
        wh.page(P, message_id, at(when), user_id=user_id, path="/pricing", **columns)

    def track(event: str, message_id: str, when: str, user_id: str, **props) -> None:
        wh.track(P, event, message_id, at(when), user_id=user_id, properties=props)

    # an alias of other ids, so that the later sync has an aliases table to load
    wh.alias(P, "fz-1", at("2024-02-01 00:00"), "fz-old", "fz-new")

    page("fa-1", "2024-03-01 10:00", "fa")
    track("deployments_new", "fa-2", "2024-03-01 10:30", "fa")
    track("signed_up", "fa-3", "2024-03-01 11:00", "fa", plan="free")

    page("fb-1", "2024-03-01 10:00", "fb")
    page("fb-2", "2024-03-01 10:05", "fb")
    track("signed_up", "fb-3", "2024-03-01 10:20", "fb", plan="free")
    track("signed_up", "fb-4", "2024-03-01 10:40", "fb", plan="free")
    track("deployments_new", "fb-5", "2024-03-01 11:00", "fb")

    track("signed_up", "fc-1", "2024-03-01 10:00", "fc", plan="free")
    page("fc-2", "2024-03-01 10:00", "fc")
    track("signed_up", "fc-3", "2024-03-01 10:00", "fc", plan="free")
    track("deployments_new", "fc-0", "2024-03-01 10:00", "fc")

    page("fd-1", "2024-03-01 10:00", "fd")
    track("signed_up", "fd-2", "2024-03-08 10:00", "fd", plan="free")
    track("deployments_new", "fd-3", "2024-03-08 10:00:01", "fd")

    page("ff-1", "2024-03-01 23:30", "ff")
    page("ff-2", "2024-03-02 00:10", "ff")
    track("signed_up", "ff-3", "2024-03-02 01:00", "ff", plan="free")
    track("deployments_new", "ff-4", "2024-03-08 23:50", "ff")

    page("fg-1", "2024-03-01 10:00", "fg-old", anonymous_id="anon-fg1")
    wh.track(P, "signed_up", "fg-2", at("2024-03-01 12:00"), user_id="fg-new",
             anonymous_id="anon-fg2", properties={"plan": "free"})  # fmt: skip
    wh.track(P, "deployments_new", "fg-3", at("2024-03-02 09:00"), user_id="fg-new",
             anonymous_id="anon-fg2")  # fmt: skip

    track("signed_up", "fh-1", "2024-03-01 10:00", "fh", plan="free")
    track("deployments_new", "fh-2", "2024-03-01 10:30", "fh")
    track("signed_up", "fi-1", "2024-03-01 10:00", "fi", plan="pro")
    track("deployments_new", "fi-2", "2024-03-01 11:59:59", "fi")
    track("signed_up", "fj-1", "2024-03-01 10:00", "fj", plan="pro")
    track("deployments_new", "fj-2", "2024-03-01 12:00:01", "fj")


def _load_late(conn: psycopg.Connection) -> None:
    """A later sync: fa's deployment of 13:00, and the alias of fg-old to fg-new."""
    loaded = at("2024-03-10 12:00")  # after every earlier sync
    late = envelope("fa-4", at("2024-03-01 13:00"), loaded=loaded)
    track = {**late, "user_id": "fa", "event": "deployments_new",
             "event_text": "Deployments New"}  # fmt: skip
    insert(conn, P, "tracks", track)
    insert(conn, P, "deployments_new", track)
    alias = envelope("fg-4", at("2024-03-03 09:00"), loaded=loaded)
    insert(conn, P, "aliases", {**alias, "previous_id": "fg-old", "user_id": "fg-new"})


@pytest.fixture(scope="module")
def warehouse(pg_database_in_zone, tmp_path_factory) -> Iterator[SimpleNamespace]:
    conninfo = pg_database_in_zone("America/New_York")
    project = project_copy(tmp_path_factory.mktemp("project"), {"funnels": FUNNELS})
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        wh = RawWarehouse()
        _load(wh)
        wh.load(conn)
        dbt = DbtRunner(
            libpq_env(conninfo), tmp_path_factory.mktemp("dbt"), project_dir=project
        )
        dbt("run")
        yield SimpleNamespace(conn=conn, conninfo=conninfo, dbt=dbt)


def steps(conn: psycopg.Connection, funnel: str) -> dict[tuple, tuple]:
    """{(person_id, cohort_date, step): (seconds from entry, from the previous)}."""
    rows = conn.execute(
        "select person_id, cohort_date, step_number, seconds_from_entry,"
        " seconds_from_previous_step, reached_at - entered_at"
        " from analytics_intermediate.int_funnel_steps where funnel_name = %s",
        [funnel],
    ).fetchall()
    found = {}
    for person, day, step, from_entry, from_previous, elapsed in rows:
        assert from_entry == elapsed.total_seconds()
        found[(person, day, step)] = (
            float(from_entry),
            None if from_previous is None else float(from_previous),
        )
    return found


def conversions(conn: psycopg.Connection, funnel: str) -> dict[tuple, tuple]:
    """{(cohort_date, step): (entered, reached, conversion, step conversion,
    median from entry, median from previous)} of funnel_conversions."""
    rows = conn.execute(
        "select cohort_date, step_number, persons_entered, persons_reached,"
        " conversion_rate, step_conversion_rate, median_seconds_from_entry,"
        " median_seconds_from_previous_step"
        " from analytics.funnel_conversions where funnel_name = %s",
        [funnel],
    ).fetchall()
    return {
        (day, step): tuple(None if v is None else float(v) for v in values)
        for day, step, *values in rows
    }


def approx(expected: dict) -> dict:
    return {
        key: tuple(None if v is None else pytest.approx(v) for v in values)
        for key, values in expected.items()
    }


DAY7 = 7 * 24 * 3600.0

TRIAL_STEPS_BEFORE = {
    ("fa", D1, 1): (0.0, None),
    ("fa", D1, 2): (3600.0, 3600.0),
    ("fb", D1, 1): (0.0, None),
    ("fb", D1, 2): (1200.0, 1200.0),
    ("fb", D1, 3): (3600.0, 2400.0),
    ("fc", D1, 1): (0.0, None),
    ("fc", D1, 2): (0.0, 0.0),
    ("fd", D1, 1): (0.0, None),
    ("fd", D1, 2): (DAY7, DAY7),
    ("ff", D1, 1): (0.0, None),
    ("ff", D1, 2): (5400.0, 5400.0),
    ("ff", D2, 1): (0.0, None),
    ("ff", D2, 2): (3000.0, 3000.0),
    ("ff", D2, 3): (DAY7 - 1200, DAY7 - 1200 - 3000),
    ("fg-old", D1, 1): (0.0, None),
}


def test_funnel_steps_follow_the_rules(warehouse):
    assert steps(warehouse.conn, "trial") == TRIAL_STEPS_BEFORE
    assert steps(warehouse.conn, "pro") == {
        ("fi", D1, 1): (0.0, None),
        ("fi", D1, 2): (7199.0, 7199.0),
        ("fj", D1, 1): (0.0, None),
    }
    assert steps(warehouse.conn, "again") == {
        **{(person, D1, 1): (0.0, None) for person in ("fa", "fb", "fc", "fd")},
        ("fb", D1, 2): (300.0, 300.0),
        ("ff", D1, 1): (0.0, None),
        ("ff", D1, 2): (2400.0, 2400.0),
        ("ff", D2, 1): (0.0, None),
        ("fg-old", D1, 1): (0.0, None),
    }


def test_funnel_conversions(warehouse):
    # 03-01: entered fa, fb, fc, fd, ff, fg-old; step 2 after 3600, 1200, 0,
    # 604800 and 5400 s (median 3600); step 3 fb alone.
    assert conversions(warehouse.conn, "trial") == approx({
        (D1, 1): (6, 6, 1, 1, 0, None),
        (D1, 2): (6, 5, 5 / 6, 5 / 6, 3600, 3600),
        (D1, 3): (6, 1, 1 / 6, 1 / 5, 3600, 2400),
        (D2, 1): (1, 1, 1, 1, 0, None),
        (D2, 2): (1, 1, 1, 1, 3000, 3000),
        (D2, 3): (1, 1, 1, 1, DAY7 - 1200, DAY7 - 4200),
    })  # fmt: skip
    assert conversions(warehouse.conn, "pro") == approx({
        (D1, 1): (2, 2, 1, 1, 0, None),
        (D1, 2): (2, 1, 0.5, 0.5, 7199, 7199),
    })  # fmt: skip
    assert conversions(warehouse.conn, "again") == approx({
        (D1, 1): (6, 6, 1, 1, 0, None),
        (D1, 2): (6, 2, 1 / 3, 1 / 3, 1350, 1350),
        (D2, 1): (1, 1, 1, 1, 0, None),
        (D2, 2): (1, 0, 0, 0, None, None),
    })  # fmt: skip


def test_late_steps_and_a_late_alias(warehouse, tmp_path):
    _load_late(warehouse.conn)
    warehouse.dbt("run")
    expected = {k: v for k, v in TRIAL_STEPS_BEFORE.items() if k[0] != "fg-old"}
    expected.update({
        ("fa", D1, 3): (3 * 3600.0, 2 * 3600.0),
        # fg-old's pricing view now enters fg-new, who converted on the other device
        ("fg-new", D1, 1): (0.0, None),
        ("fg-new", D1, 2): (7200.0, 7200.0),
        ("fg-new", D1, 3): (23 * 3600.0, 21 * 3600.0),
    })  # fmt: skip
    assert steps(warehouse.conn, "trial") == expected
    # step 2 after 0, 1200, 3600, 5400, 7200 and 604800 s: median (3600 + 5400) / 2
    found = conversions(warehouse.conn, "trial")
    assert {k: v for k, v in found.items() if k[0] == D1} == approx({
        (D1, 1): (6, 6, 1, 1, 0, None),
        (D1, 2): (6, 6, 1, 1, 4500, 4500),
        (D1, 3): (6, 3, 0.5, 0.5, 10800, 7200),
    })  # fmt: skip
    _equals_a_full_build(warehouse, tmp_path, warehouse.dbt.project_dir)


def test_editing_a_funnel_rebuilds_it(warehouse, tmp_path):
    # The trial funnel's window cut to 2 hours in a copy of the seed: the next
    # incremental run of the existing tables gives what a full build gives.
    window = FUNNELS.replace("/pricing,\n", "/pricing,2\n")
    project = project_copy(tmp_path / "project", {"funnels": window})
    edited = DbtRunner(
        libpq_env(warehouse.conninfo), tmp_path / "edited", project_dir=project
    )
    edited("run")
    found = conversions(warehouse.conn, "trial")
    # within 2 h: step 2 for fa (1 h), fb, fc, ff (1.5 h), fg-new (2 h exactly);
    # step 3 for fb alone (fa's at 3 h, fg-new's the next day)
    assert {k: v[:2] for k, v in found.items() if k[0] == D1} == {
        (D1, 1): (6, 6),
        (D1, 2): (6, 5),
        (D1, 3): (6, 1),
    }
    _equals_a_full_build(warehouse, tmp_path, project)
    warehouse.dbt("build", *SEEDS_AND_MODELS)


def _equals_a_full_build(warehouse, tmp_path, project) -> None:
    fresh = DbtRunner(
        libpq_env(warehouse.conninfo), tmp_path / "fresh", "fresh", project_dir=project
    )
    fresh("run", "--full-refresh")
    assert (
        describe(mart_differences(warehouse.conn, "analytics", "fresh", FUNNEL_MARTS))
        == ""
    )
    assert describe(mart_differences(
        warehouse.conn, "analytics_intermediate", "fresh_intermediate",
        ["int_funnel_steps"],
    )) == ""  # fmt: skip


def test_a_wrong_funnel_window_is_refused(warehouse):
    result = warehouse.dbt("run", vars={"funnel_window_hours": 0}, check=False)
    assert result.returncode != 0
    assert "funnel_window_hours must be a number of hours" in result.stdout


def test_a_gap_in_a_funnels_steps_fails_its_test(warehouse, tmp_path):
    gap = FUNNELS.replace("trial,3,deployments_new", "trial,4,deployments_new")
    project = project_copy(tmp_path / "project", {"funnels": gap})
    other = DbtRunner(
        libpq_env(warehouse.conninfo), tmp_path / "gap", "gap", project_dir=project
    )
    result = other("build", "--select", "funnels", check=False)
    assert result.returncode != 0
    assert "assert_funnel_steps_are_numbered_from_one" in result.stdout


def test_an_empty_seed_builds_empty_funnel_tables(warehouse, tmp_path):
    header = FUNNELS.splitlines()[0] + "\n"
    project = project_copy(tmp_path / "project", {"funnels": header})
    empty = DbtRunner(
        libpq_env(warehouse.conninfo), tmp_path / "empty", "empty", project_dir=project
    )
    empty("run", "--select", "+funnel_conversions")
    for table in ("empty_intermediate.int_funnel_steps", "empty.funnel_conversions"):
        assert warehouse.conn.execute(f"select count(*) from {table}").fetchone() == (
            0,
        )
