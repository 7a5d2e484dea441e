"""setup-roles / add-user against the real test cluster (SPEC section 7).

Role names are global to the cluster, so every test uses its own prefix.
"""

from __future__ import annotations

import itertools
import secrets
from pathlib import Path

import psycopg
import pytest
import yaml
from click.testing import CliRunner
from psycopg import errors, sql

from segment_reports import roles
from segment_reports.cli import main

_ids = itertools.count()


def _config(prefix: str, **extra) -> dict:
    data = {
        "groups": {g: f"{prefix}{g}" for g in roles.GROUPS},
        "logins": {
            "loader": [f"{prefix}segment_loader"],
            "transformer": [f"{prefix}dbt_transformer"],
            "analyst": [f"{prefix}ana"],
            "reporter": [f"{prefix}bi_reporter"],
        },
        "reporter": {"statement_timeout": "60s", "connection_limit": 10},
        "analytics_schema": "analytics",
    }
    data.update(extra)
    return data


@pytest.fixture
def prefix() -> str:
    return f"r{next(_ids)}{secrets.token_hex(3)}_"


@pytest.fixture
def warehouse(conn: psycopg.Connection) -> psycopg.Connection:
    """A Segment schema and built analytics schemas, as an admin made them."""
    for statement in (
        "create schema production",
        "create table production.tracks (id text, event text)",
        "insert into production.tracks values ('1', 'Signed Up')",
        "create schema analytics",
        "create table analytics.daily (day date, users int)",
        "insert into analytics.daily values ('2026-01-01', 3)",
        "create schema analytics_staging",
        "create view analytics_staging.stg_tracks as select * from production.tracks",
        "create table t (x int)",
    ):
        conn.execute(statement)
    return conn


def _passwords(store: dict[str, str]):
    def source(login: str) -> tuple[str, bool]:
        store[login] = secrets.token_urlsafe(12) + "'\"; x"
        return store[login], False

    return source


def _login(pg_database: dict, user: str, password: str) -> psycopg.Connection:
    params = dict(pg_database, user=user, password=password)
    return psycopg.connect(**params, autocommit=True)


def _can(connection: psycopg.Connection, statement: str) -> bool:
    try:
        connection.execute(statement)
    except errors.InsufficientPrivilege:
        return False
    return True


def test_setup_twice_and_what_each_role_may_do(warehouse, pg_database, prefix):
    config = roles.RolesConfig.from_dict(_config(prefix))
    steps = roles.plan(warehouse, config)
    assert steps
    passwords: dict[str, str] = {}
    generated = roles.apply(warehouse, steps, _passwords(passwords))
    assert generated == {}
    assert roles.plan(warehouse, config) == []

    loader = _login(
        pg_database, f"{prefix}segment_loader", passwords[f"{prefix}segment_loader"]
    )
    transformer = _login(
        pg_database, f"{prefix}dbt_transformer", passwords[f"{prefix}dbt_transformer"]
    )
    reporter = _login(
        pg_database, f"{prefix}bi_reporter", passwords[f"{prefix}bi_reporter"]
    )
    analyst = _login(pg_database, f"{prefix}ana", passwords[f"{prefix}ana"])
    with loader, transformer, reporter, analyst:
        # Loader: creates a new source schema and loads it; reads nothing else.
        assert _can(loader, "create schema later_source")
        assert _can(loader, "create table later_source.pages (id text)")
        assert _can(loader, "insert into later_source.pages values ('p')")
        assert _can(loader, "create temporary table tmp_x (x int)")
        assert not _can(loader, "select * from analytics.daily")
        assert not _can(loader, "select * from analytics_staging.stg_tracks")
        assert not _can(loader, "select * from production.tracks")

        # Transformer: reads Segment schemas, including ones created after setup.
        assert _can(transformer, "select * from production.tracks")
        assert transformer.execute("select id from later_source.pages").fetchall() == [
            ("p",)
        ]
        assert _can(transformer, "create schema analytics_intermediate")
        assert not _can(transformer, "insert into production.tracks values ('2', 'x')")

        # Reporter: marts only, with its own timeout and connection limit.
        assert reporter.execute("select users from analytics.daily").fetchone() == (3,)
        assert not _can(reporter, "select * from analytics_staging.stg_tracks")
        assert not _can(reporter, "select * from production.tracks")
        assert not _can(reporter, "select * from later_source.pages")
        assert reporter.execute("show statement_timeout").fetchone() == ("1min",)

        # Analyst: marts and staging, read only.
        assert _can(analyst, "select * from analytics.daily")
        assert _can(analyst, "select * from analytics_staging.stg_tracks")
        assert not _can(analyst, "insert into analytics.daily values (null, 1)")
        assert not _can(analyst, "create table analytics.mine (x int)")
        assert not _can(analyst, "create table public.mine (x int)")
        assert not _can(analyst, "create schema mine")
        assert not _can(analyst, "select * from production.tracks")

    limit = warehouse.execute(
        "select rolconnlimit from pg_roles where rolname = %s",
        (f"{prefix}bi_reporter",),
    ).fetchone()
    assert limit == (10,)
    # PUBLIC has nothing on the database any more.
    assert warehouse.execute(
        "select has_database_privilege('public', current_database(), 'CONNECT')"
    ).fetchone() == (False,)
    # The new schema is picked up as a Segment schema; the grants already cover it.
    assert roles.plan(warehouse, config) == []


