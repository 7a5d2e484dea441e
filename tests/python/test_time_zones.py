"""The same raw data gives the same rows whatever the server's time zone.

Days, weeks and months are UTC (README, "Time zones"). UTC, America/New_York and
Asia/Kolkata each get a server of their own whose postgresql.conf sets `timezone`
and `log_timezone` to the zone, as a warehouse administrator would. dbt connects
with nothing that overrides the server's zone (no PGTZ, no PGOPTIONS), and a test
checks the zone of dbt's own session.

On each server the generator writes the same history, then `dbt build` runs every
model, unit test and data test; one more sync batch follows (late events for old
days among its rows) with an incremental run, then a full refresh of the same raw
data. The history covers a DST change in New York (2024-03-10) and ends at a month
boundary, so many events fall on another local day and month than their UTC ones.
The incremental marts must equal the full refresh, and both must equal the UTC
server's, with timestamps compared as instants.

Two zones whose traps lie in calendars and months run the unit tests as the
session's zone (PGTZ) on the UTC server's models: America/Santiago, whose DST
change skips midnight, and Pacific/Kiritimati, which skipped 1994-12-31 when it
moved across the date line. Unit tests of daily_active_users, monthly_event_counts
and monthly_deployments_created hold those days.

The three servers work at the same time (two cores: dbt and PostgreSQL take turns)
in the module fixture; the tests read what it recorded.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from psycopg import sql

from dbt_helpers import DbtRunner, libpq_env
from incremental_helpers import MARTS, copy_marts, describe, mart_differences
from segment_reports.cluster import Cluster, ClusterError, free_port
from segment_reports.generator import generate_batch

REFERENCE_ZONE = "UTC"
ZONES = (REFERENCE_ZONE, "America/New_York", "Asia/Kolkata")
SESSION_ZONES = ("America/Santiago", "Pacific/Kiritimati")

SOURCES = ["production:web", "ios:mobile"]
SCHEMAS = ["production", "ios"]
VARS = {"segment_schemas": SCHEMAS}
SEED = 7
HISTORY_START = datetime(2024, 3, 6, tzinfo=UTC)
HISTORY_DAYS = 26  # up to 2024-04-01 00:00 UTC, the evening of March 31 in New York
HISTORY_EVENTS = 2000
BATCH_DAYS = 1.5
BATCH_EVENTS = 400

TARGET = "analytics"  # the incremental chain, then the full refresh
INCREMENTAL = "incremental"  # the chain's marts, copied before the full refresh

# libpq variables that set the session's zone over the server's
_ZONE_OVERRIDES = ("PGTZ", "PGOPTIONS")


def runner(conninfo: dict, workdir: Path) -> DbtRunner:
    dbt = DbtRunner(libpq_env(conninfo), workdir, schema=TARGET)
    for name in _ZONE_OVERRIDES:
        dbt.env.pop(name, None)
    return dbt


def session_zone(dbt: DbtRunner) -> str:
    """The TimeZone of dbt's own connection, from `dbt show`.

    With the builds' --vars: other vars would make dbt parse the project again.
    """
    result = dbt(
        "show",
        "--inline",
        "select current_setting('TimeZone') as zone",
        "--output",
        "json",
        "--log-format",
        "json",
        vars=VARS,
    )
    for line in result.stdout.splitlines():
        if '"ShowNode"' in line:
            preview = json.loads(line)["data"]["preview"]
            return json.loads(preview)[0]["zone"]
    raise AssertionError(f"dbt show printed no result:\n{result.stdout[-3000:]}")


def server_zones(conn: psycopg.Connection) -> dict[str, tuple[str, str]]:
    """{setting: (value, where it comes from)} of the server's zone settings."""
    rows = conn.execute(
        "select name, reset_val, source from pg_settings"
        " where name in ('TimeZone', 'log_timezone')"
    ).fetchall()
    return {name: (value, source) for name, value, source in rows}


