"""`segment-reports doctor` against a real PostgreSQL: Segment's five connection errors.

Each error is reproduced for real over loopback (a host under `.invalid`, a TCP
listener that never answers, a login without CONNECT, without USAGE on a Segment
schema, a missing schema, a loader without CREATE); doctor's diagnosis is checked,
and where the fix is SQL it is run and doctor is run again to show it works.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

CLI = str(Path(sys.executable).with_name("segment-reports"))
ROOT = Path(__file__).resolve().parents[2]


def _doctor(env: dict[str, str], *args: str) -> tuple[int, list[dict], str]:
    """Run `doctor --json` (and the human form); returns rc, results, all output."""
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PG")
        and k not in ("DBT_ENV_SECRET_PGPASSWORD", "DBT_SCHEMA")
    }
    full.update(env)
    full["SEGMENT_REPORTS_HOME"] = str(ROOT)
    runs = [
        subprocess.run(
            [CLI, "doctor", *args, *extra],
            env=full,
            capture_output=True,
            text=True,
            timeout=60,
        )
        for extra in (["--json"], [])
    ]
    as_json, human = runs
    assert as_json.returncode == human.returncode, human.stderr
    output = "".join(r.stdout + r.stderr for r in runs)
    return as_json.returncode, json.loads(as_json.stdout), output


def _by_name(results: list[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in results}


def _statuses(results: list[dict]) -> dict[str, str]:
    return {r["name"]: r["status"] for r in results}


def _run_fix(conn: psycopg.Connection, fix: str) -> None:
    """Execute the SQL of a fix text ('As an admin, run: <SQL>')."""
    statement = fix.split("run: ", 1)[1]
    conn.execute(statement.encode())


@pytest.fixture
def make_login(conn: psycopg.Connection) -> Iterator[Callable[..., tuple[str, str]]]:
    """Creates LOGIN roles with unique names and passwords; drops them afterwards."""
    made: list[str] = []

    def make(prefix: str = "doctor") -> tuple[str, str]:
        name = f"{prefix}_{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(16)
        conn.execute(
            sql.SQL("create role {} login password {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        made.append(name)
        return name, password

    yield make
    for name in made:
        role = sql.Identifier(name)
        conn.execute(sql.SQL("drop owned by {}").format(role))
        conn.execute(sql.SQL("drop role {}").format(role))


def _as(pg_env: dict[str, str], user: str, password: str) -> dict[str, str]:
    return {**pg_env, "PGUSER": user, "PGPASSWORD": password}


def _segment_schema(conn: psycopg.Connection, schema: str = "production") -> None:
    s = sql.Identifier(schema)
    conn.execute(sql.SQL("create schema {}").format(s))
    for table in ("tracks", "pages"):
        conn.execute(
            sql.SQL(
                "create table {} (id text primary key, event text,"
                " uuid_ts timestamptz, received_at timestamptz)"
            ).format(sql.Identifier(schema, table))
        )
    conn.execute(
        sql.SQL("insert into {} values ('a', 'Signed Up', now(), now())").format(
            sql.Identifier(schema, "tracks")
        )
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def test_no_such_host(pg_env):
    env = {**pg_env, "PGHOST": "warehouse.invalid"}
    rc, results, output = _doctor(env)
    assert rc != 0
    first = results[0]
    assert (first["name"], first["status"]) == ("name resolution", "FAIL")
    assert "no such host" in first["reason"]
    assert "warehouse.invalid" in first["fix"]
    assert all(r["status"] == "SKIP" for r in results[1:])
    assert "FAIL  name resolution" in output
    assert pg_env["PGPASSWORD"] not in output


def test_io_timeout_on_a_listener_that_never_answers(pg_env):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel completes handshakes; nobody ever answers
        port = listener.getsockname()[1]
        env = {**pg_env, "PGHOST": "127.0.0.1", "PGPORT": str(port)}
        started = time.monotonic()
        rc, results, output = _doctor(env)
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert rc != 0
    checks = _by_name(results)
    assert checks["name resolution"]["status"] == "PASS"
    tcp = checks["tcp reachability"]
    assert tcp["status"] == "FAIL"
    assert "i/o timeout" in tcp["reason"]
    assert f"127.0.0.1:{port}" in tcp["fix"]
    assert "firewall" in tcp["fix"] and "Segment" in tcp["fix"]
    assert checks["authentication"]["status"] == "SKIP"
    # Bounded, not hanging: two runs of 3 s timeouts plus start-up, with room for a
    # machine busy with other tests (this is no timing measurement).
    assert elapsed < 90
    assert pg_env["PGPASSWORD"] not in output


def test_closed_port_is_a_tcp_failure(pg_env):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**pg_env, "PGHOST": "127.0.0.1", "PGPORT": str(port)}
    rc, results, _ = _doctor(env)
    assert rc != 0
    assert _by_name(results)["tcp reachability"]["status"] == "FAIL"


def test_wrong_password(pg_env, make_login):
    user, password = make_login()
    rc, results, output = _doctor(_as(pg_env, user, password + "x"))
    assert rc != 0
    auth = _by_name(results)["authentication"]
    assert auth["status"] == "FAIL"
    assert "password authentication failed" in auth["reason"]
    assert user in auth["reason"]
    assert password not in output


def test_permission_denied_for_database(pg_env, conn, make_login):
    db = pg_env["PGDATABASE"]
    user, password = make_login('o"brien x')  # a name that needs quoting
    conn.execute(
        sql.SQL("revoke connect on database {} from public").format(sql.Identifier(db))
    )
    env = _as(pg_env, user, password)
    rc, results, output = _doctor(env)
    assert rc != 0
    checks = _by_name(results)
    assert checks["authentication"]["status"] == "PASS"
    privilege = checks["connect privilege"]
    assert privilege["status"] == "FAIL"
    assert "permission denied for database" in privilege["reason"]
    expected = f"GRANT CONNECT ON DATABASE {_quote(db)} TO {_quote(user)};"
    assert expected in privilege["fix"]
    assert password not in output and pg_env["PGPASSWORD"] not in output

    _run_fix(conn, privilege["fix"])
    rc, results, _ = _doctor(env)
    assert _statuses(results)["connect privilege"] == "PASS"


def test_permission_denied_for_schema(pg_env, conn, make_login):
    _segment_schema(conn)
    user, password = make_login()
    env = _as(pg_env, user, password)
    rc, results, output = _doctor(env, "--role", "transformer")
    assert rc != 0
    checks = _by_name(results)
    assert checks["connect privilege"]["status"] == "PASS"
    assert checks["schema exists: production"]["status"] == "PASS"
    access = checks["schema access: production"]
    assert access["status"] == "FAIL"
    assert "permission denied for schema production" in access["reason"]
    u = _quote(user)
    assert f'GRANT USAGE ON SCHEMA "production" TO {u};' in access["fix"]
    assert f'GRANT SELECT ON ALL TABLES IN SCHEMA "production" TO {u};' in access["fix"]
    owner = pg_env["PGUSER"]
    assert (
        f'ALTER DEFAULT PRIVILEGES FOR ROLE {_quote(owner)} IN SCHEMA "production"'
        f" GRANT SELECT ON TABLES TO {u};"
    ) in access["fix"]
    assert checks["last load: production"]["status"] == "SKIP"
    assert password not in output

    # the fix works, including for a table the owner creates afterwards
    _run_fix(conn, access["fix"])
    conn.execute("create table production.identifies (id text primary key)")
    rc, results, _ = _doctor(env, "--role", "transformer")
    assert rc == 0, results
    assert _statuses(results)["schema access: production"] == "PASS"


def test_usage_without_select_on_tables(pg_env, conn, make_login):
    _segment_schema(conn)
    user, password = make_login()
    conn.execute(
        sql.SQL("grant usage on schema production to {}").format(sql.Identifier(user))
    )
    rc, results, _ = _doctor(_as(pg_env, user, password), "--role", "transformer")
    assert rc != 0
    access = _by_name(results)["schema access: production"]
    assert access["status"] == "FAIL"
    assert "cannot SELECT 2 table(s)" in access["reason"]
    assert "pages" in access["reason"] and "tracks" in access["reason"]


def test_schema_does_not_exist(pg_env):
    rc, results, output = _doctor(pg_env, "--role", "transformer", "--schema", "nosuch")
    assert rc != 0
    checks = _by_name(results)
    exists = checks["schema exists: nosuch"]
    assert exists["status"] == "FAIL"
    assert "schema nosuch does not exist" in exists["reason"]
    assert "'nosuch'" in exists["fix"] and "synced" in exists["fix"]
    for later in (
        "schema access",
        "raw-table indexes",
        "mixed-case tables",
        "last load",
    ):
        assert checks[f"{later}: nosuch"]["status"] == "SKIP"
    assert "production" not in {r["name"].split(": ")[-1] for r in results}
    assert pg_env["PGPASSWORD"] not in output


def test_loader_without_create(pg_env, conn, make_login):
    db = pg_env["PGDATABASE"]
    user, password = make_login()
    # PUBLIC has TEMPORARY by default but never CREATE; take both away
    conn.execute(
        sql.SQL("revoke temporary on database {} from public").format(
            sql.Identifier(db)
        )
    )
    env = _as(pg_env, user, password)
    rc, results, output = _doctor(env, "--role", "loader")
    assert rc != 0
    check = _by_name(results)["create and temporary on database"]
    assert check["status"] == "FAIL"
    assert "permission denied for database" in check["reason"]
    assert "CREATE and TEMPORARY" in check["reason"]
    expected = f"GRANT CREATE, TEMPORARY ON DATABASE {_quote(db)} TO {_quote(user)};"
    assert expected in check["fix"]
    # a loader before Segment's first sync: the schema is not there yet, no failure
    assert _statuses(results)["schema exists: production"] == "SKIP"
    assert password not in output

    _run_fix(conn, check["fix"])
    rc, results, _ = _doctor(env, "--role", "loader")
    assert rc == 0, results
    assert _statuses(results)["create and temporary on database"] == "PASS"


def test_passing_run(pg_env, conn):
    _segment_schema(conn)
    conn.execute("create index on production.tracks using brin (uuid_ts)")
    loaded = conn.execute("select max(uuid_ts) from production.tracks").fetchone()[0]
    rc, results, output = _doctor(pg_env, "--role", "transformer")
    assert rc == 0, results
    # nothing built yet: no list of ignored tables to show
    assert _by_name(results)["ignored tables: production"]["status"] == "SKIP"
    assert all(
        r["status"] == "PASS"
        for r in results
        if r["name"] != "ignored tables: production"
    ), results
    names = [r["name"] for r in results]
    assert names[:4] == [
        "name resolution",
        "tcp reachability",
        "authentication",
        "connect privilege",
    ]
    stamp = loaded.astimezone(UTC).isoformat(timespec="seconds")
    assert _by_name(results)["last load: production"]["reason"] == f"last load {stamp}"
    assert "PASS  last load: production" in output
    assert pg_env["PGPASSWORD"] not in output


def test_warnings_do_not_fail(pg_env, conn):
    _segment_schema(conn)
    conn.execute('create table production."Checkout_Started" (id text primary key)')
    conn.execute("create index tracks_event_idx on production.tracks (event)")
    conn.execute("create index on production.tracks using brin (uuid_ts)")
    conn.execute("update production.tracks set uuid_ts = now() - interval '3 days'")
    rc, results, output = _doctor(pg_env, "--role", "transformer")
    assert rc == 0, results
    checks = _by_name(results)
    indexes = checks["raw-table indexes: production"]
    assert indexes["status"] == "WARN"
    assert indexes["reason"].startswith("1 index(es)")
    assert 'DROP INDEX "production"."tracks_event_idx";' in indexes["fix"]
    mixed = checks["mixed-case tables: production"]
    assert mixed["status"] == "WARN"
    assert "Checkout_Started" in mixed["reason"]
    assert "double quotes" in mixed["fix"]
    assert '"production"."Checkout_Started"' in mixed["fix"]
    stale = checks["last load: production"]
    assert stale["status"] == "WARN" and "72 h ago" in stale["reason"]
    assert "WARN  mixed-case tables: production" in output
    assert "fix: " in output


def test_reporter_needs_the_marts(pg_env, conn, make_login):
    conn.execute("create schema reports")
    conn.execute("create table reports.daily (day date)")
    user, password = make_login()
    env = {**_as(pg_env, user, password), "DBT_SCHEMA": "reports"}
    rc, results, _ = _doctor(env, "--role", "reporter")
    assert rc != 0
    access = _by_name(results)["marts access: reports"]
    assert access["status"] == "FAIL"
    assert f'GRANT USAGE ON SCHEMA "reports" TO {_quote(user)};' in access["fix"]
    # the reporter is not asked to read raw Segment schemas
    assert not any("production" in r["name"] for r in results)
    _run_fix(conn, access["fix"])
    rc, results, _ = _doctor(env, "--role", "reporter")
    assert rc == 0, results


def test_password_from_dbt_secret_variable(pg_env):
    env = {k: v for k, v in pg_env.items() if k != "PGPASSWORD"}
    env["DBT_ENV_SECRET_PGPASSWORD"] = pg_env["PGPASSWORD"]
    _, results, output = _doctor(env, "--schema", "nosuch")
    assert _statuses(results)["authentication"] == "PASS"
    assert pg_env["PGPASSWORD"] not in output


def test_unknown_role_is_a_usage_error(pg_env):
    result = subprocess.run(
        [CLI, "doctor", "--role", "admin"],
        env={**os.environ, **pg_env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "loader" in result.stderr


def test_ignored_tables_of_the_last_build_are_shown(pg_env, conn, tmp_path):
    from dbt_helpers import DbtRunner

    _segment_schema(conn)
    conn.execute(
        "create table production.crm_import (id bigint, received_at bigint,"
        " uuid_ts bigint, event text)"
    )
    DbtRunner(pg_env, tmp_path)("run", "--select", "ignored_tables")
    rc, results, output = _doctor(pg_env, "--role", "transformer")
    assert rc == 0, results
    ignored = _by_name(results)["ignored tables: production"]
    assert ignored["status"] == "WARN"
    assert ignored["reason"].startswith("not read by the last build: crm_import (")
    assert "id is bigint, not a string" in ignored["reason"]
    assert "WARN  ignored tables: production" in output
