"""The scheduled run: one at a time, audited, and `segment-reports status`.

Real `segment-reports` processes against a test database (README, "Running it on
a schedule"). Expectations come from the rules: exit codes 0, 1, 2 and 75, the
lock holder named in words, one row per run in <target>_ops.runs, and after any
of these runs the marts equal a full refresh of the same raw data.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import psycopg
import yaml
from psycopg import sql

from conftest import _running_cluster
from dbt_helpers import CLI, REPO_ROOT, DbtRunner, cli_environment, libpq_env, sr
from incremental_helpers import describe, mart_differences
from segment_reports.generator import generate_batch
from segment_reports.runlock import LOCK_CLASS, lock_key

MODELS = len(list((REPO_ROOT / "models").rglob("*.sql")))
# Runs whose subject is the run itself (a lock, a kill, a restart) leave out the
# data tests, half of a build's time on this little data; the runs of
# test_two_runs_started_together and test_status_reports_runs_and_freshness
# run them, as the schedule does.
NO_DATA_TESTS = ("--exclude-resource-type", "test")
T = TypeVar("T")


def start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [CLI, *args],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def runs(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select status, exit_code, models_ok, models_error, models_skipped,"
        " tests_failed, pid from analytics_ops.runs order by started_at"
    ).fetchall()


def equals_a_full_build(pg_env: dict[str, str], conn, tmp_path: Path) -> None:
    fresh = DbtRunner(pg_env, tmp_path / "fresh", "fresh")
    fresh("run", "--full-refresh")
    assert describe(mart_differences(conn, "analytics", "fresh")) == ""


def test_two_runs_started_together(cli_env, pg_env, conn, tmp_path):
    generate_batch(conn, ["production"], events=2000, days=3, end="2024-03-01")
    first, second = start(cli_env, "run"), start(cli_env, "run")
    outputs = {proc.pid: proc.communicate(timeout=900) for proc in (first, second)}
    codes = {proc.pid: proc.returncode for proc in (first, second)}
    assert sorted(codes.values()) == [0, 75], outputs
    winner = next(pid for pid, code in codes.items() if code == 0)
    loser = next(pid for pid, code in codes.items() if code == 75)
    message = " ".join(outputs[loser][1].split())
    assert "another run is building schema analytics" in message
    assert f"pid {winner} on {socket.gethostname()}" in message
    # only the run that built is recorded, with every model and test passing
    assert runs(conn) == [("success", 0, MODELS, 0, 0, 0, winner)]
    equals_a_full_build(pg_env, conn, tmp_path)


def test_wait_takes_the_lock_once_it_is_free(cli_env, pg_env, conn, pg_database):
    generate_batch(conn, ["production"], events=500, days=1, end="2024-03-01")
    with psycopg.connect(
        **pg_database,
        autocommit=True,
        application_name="segment-reports run pid 4242 on elsewhere",
    ) as holder:
        holder.execute(
            "select pg_advisory_lock(%s, %s)", (LOCK_CLASS, lock_key("analytics"))
        )
        refused = sr(cli_env, "run")
        assert refused.returncode == 75
        assert "pid 4242 on elsewhere" in " ".join(refused.stderr.split())
        waiting = start(cli_env, "run", "--wait", "600", *NO_DATA_TESTS)
        time.sleep(3)
        assert waiting.poll() is None, waiting.communicate()
        holder.execute(
            "select pg_advisory_unlock(%s, %s)", (LOCK_CLASS, lock_key("analytics"))
        )
        out, err = waiting.communicate(timeout=900)
    assert waiting.returncode == 0, out[-3000:] + err
    assert [row[:2] for row in runs(conn)] == [("success", 0)]


def test_a_wait_that_runs_out_exits_75(cli_env, conn, pg_database):
    with psycopg.connect(**pg_database, autocommit=True) as holder:
        holder.execute(
            "select pg_advisory_lock(%s, %s)", (LOCK_CLASS, lock_key("analytics"))
        )
        result = sr(cli_env, "run", "--wait", "2")
    assert result.returncode == 75
    assert "after waiting 2 s" in " ".join(result.stderr.split())


def test_a_killed_run_is_shown_as_not_finished_and_the_next_catches_up(
    cli_env, pg_env, conn, tmp_path
):
    generate_batch(conn, ["production"], events=2000, days=3, end="2024-03-01")
    killed = start(cli_env, "run", *NO_DATA_TESTS)
    deadline = time.monotonic() + 300
    # kill the whole run (segment-reports and dbt) once a model has been built
    while not conn.execute(
        "select to_regclass('analytics_staging.stg_segment__pages') is not null"
    ).fetchone()[0]:
        assert killed.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    os.kill(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=120)
    assert runs(conn)[-1][:2] == ("running", None)
    status = sr(cli_env, "status")
    assert status.returncode == 1
    assert "did not finish" in status.stdout
    # dbt dies with its parent; the next run finds the lock free
    deadline = time.monotonic() + 60
    while (result := sr(cli_env, "run", *NO_DATA_TESTS)).returncode == 75:
        assert time.monotonic() < deadline, "the killed run's lock was not released"
        time.sleep(1)
    assert result.returncode == 0, result.stdout[-3000:]
    assert [row[:2] for row in runs(conn)] == [("did not finish", None), ("success", 0)]
    equals_a_full_build(pg_env, conn, tmp_path)


def _dbt_processes(parent: int) -> list[int]:
    """The pids of the dbt processes `parent` (a segment-reports run) started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # exited meanwhile
        if ppid == parent and b"dbt" in command:
            found.append(int(stat.parent.name))
    return found