def test_rotate_changes_only_passwords(warehouse, pg_database, prefix):
    config = roles.RolesConfig.from_dict(_config(prefix))
    first: dict[str, str] = {}
    roles.apply(warehouse, roles.plan(warehouse, config), _passwords(first))
    steps = roles.plan(warehouse, config, rotate=True)
    assert {s.password_for for s in steps} == set(first)
    assert len(steps) == len(first)
    second: dict[str, str] = {}
    roles.apply(warehouse, steps, _passwords(second))
    user = f"{prefix}ana"
    with pytest.raises(psycopg.OperationalError):
        _login(pg_database, user, first[user]).close()
    _login(pg_database, user, second[user]).close()


def test_dry_run_redacts_and_changes_nothing(warehouse, pg_database, prefix, tmp_path):
    config_file = tmp_path / "roles.yml"
    config_file.write_text(yaml.safe_dump(_config(prefix)))
    env = {
        "PGHOST": pg_database["host"],
        "PGPORT": pg_database["port"],
        "PGUSER": pg_database["user"],
        "PGDATABASE": pg_database["dbname"],
        "PGPASSWORD": pg_database["password"],
        roles.password_env_var(f"{prefix}ana"): "analyst-secret-in-env",
    }
    runner = CliRunner()
    result = runner.invoke(
        main, ["setup-roles", "--config", str(config_file), "--dry-run"], env=env
    )
    assert result.exit_code == 0, result.output
    assert f"CREATE ROLE \"{prefix}ana\" LOGIN PASSWORD '***'" in result.output
    assert "analyst-secret-in-env" not in result.output
    assert "SCRAM" not in result.output
    assert "dry run" in result.output
    assert warehouse.execute(
        "select count(*) from pg_roles where rolname like %s", (prefix + "%",)
    ).fetchone() == (0,)

    # A real run: the env password is used, the others are generated and shown once.
    result = runner.invoke(main, ["setup-roles", "--config", str(config_file)], env=env)
    assert result.exit_code == 0, result.output
    assert "analyst-secret-in-env" not in result.output
    assert result.output.count(f"{prefix}bi_reporter: ") == 1
    shown = result.output.split(f"{prefix}bi_reporter: ")[1].split()[0]
    _login(pg_database, f"{prefix}bi_reporter", shown).close()
    _login(pg_database, f"{prefix}ana", "analyst-secret-in-env").close()

    result = runner.invoke(main, ["setup-roles", "--config", str(config_file)], env=env)
    assert result.exit_code == 0, result.output
    assert "nothing to change" in result.output


def test_quotes_spaces_and_injection_are_identifiers(warehouse, pg_database, prefix):
    odd_login = f"{prefix}o'brien user"
    injection = f'{prefix}x"; drop table t; --'
    data = _config(prefix)
    data["groups"]["analyst"] = injection
    data["logins"]["analyst"] = [odd_login]
    config = roles.RolesConfig.from_dict(data)
    passwords: dict[str, str] = {}
    roles.apply(warehouse, roles.plan(warehouse, config), _passwords(passwords))
    assert roles.plan(warehouse, config) == []
    assert warehouse.execute("select count(*) from t").fetchone() == (0,)
    member = warehouse.execute(
        "select pg_has_role(%s, %s, 'member')", (odd_login, injection)
    ).fetchone()
    assert member == (True,)
    with _login(pg_database, odd_login, passwords[odd_login]) as analyst:
        assert _can(analyst, "select * from analytics.daily")