# --- rows in a form that is the same in every zone ------------------------------------
def tables_of(conn: psycopg.Connection, schema: str) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.tables"
            " where table_schema = %s and table_type = 'BASE TABLE'",
            (schema,),
        )
    ]


def rows_as_instants(
    conn: psycopg.Connection, schema: str, table: str
) -> tuple[tuple[str, ...], Counter]:
    """The table's column names (sorted) and its rows as a bag of text tuples.

    timestamptz columns become UTC text (the instant, not the session's rendering
    of it); everything else is the value's own text, so a value rendered in the
    session zone inside text or jsonb shows up as a difference.
    """
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = %s and table_name = %s order by column_name",
        (schema, table),
    ).fetchall()
    selected = [
        sql.SQL(
            "to_char({} at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
            if data_type == "timestamp with time zone"
            else "{}::text"
        ).format(sql.Identifier(name))
        for name, data_type in columns
    ]
    query = sql.SQL("select {} from {}").format(
        sql.SQL(", ").join(selected), sql.Identifier(schema, table)
    )
    return tuple(name for name, _ in columns), Counter(conn.execute(query).fetchall())


def snapshot(conn: psycopg.Connection, schema: str, tables) -> dict:
    return {table: rows_as_instants(conn, schema, table) for table in tables}