@contextlib.contextmanager
def paused_at(pg_database: dict, relation: str) -> Iterator[Callable[[], bool]]:
    """Hold an ACCESS EXCLUSIVE lock on `relation` until the block ends, so that a
    run stops inside the model that touches it; yields a check: is a connection of
    the run waiting for that lock now?"""
    with psycopg.connect(**pg_database) as blocker:
        blocker.execute(f"lock table {relation} in access exclusive mode")
        with psycopg.connect(**pg_database, autocommit=True) as watcher:

            def waiting() -> bool:
                return watcher.execute(
                    "select exists (select from pg_locks where not granted"
                    " and relation = %s::regclass)",
                    [relation],
                ).fetchone()[0]

            yield waiting
        blocker.rollback()


def _wait_for(check: Callable[[], T], proc: subprocess.Popen) -> T:
    """Poll `check` while the run goes on; its first truthy result."""
    deadline = time.monotonic() + 300
    while not (found := check()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached the model"
        time.sleep(0.1)
    return found


def _late_sync(conn: psycopg.Connection) -> list[str]:
    """A sync that commits while a run is in progress: two track calls, one with
    a uuid_ts later than every staged row, one loaded (uuid_ts) an hour before
    the latest staged row but committed only now (within the lookback); their ids."""
    (latest,) = conn.execute("select max(uuid_ts) from production.tracks").fetchone()
    ids = []
    for name, loaded in (("late-new", latest + timedelta(minutes=1)),
                         ("late-old", latest - timedelta(hours=1))):  # fmt: skip
        row = {
            "id": name,
            "anonymous_id": f"anon-{name}",
            "user_id": None,
            "event": "docs_searched",
            "event_text": "Docs Searched",
            "timestamp": loaded - timedelta(hours=2),
            "received_at": loaded - timedelta(hours=2),
            "uuid_ts": loaded,
        }
        for table in ("tracks", "docs_searched"):
            columns = sql.SQL(", ").join(map(sql.Identifier, row))
            conn.execute(
                sql.SQL("insert into {} ({}) values ({})").format(
                    sql.Identifier("production", table),
                    columns,
                    sql.SQL(", ").join(sql.Placeholder() * len(row)),
                ),
                list(row.values()),
            )
        ids.append(name)
    return ids


def _row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows of an append-only staging model and of three change_driven models."""
    return {
        name: conn.execute(
            sql.SQL("select count(*) from {}").format(sql.Identifier(schema, name))
        ).fetchone()[0]
        for schema, name in (
            ("analytics_staging", "stg_segment__tracks"),
            ("analytics_intermediate", "int_events"),
            ("analytics_intermediate", "int_person_event_days"),
            ("analytics", "sessions"),
        )
    }


def test_dbt_killed_mid_model_and_rows_loaded_mid_run_lose_nothing(
    cli_env, pg_env, pg_database, conn, tmp_path
):
    """kill -9 of dbt inside a staging model, inside int_events and inside a
    mart (each run stopped by a lock on the model's table, then killed), and a
    sync committing while a run is past staging: the next runs catch up, every
    loaded call is in the marts once, and the marts equal a full build."""
    generate_batch(conn, ["production"], events=1500, days=3, end="2024-03-01")
    assert sr(cli_env, "run", *NO_DATA_TESTS).returncode == 0
    generate_batch(conn, ["production"], events=500, days=1, end="2024-03-02")
    for relation in (
        "analytics_staging.stg_segment__pages",
        "analytics_intermediate.int_events",
        "analytics.sessions",
    ):
        with paused_at(pg_database, relation) as waiting:
            proc = start(cli_env, "run", *NO_DATA_TESTS)
            _wait_for(waiting, proc)
            dbt = _dbt_processes(proc.pid)
            assert dbt, "no dbt process under the run"
            for pid in dbt:
                os.kill(pid, signal.SIGKILL)
            out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, out[-3000:] + err
        assert "dbt was killed by signal 9 (SIGKILL)" in " ".join(
            out.split() + err.split()
        )
        assert runs(conn)[-1][:2] == ("failed", 1)
    # a run stopped past staging while a sync commits; its rows wait for the next
    with paused_at(pg_database, "analytics_intermediate.int_events") as waiting:
        proc = start(cli_env, "run", *NO_DATA_TESTS)
        _wait_for(waiting, proc)
        synced = _late_sync(conn)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:] + err
    before = _row_counts(conn)
    assert sr(cli_env, "run", *NO_DATA_TESTS).returncode == 0
    # the run's audit: rows inserted and deleted per model, against the tables
    ((changes,),) = conn.execute(
        "select model_rows from analytics_ops.runs order by started_at desc limit 1"
    ).fetchall()
    after = _row_counts(conn)
    for model in before:
        counted = changes[model]
        assert counted["inserted"] - counted["deleted"] == after[model] - before[model]
    assert changes["stg_segment__tracks"] == {"inserted": 2, "deleted": 0}
    assert changes["int_events"]["inserted"] >= 2
    found = conn.execute(
        "select event_id, count(*) from analytics.events where event_id = any(%s)"
        " group by event_id order by event_id",
        [synced],
    ).fetchall()
    assert found == [(name, 1) for name in sorted(synced)]
    assert [row[:2] for row in runs(conn)] == [
        ("success", 0), ("failed", 1), ("failed", 1), ("failed", 1),
        ("success", 0), ("success", 0),
    ]  # fmt: skip
    equals_a_full_build(pg_env, conn, tmp_path)


def test_status_reports_runs_and_freshness(cli_env, conn, tmp_path):
    empty = sr(cli_env, "status")
    assert empty.returncode == 1  # no source data yet
    assert "no runs recorded" in empty.stdout
    generate_batch(conn, ["production"], events=500, days=1, end="2024-03-01")
    loud = sr(cli_env, "run")
    assert loud.returncode == 0
    assert "Run summary (exit 0)" in loud.stderr and " OK created " in loud.stdout
    # --quiet: dbt prints errors only, and a run that succeeds no summary
    quiet = sr(cli_env, "run", "--quiet", *NO_DATA_TESTS)
    assert quiet.returncode == 0
    assert quiet.stdout.strip() == "" and "Run summary" not in quiet.stderr
    # the first run staged every raw call; the second found nothing new
    staged = sum(
        conn.execute(f"select count(*) from analytics_staging.{table}").fetchone()[0]
        for table in ("stg_segment__tracks", "stg_segment__pages",
                      "stg_segment__screens", "stg_segment__identifies",
                      "stg_segment__groups", "stg_segment__aliases",
                      "stg_segment__track_properties")
    )  # fmt: skip
    picked = conn.execute(
        "select raw_rows_picked_up from analytics_ops.runs order by started_at"
    ).fetchall()
    assert picked == [(staged,), (0,)]
    # the data was loaded in March 2024: far older than 24 hours
    stale = sr(cli_env, "status")
    assert stale.returncode == 1
    assert "source production last loaded" in " ".join(stale.stdout.split())
    settings = Path(cli_env["SEGMENT_REPORTS_SETTINGS"])
    settings.write_text(
        yaml.safe_dump({"freshness_warn_hours": 1e6, "freshness_error_hours": 1e7})
    )
    healthy = sr(cli_env, "status")
    assert healthy.returncode == 0, healthy.stdout
    assert "success" in healthy.stdout and "unhealthy:" not in healthy.stdout
    settings.write_text(
        yaml.safe_dump({"freshness_warn_hours": 48, "freshness_error_hours": 24})
    )
    wrong = sr(cli_env, "status")
    assert wrong.returncode == 2
    assert "freshness_warn_hours (48) must not exceed" in wrong.stderr


def test_a_failed_run_is_recorded(cli_env, conn):
    generate_batch(conn, ["production"], events=500, days=1, end="2024-03-01")
    failed = sr(cli_env, "run", "--vars", "{session_timeout_minutes: 0}")
    assert failed.returncode not in (0, 75)
    assert runs(conn)[-1][:2] == ("failed", failed.returncode)
    settings = Path(cli_env["SEGMENT_REPORTS_SETTINGS"])
    settings.write_text(
        yaml.safe_dump({"freshness_warn_hours": 1e6, "freshness_error_hours": 1e7})
    )
    status = sr(cli_env, "status")
    assert status.returncode == 1
    assert "the latest run failed" in status.stdout


def test_an_unreachable_warehouse_exits_2_with_a_diagnosis(cli_env):
    env = {**cli_env, "PGHOST": "127.0.0.1", "PGPORT": "9"}
    result = sr(env, "run", timeout=300)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "cannot connect to" in message and "doctor finds" in message
    assert cli_env["PGPASSWORD"] not in result.stdout + result.stderr


def test_a_server_restart_mid_run_is_retried(tmp_path):
    # A cluster of this test's own, restarted while dbt builds the intermediate
    # models: dbt opens its next connections once the server is back (the
    # profile's retries); a model whose query was cut fails on a transient error
    # and runs again (see the next test); the run takes the lock again.
    with _running_cluster() as cluster:
        admin = cluster.conninfo("postgres")
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute("create database restarted")
        conninfo = cluster.conninfo("restarted")
        env = cli_environment(libpq_env(conninfo), tmp_path / "cli")
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            generate_batch(conn, ["production"], events=3000, days=3, end="2024-03-01")
        proc = start(env, "run", *NO_DATA_TESTS)
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None and time.monotonic() < deadline
            with psycopg.connect(**conninfo, autocommit=True) as conn:
                if conn.execute(
                    "select to_regclass('analytics_intermediate.int_events')"
                ).fetchone()[0]:
                    break
            time.sleep(0.2)
        cluster.stop()
        cluster.start()
        out, err = proc.communicate(timeout=900)
        # whether a query was in flight at that instant varies: the run either
        # retried its failed models or had nothing to retry; either way it ends well
        assert proc.returncode == 0, out[-4000:] + err
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            assert [row[:2] for row in runs(conn)] == [("success", 0)]
            equals_a_full_build(libpq_env(conninfo), conn, tmp_path)


def test_a_model_cut_off_by_a_transient_error_runs_again(cli_env, pg_env, conn):
    # An administrator terminates the session of a model while its query runs:
    # the model fails with "terminating connection due to administrator command",
    # the run says it retries, and `dbt retry` builds it and what it skipped.
    generate_batch(conn, ["production"], events=3000, days=3, end="2024-03-01")
    proc = start(cli_env, "run", *NO_DATA_TESTS)
    deadline = time.monotonic() + 300
    terminated = []
    while not terminated:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        terminated = conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where application_name = 'segment-reports' and state = 'active'"
            " and datname = current_database() and query ilike '%%insert into%%'"
            " and pid != pg_backend_pid()"
        ).fetchall()
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-4000:] + err
    message = " ".join(err.split())
    assert "transient error (" in message and "dbt retry (attempt 1 of 2)" in message
    assert [row[:4] for row in runs(conn)] == [("success", 0, MODELS, 0)]


def test_a_model_that_loses_a_deadlock_runs_again(
    cli_env, pg_env, pg_database, conn, tmp_path
):
    # A real deadlock between a model and another session: that session holds
    # the run-state table, so a model stops at its last step (recording its run)
    # while holding its own tables; the session then asks for one of those. The
    # model waited first, so its deadlock check (deadlock_timeout, 1 s) finds the
    # cycle first and PostgreSQL cancels the model's transaction: "deadlock
    # detected", a transient error, so the run retries it with `dbt retry`.
    generate_batch(conn, ["production"], events=1500, days=2, end="2024-03-01")
    proc = start(cli_env, "run", *NO_DATA_TESTS)
    # after the on-run-start hooks, which alter the run-state table
    _wait_for(
        lambda: conn.execute(
            "select to_regclass('analytics_staging.stg_segment__pages') is not null"
        ).fetchone()[0],
        proc,
    )
    holding_query = (
        "select n.nspname, c.relname"
        " from pg_locks as waiter join pg_locks as held using (pid)"
        " join pg_class as c on c.oid = held.relation"
        " join pg_namespace as n on n.oid = c.relnamespace"
        " where waiter.relation = 'analytics_ops.model_run_state'::regclass"
        " and not waiter.granted and held.granted and c.relkind = 'r'"
        " and n.nspname like 'analytics%%' and held.relation != waiter.relation"
        " order by c.relname limit 1"
    )
    with psycopg.connect(**pg_database) as other:
        other.execute("set deadlock_timeout = '10min'")  # the model finds it first
        other.execute("lock table analytics_ops.model_run_state in exclusive mode")
        # a model waiting for the run-state table, and a table it holds
        held = _wait_for(lambda: conn.execute(holding_query).fetchone(), proc)
        # waits until PostgreSQL cancels the model, then holds both tables
        other.execute(
            sql.SQL("lock table {} in share mode").format(sql.Identifier(*held))
        )
        other.rollback()
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-4000:] + err
    message = " ".join(err.split())
    assert "transient error (" in message and "dbt retry (attempt 1 of 2)" in message
    assert "deadlock detected" in " ".join((out + err).split())
    assert [row[:4] for row in runs(conn)] == [("success", 0, MODELS, 0)]
    equals_a_full_build(pg_env, conn, tmp_path)