def test_password_is_sent_as_scram_verifier(warehouse, pg_cluster, prefix):
    config = roles.RolesConfig.from_dict(_config(prefix))
    steps = roles.plan(warehouse, config)
    secret = "clear-" + secrets.token_hex(8)
    step = next(s for s in steps if s.password_for)
    text = step.compose(warehouse, secret).as_string(warehouse)
    assert "SCRAM-SHA-256$" in text
    assert secret not in text

    logfile = Path(pg_cluster.logfile)
    start = logfile.stat().st_size
    warehouse.execute("alter system set log_statement = 'all'")
    warehouse.execute("select pg_reload_conf()")
    try:
        warehouse.execute("select pg_sleep(0.2)")
        roles.apply(warehouse, steps, lambda _login: (secret, False))
    finally:
        warehouse.execute("alter system reset log_statement")
        warehouse.execute("select pg_reload_conf()")
    with logfile.open("rb") as handle:
        handle.seek(start)
        logged = handle.read().decode(errors="replace")
    assert "SCRAM-SHA-256$" in logged  # the statements were logged ...
    assert secret not in logged  # ... without the clear password


def test_add_user(warehouse, pg_database, prefix):
    config = roles.RolesConfig.from_dict(_config(prefix))
    roles.apply(warehouse, roles.plan(warehouse, config), _passwords({}))
    lines = roles.add_user(warehouse, f"{prefix}Jane Doe", "reporter", "pw-1", config)
    assert any("PASSWORD '***'" in line for line in lines)
    assert not any("pw-1" in line for line in lines)
    with _login(pg_database, f"{prefix}Jane Doe", "pw-1") as jane:
        assert _can(jane, "select * from analytics.daily")
        assert not _can(jane, "select * from analytics_staging.stg_tracks")
        assert jane.execute("show statement_timeout").fetchone() == ("1min",)
    assert (
        roles.add_user(warehouse, f"{prefix}Jane Doe", "reporter", None, config) == []
    )
    with pytest.raises(roles.RolesError):
        roles.add_user(warehouse, f"{prefix}bob", "admin", "pw", config)
    missing = roles.RolesConfig.from_dict(_config(prefix + "missing_"))
    with pytest.raises(roles.RolesError, match="setup-roles"):
        roles.add_user(warehouse, f"{prefix}bob", "analyst", "pw", missing)


def test_identifiers_never_formatted(warehouse, prefix):
    config = roles.RolesConfig.from_dict(_config(prefix))
    for step in roles.plan(warehouse, config):
        assert isinstance(step.statement, sql.Composable)


def test_dbt_rebuild_keeps_marts_readable_and_staging_private(
    conn, pg_database, prefix, tmp_path
):
    from dbt_helpers import DbtRunner
    from segment_rows import RawWarehouse, at

    wh = RawWarehouse()
    wh.identify("production", "i-1", at("2024-04-01 10:00"), user_id="u1",
                anonymous_id="a1", email="u1@example.com")  # fmt: skip
    wh.track("production", "clicked", "t-1", at("2024-04-01 10:05"), user_id="u1",
             anonymous_id="a1")  # fmt: skip
    wh.page("production", "p-1", at("2024-04-01 10:06"), anonymous_id="a1", path="/")
    wh.load(conn)

    config = roles.RolesConfig.from_dict(_config(prefix))
    passwords: dict[str, str] = {}
    roles.apply(conn, roles.plan(conn, config), _passwords(passwords))

    transformer = f"{prefix}dbt_transformer"
    env = {
        "PGHOST": pg_database["host"],
        "PGPORT": pg_database["port"],
        "PGUSER": transformer,
        "PGDATABASE": pg_database["dbname"],
        "PGPASSWORD": passwords[transformer],
    }
    dbt = DbtRunner(env, tmp_path)
    dbt_vars = {
        "grant_roles": True,
        "analyst_role": f"{prefix}analyst",
        "reporter_role": f"{prefix}reporter",
    }
    dbt("run", vars=dbt_vars)
    # dbt's grants config: marts to analyst and reporter, staging to analyst only.
    readers = conn.execute(
        "select table_schema, table_name, grantee from information_schema"
        ".role_table_grants where privilege_type = 'SELECT'"
        " and grantee like %s and grantee not like %s"
        " and table_name in ('events', 'stg_segment__tracks')",
        (prefix + "%", "%transformer"),
    ).fetchall()
    assert sorted(readers) == [
        ("analytics", "events", f"{prefix}analyst"),
        ("analytics", "events", f"{prefix}reporter"),
        ("analytics_staging", "stg_segment__tracks", f"{prefix}analyst"),
    ]
    # The first build created the analytics schemas; its on-run-end hook granted
    # USAGE on them, so readers can query the marts before setup-roles runs again.
    reporter_login = f"{prefix}bi_reporter"
    with _login(pg_database, reporter_login, passwords[reporter_login]) as reporter:
        assert _can(reporter, "select * from analytics.events")
        assert not _can(reporter, "select * from analytics_staging.stg_segment__tracks")
    # A second setup-roles run adds what dbt cannot (default privileges in the
    # schemas it created); dbt's grants keep the tables readable.
    roles.apply(conn, roles.plan(conn, config), _passwords(passwords))
    assert roles.plan(conn, config) == []
    owner = conn.execute(
        "select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'analytics'"
    ).fetchone()
    assert owner == (transformer,)

    for _ in range(2):  # the rebuild drops and recreates every table
        reporter_login = f"{prefix}bi_reporter"
        analyst_login = f"{prefix}ana"
        with (
            _login(pg_database, reporter_login, passwords[reporter_login]) as reporter,
            _login(pg_database, analyst_login, passwords[analyst_login]) as analyst,
        ):
            assert _can(reporter, "select * from analytics.events")
            assert _can(reporter, "select * from analytics.users")
            assert not _can(
                reporter, "select * from analytics_staging.stg_segment__tracks"
            )
            assert _can(analyst, "select * from analytics.events")
            assert _can(analyst, "select * from analytics_staging.stg_segment__tracks")
            assert not _can(analyst, "delete from analytics.events")
        dbt("run", "--full-refresh", vars=dbt_vars)
    assert roles.plan(conn, config) == []