def snapshot_differences(expected: dict, actual: dict, limit: int = 3) -> str:
    """What differs between two snapshots of the same tables ('' when nothing)."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        if table not in expected or table not in actual:
            problems.append(f"{table}: in one snapshot only")
            continue
        (want_columns, want), (got_columns, got) = expected[table], actual[table]
        if want_columns != got_columns:
            problems.append(f"{table}: columns {want_columns} != {got_columns}")
            continue
        missing, extra = want - got, got - want
        if missing or extra:
            problems.append(
                f"{table} ({', '.join(want_columns)}):\n"
                f"  {sum(missing.values())} rows missing, e.g. {list(missing)[:limit]}"
                f"\n  {sum(extra.values())} unexpected, e.g. {list(extra)[:limit]}"
            )
    return "\n".join(problems)


# --- one server's run -----------------------------------------------------------------
def load_and_build(conninfo: dict, workdir: Path, session_zones=()) -> SimpleNamespace:
    """History, `dbt build`, one more batch, an incremental run, a full refresh.

    Then the unit tests once per zone in `session_zones`, as the session's zone.
    """
    state = SimpleNamespace(unit_tests={}, session_zones={})
    dbt = runner(conninfo, workdir)
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        state.server = server_zones(conn)
        generate_batch(
            conn,
            sources=SOURCES,
            events=HISTORY_EVENTS,
            days=HISTORY_DAYS,
            seed=SEED,
            start=HISTORY_START,
        )
        state.build = dbt("build", vars=VARS, check=False)
        state.dbt_zone = session_zone(dbt)
        if state.build.returncode != 0:
            return state
        generate_batch(
            conn, sources=SOURCES, events=BATCH_EVENTS, days=BATCH_DAYS, seed=SEED
        )
        # The data tests ran in the build; the marts are compared instead. One
        # runner, one schema: a second would parse the project again.
        state.incremental_run = dbt("run", vars=VARS, check=False)
        copy_marts(conn, TARGET, INCREMENTAL)
        state.full_refresh = dbt("run", "--full-refresh", vars=VARS, check=False)
        state.raw = {
            schema: snapshot(conn, schema, tables_of(conn, schema))
            for schema in SCHEMAS
        }
        state.marts = {
            schema: snapshot(conn, schema, MARTS) for schema in (INCREMENTAL, TARGET)
        }
        state.differences = describe(mart_differences(conn, INCREMENTAL, TARGET))
    for zone in session_zones:
        dbt.env["PGTZ"] = zone
        state.session_zones[zone] = session_zone(dbt)
        state.unit_tests[zone] = dbt(
            "test", "--select", "test_type:unit", vars=VARS, check=False
        )
    return state


@pytest.fixture(scope="module")
def zones(pg_database_in_zone, tmp_path_factory) -> dict[str, SimpleNamespace]:
    def job(zone: str) -> SimpleNamespace:
        return load_and_build(
            pg_database_in_zone(zone),
            tmp_path_factory.mktemp(zone.replace("/", "_")),
            SESSION_ZONES if zone == REFERENCE_ZONE else (),
        )

    with ThreadPoolExecutor(max_workers=len(ZONES)) as pool:
        return dict(zip(ZONES, pool.map(job, ZONES), strict=True))


def dbt_errors(result) -> str:
    output = result.stdout
    start = output.rfind("Completed with")
    return (output[start:] if start >= 0 else output[-3000:])[:6000]


# --- the servers ----------------------------------------------------------------------
@pytest.mark.parametrize("zone", ZONES)
def test_the_server_and_dbts_session_run_in_the_zone(zones, zone):
    state = zones[zone]
    expected = (zone, "configuration file")
    assert state.server == {"TimeZone": expected, "log_timezone": expected}
    assert state.dbt_zone == zone


# --- builds ---------------------------------------------------------------------------
@pytest.mark.parametrize("zone", ZONES)
def test_dbt_build_passes_unit_and_data_tests(zones, zone):
    build = zones[zone].build
    assert build.returncode == 0, dbt_errors(build)
    assert "SKIP=0" in build.stdout


@pytest.mark.parametrize("zone", ZONES)
def test_incremental_run_and_full_refresh_pass(zones, zone):
    state = zones[zone]
    assert state.build.returncode == 0, "the first build failed"
    assert state.incremental_run.returncode == 0, dbt_errors(state.incremental_run)
    assert state.full_refresh.returncode == 0, dbt_errors(state.full_refresh)


@pytest.mark.parametrize("zone", ZONES)
def test_incremental_marts_equal_a_full_refresh(zones, zone):
    assert zones[zone].differences == ""


@pytest.mark.parametrize("zone", SESSION_ZONES)
def test_unit_tests_pass_where_a_midnight_is_skipped(zones, zone):
    state = zones[REFERENCE_ZONE]
    assert zone in state.unit_tests, "the UTC server's build failed"
    assert state.session_zones[zone] == zone
    assert state.unit_tests[zone].returncode == 0, dbt_errors(state.unit_tests[zone])


# --- the same rows in every zone ------------------------------------------------------
@pytest.mark.parametrize("zone", ZONES[1:])
def test_the_generator_wrote_the_same_raw_rows(zones, zone):
    """A precondition of the comparisons below: the same input in every zone."""
    for schema in SCHEMAS:
        reference, raw = zones[REFERENCE_ZONE].raw[schema], zones[zone].raw[schema]
        assert snapshot_differences(reference, raw) == ""


@pytest.mark.parametrize("schema", [INCREMENTAL, TARGET])
@pytest.mark.parametrize("zone", ZONES[1:])
def test_marts_equal_those_of_a_utc_server(zones, zone, schema):
    reference = zones[REFERENCE_ZONE].marts[schema]
    assert all(rows for _, rows in reference.values()), "a UTC mart is empty"
    assert snapshot_differences(reference, zones[zone].marts[schema]) == ""


# --- the cluster's zone setting -------------------------------------------------------
def test_a_zone_that_could_break_postgresql_conf_is_refused(tmp_path):
    with pytest.raises(ClusterError, match="'UTC'; fsync = off' is not a time zone"):
        Cluster(
            datadir=tmp_path / "data", port=free_port(), timezone="UTC'; fsync = off"
        )


def test_a_zone_the_server_does_not_know_is_named_when_it_fails_to_start():
    # not tmp_path: the postgres OS user must be able to reach the data directory
    root = Path(tempfile.mkdtemp(prefix="segment-reports-test-"))
    root.chmod(0o755)
    cluster = Cluster(datadir=root / "data", port=free_port(), timezone="Mars/Olympus")
    try:
        cluster.init()
        with pytest.raises(ClusterError, match='"TimeZone": "Mars/Olympus"'):
            cluster.start()
    finally:
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)