def test_dbt_without_grant_roles_grants_nothing(conn, dbt):
    """The default (no roles set up) still builds, and grants nothing."""
    from segment_rows import RawWarehouse, at

    wh = RawWarehouse()
    wh.page("production", "p-1", at("2024-04-01 10:06"), anonymous_id="a1", path="/")
    wh.load(conn)
    dbt("run", "--select", "staging")
    grantees = conn.execute(
        "select distinct grantee from information_schema.role_table_grants"
        " where table_schema = 'analytics_staging'"
    ).fetchall()
    assert grantees == [("postgres",)]


def test_add_user_cli(warehouse, pg_database, prefix, tmp_path):
    config_file = tmp_path / "roles.yml"
    config_file.write_text(yaml.safe_dump(_config(prefix)))
    roles.apply(
        warehouse,
        roles.plan(warehouse, roles.RolesConfig.load(config_file)),
        _passwords({}),
    )
    name = f"{prefix}metabase"
    env = {
        "PGHOST": pg_database["host"],
        "PGPORT": pg_database["port"],
        "PGUSER": pg_database["user"],
        "PGDATABASE": pg_database["dbname"],
        "PGPASSWORD": pg_database["password"],
    }
    args = ["add-user", name, "--role", "reporter", "--config", str(config_file)]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "PASSWORD '***'" in result.output
    password = result.output.split("(shown once): ")[1].split()[0]
    with _login(pg_database, name, password) as bi:
        assert _can(bi, "select * from analytics.daily")
        assert not _can(bi, "select * from analytics_staging.stg_tracks")
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "nothing to change" in result.output
    assert "shown once" not in result.output


def _command_lines() -> list[str]:
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(
                cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        except OSError:
            continue  # the process ended while we looked
    return lines


def test_password_never_in_the_process_list(pg_database, prefix, tmp_path):
    """While setup-roles runs, no process's command line holds the password."""
    import os
    import subprocess
    import sys
    import time

    config_file = tmp_path / "roles.yml"
    config_file.write_text(yaml.safe_dump(_config(prefix)))
    secret = "proc-" + secrets.token_hex(12)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(
        PGHOST=pg_database["host"],
        PGPORT=pg_database["port"],
        PGUSER=pg_database["user"],
        PGDATABASE=pg_database["dbname"],
        PGPASSWORD=pg_database["password"],
    )
    for login in (f"{prefix}segment_loader", f"{prefix}dbt_transformer"):
        env[roles.password_env_var(login)] = secret
    cli = str(Path(sys.executable).with_name("segment-reports"))
    process = subprocess.Popen(
        [cli, "setup-roles", "--config", str(config_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen, polls_that_saw_the_cli = [], 0
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        lines = _command_lines()
        seen += [line for line in lines if secret in line]
        polls_that_saw_the_cli += any("setup-roles" in line for line in lines)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert polls_that_saw_the_cli > 0  # the process list was really read
    assert seen == []
    assert secret not in output
    assert pg_database["password"] not in output
