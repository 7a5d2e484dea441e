"""setup-roles / add-user and dbt's reader grants against the real test cluster.

Role names are global to the cluster, so every test uses its own prefix (and
tells dbt the reader group names through the analyst_role/reporter_role vars,
as a warehouse that renames the groups in roles.yml does).
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
        assert _can(transformer, "create table analytics_intermediate.x (x int)")
        # The schemas and tables an admin's build made are the transformer's now.
        assert _can(transformer, "comment on table analytics.daily is 'owned'")
        assert _can(transformer, "comment on view analytics_staging.stg_tracks is ''")
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


def _tiny_segment_source(conn: psycopg.Connection) -> None:
    """Three raw calls in `production`: enough for every model to build a row."""
    from segment_rows import RawWarehouse, at

    wh = RawWarehouse()
    wh.identify("production", "i-1", at("2024-04-01 10:00"), user_id="u1",
                anonymous_id="a1", email="u1@example.com")  # fmt: skip
    wh.track("production", "clicked", "t-1", at("2024-04-01 10:05"), user_id="u1",
             anonymous_id="a1")  # fmt: skip
    wh.page("production", "p-1", at("2024-04-01 10:06"), anonymous_id="a1", path="/")
    wh.load(conn)


def _login_dbt(pg_database: dict, login: str, password: str, workdir: Path):
    """dbt as `login`, told only the (prefixed) reader group names."""
    from dbt_helpers import DbtRunner, libpq_env

    return DbtRunner(
        libpq_env(dict(pg_database, user=login, password=password)), workdir
    )


def _reader_vars(prefix: str) -> dict[str, str]:
    return {"analyst_role": f"{prefix}analyst", "reporter_role": f"{prefix}reporter"}


def _check_reads(pg_database: dict, prefix: str, passwords: dict[str, str]) -> None:
    """Marts: analyst and reporter; staging and ops: analyst; intermediate: nobody."""
    reporter_login, analyst_login = f"{prefix}bi_reporter", f"{prefix}ana"
    with (
        _login(pg_database, reporter_login, passwords[reporter_login]) as reporter,
        _login(pg_database, analyst_login, passwords[analyst_login]) as analyst,
    ):
        events = "select count(*) from analytics.events"
        intermediate = "select * from analytics_intermediate.int_user_ids_merged"
        for reader in (reporter, analyst):
            # The source's one track and one page call.
            assert reader.execute(events).fetchone() == (2,)
            assert _can(reader, "select * from analytics.users")
            assert not _can(reader, intermediate)
            assert not _can(reader, "delete from analytics.events")
        assert _can(analyst, "select * from analytics_staging.stg_segment__tracks")
        assert _can(analyst, "select * from analytics_ops.model_run_state")
        assert not _can(reporter, "select * from analytics_staging.stg_segment__tracks")
        assert not _can(reporter, "select * from analytics_ops.model_run_state")


def _unreadable(conn: psycopg.Connection, prefix: str) -> list[tuple[str, str, str]]:
    """(schema, table, reader group) for each table a reader should see but cannot."""
    analyst, reporter = f"{prefix}analyst", f"{prefix}reporter"
    return conn.execute(
        "select n.nspname::text, c.relname::text, w.reader"
        " from (values ('analytics', %s), ('analytics', %s),"
        "   ('analytics_staging', %s), ('analytics_ops', %s)) w (schema, reader)"
        " join pg_namespace n on n.nspname = w.schema"
        " join pg_class c on c.relnamespace = n.oid and c.relkind in ('r', 'v')"
        " where not has_table_privilege(w.reader, c.oid, 'SELECT')"
        " order by 1, 2, 3",
        (analyst, reporter, analyst, analyst),
    ).fetchall()


def test_setup_roles_then_plain_build_is_readable_and_idempotent(
    conn, pg_database, prefix, tmp_path
):
    """setup-roles on an empty warehouse, then a plain build as the transformer."""
    _tiny_segment_source(conn)
    config = roles.RolesConfig.from_dict(_config(prefix))
    passwords: dict[str, str] = {}
    roles.apply(conn, roles.plan(conn, config), _passwords(passwords))

    transformer = f"{prefix}dbt_transformer"
    dbt = _login_dbt(pg_database, transformer, passwords[transformer], tmp_path)
    dbt("build", vars=_reader_vars(prefix))
    _check_reads(pg_database, prefix, passwords)
    assert _unreadable(conn, prefix) == []
    assert roles.plan(conn, config) == []
    assert roles.ownership_fixes(conn, config) == []
    # setup-roles made the schemas, so its default privileges covered the build.
    owners = conn.execute(
        "select nspname, pg_get_userbyid(nspowner) from pg_namespace"
        " where nspname like 'analytics%' order by 1"
    ).fetchall()
    assert owners == [
        (name, f"{prefix}transformer")
        for name in (
            "analytics",
            "analytics_intermediate",
            "analytics_ops",
            "analytics_staging",
        )
    ]


def test_build_first_then_setup_roles_hands_over_and_stays_idempotent(
    conn, pg_database, pg_env, prefix, tmp_path
):
    """A first build as the superuser, setup-roles, a plain run, setup-roles."""
    from dbt_helpers import DbtRunner

    _tiny_segment_source(conn)
    # Same-named reader roles exist, but setup-roles has not run on this
    # database: the superuser's build grants them nothing.
    config = roles.RolesConfig.from_dict(_config(prefix))
    for group in ("analyst", "reporter"):
        conn.execute(sql.SQL("create role {}").format(sql.Identifier(prefix + group)))
    DbtRunner(pg_env, tmp_path / "admin")("run", vars=_reader_vars(prefix))
    grantees = conn.execute(
        "select distinct grantee::regrole::text from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace,"
        " aclexplode(coalesce(c.relacl, acldefault('r', c.relowner)))"
        " where n.nspname like 'analytics%'"
    ).fetchall()
    assert grantees == [("postgres",)]

    passwords: dict[str, str] = {}
    steps = roles.plan(conn, config)
    text = "\n".join(roles.render(conn, steps))
    roles.apply(conn, steps, _passwords(passwords))
    assert roles.plan(conn, config) == []
    _check_reads(pg_database, prefix, passwords)

    # The scheduled run as the transformer login: it appends to the handed-over
    # incremental tables and replaces the others.
    transformer = f"{prefix}dbt_transformer"
    dbt = _login_dbt(pg_database, transformer, passwords[transformer], tmp_path)
    dbt("run", vars=_reader_vars(prefix))
    _check_reads(pg_database, prefix, passwords)
    assert _unreadable(conn, prefix) == []
    assert roles.plan(conn, config) == []

    # What made that run possible: the superuser's objects were handed over.
    assert f'ALTER SCHEMA "analytics" OWNER TO "{prefix}transformer"' in text
    assert f'ALTER VIEW "analytics"."events" OWNER TO "{prefix}transformer"' in text
    assert f'ALTER TABLE "analytics"."sessions" OWNER TO "{prefix}transformer"' in text
    assert (
        'ALTER TABLE "analytics_staging"."stg_segment__tracks"'
        f' OWNER TO "{prefix}transformer"'
    ) in text
    foreign = conn.execute(
        "select count(*) from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname like 'analytics%%' and c.relkind in ('r', 'v')"
        " and pg_get_userbyid(c.relowner) not in (%s, %s)",
        (f"{prefix}transformer", transformer),
    ).fetchone()
    assert foreign == (0,)


def test_reader_grants_start_once_readers_may_connect(conn, dbt, prefix):
    """dbt grants to the reader roles once they may connect here, as setup-roles
    leaves them; roles of those names without CONNECT get nothing."""
    _tiny_segment_source(conn)
    analyst, reporter = f"{prefix}analyst", f"{prefix}reporter"
    for group in (analyst, reporter):
        conn.execute(sql.SQL("create role {}").format(sql.Identifier(group)))
    dbt("run", "--select", "staging", vars=_reader_vars(prefix))
    grantees = conn.execute(
        "select distinct grantee from information_schema.role_table_grants"
        " where table_schema = 'analytics_staging'"
    ).fetchall()
    assert grantees == [("postgres",)]
    usage = conn.execute(
        "select has_schema_privilege(%s, 'analytics_staging', 'USAGE')", (analyst,)
    ).fetchone()
    assert usage == (False,)

    # As setup-roles leaves them. The superuser's rebuild of two staging tables
    # grants them in its post-hooks; on-run-end covers the schema and the rest.
    conn.execute(
        sql.SQL("grant connect on database {} to {}, {}").format(
            sql.Identifier(conn.info.dbname),
            sql.Identifier(analyst),
            sql.Identifier(reporter),
        )
    )
    dbt(
        "run",
        "--select",
        "stg_segment__users",
        "stg_segment__accounts",
        vars=_reader_vars(prefix),
    )
    privileges = conn.execute(
        "select r.rolname, has_schema_privilege(r.oid, n.oid, 'USAGE'),"
        " bool_and(has_table_privilege(r.oid, c.oid, 'SELECT')),"
        " bool_or(has_table_privilege(r.oid, c.oid, 'SELECT'))"
        " from pg_namespace n join pg_class c on c.relnamespace = n.oid"
        " cross join pg_roles r"
        " where n.nspname = 'analytics_staging' and c.relkind in ('r', 'v')"
        " and r.rolname in (%s, %s) group by r.rolname, r.oid, n.oid order by 1",
        (analyst, reporter),
    ).fetchall()
    assert privileges == [(analyst, True, True, True), (reporter, False, False, False)]


def test_empty_segment_schemas_grants_only_segment_sources(conn, pg_database, prefix):
    """`segment_schemas: []` reads schemas with Segment call tables, nothing else."""
    for statement in (
        "create schema production",
        "create table production.pages (id text)",
        "create schema ios",
        'create table ios."identifies" (id text)',
        "create schema hr",
        "create table hr.salaries (name text, amount int)",
        "create table hr.tracks_archive (id text)",
        "create table public.secrets (x text)",
    ):
        conn.execute(statement)
    config = roles.RolesConfig.from_dict(_config(prefix, segment_schemas=[]))
    steps = roles.plan(conn, config)
    text = "\n".join(roles.render(conn, steps))
    assert '"hr"' not in text
    assert 'SCHEMA "public" TO' not in text
    passwords: dict[str, str] = {}
    roles.apply(conn, steps, _passwords(passwords))
    assert roles.plan(conn, config) == []
    login = f"{prefix}dbt_transformer"
    with _login(pg_database, login, passwords[login]) as transformer:
        assert _can(transformer, "select * from production.pages")
        assert _can(transformer, "select * from ios.identifies")
        assert not _can(transformer, "select * from hr.salaries")
        assert not _can(transformer, "select * from hr.tracks_archive")
        assert not _can(transformer, "select * from public.secrets")
    loader = f"{prefix}segment_loader"
    with _login(pg_database, loader, passwords[loader]) as segment:
        segment.execute("create schema android")
        segment.execute("create table android.screens (id text)")
    with _login(pg_database, login, passwords[login]) as transformer:
        assert _can(transformer, "select * from android.screens")
    assert roles.plan(conn, config) == []


def test_hand_over_needs_a_superuser_and_says_how(conn, pg_database, prefix, tmp_path):
    """A non-superuser cannot take another role's schemas: the fix SQL is printed."""
    config = roles.RolesConfig.from_dict(_config(prefix))
    roles.apply(conn, roles.plan(conn, config), _passwords({}))
    owner, admin = f"{prefix}someone", f"{prefix}admin"
    conn.execute(sql.SQL("create role {}").format(sql.Identifier(owner)))
    conn.execute(
        sql.SQL("create role {} login createrole password 'admin-pw'").format(
            sql.Identifier(admin)
        )
    )
    conn.execute(sql.SQL("grant connect on database {} to {}").format(
        sql.Identifier(pg_database["dbname"]), sql.Identifier(admin)))  # fmt: skip
    conn.execute("drop schema analytics_ops")
    conn.execute(
        sql.SQL("create schema analytics_ops authorization {}").format(
            sql.Identifier(owner)
        )
    )
    conn.execute("create table analytics_ops.run_log (x int)")
    conn.execute("create view analytics_ops.run_view as select * from pg_am")
    conn.execute(
        'create function analytics_ops."Try"(value text, "n m" int) returns int'
        " language sql as 'select 1'"
    )
    for statement in (
        "alter table analytics_ops.run_log owner to {}",
        "alter view analytics_ops.run_view owner to {}",
        'alter function analytics_ops."Try"(text, int) owner to {}',
    ):
        conn.execute(sql.SQL(statement).format(sql.Identifier(owner)))
    config_file = tmp_path / "roles.yml"
    config_file.write_text(yaml.safe_dump(_config(prefix)))
    env = {
        "PGHOST": pg_database["host"],
        "PGPORT": pg_database["port"],
        "PGUSER": admin,
        "PGDATABASE": pg_database["dbname"],
        "PGPASSWORD": "admin-pw",
    }
    args = ["setup-roles", "--config", str(config_file)]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1, result.output
    transformer = f'"{prefix}transformer"'
    assert f'ALTER SCHEMA "analytics_ops" OWNER TO {transformer};' in result.output
    for fix in (
        'ALTER TABLE "analytics_ops"."run_log"',
        'ALTER VIEW "analytics_ops"."run_view"',
        'ALTER ROUTINE "analytics_ops"."Try"(value text, "n m" integer)',
    ):
        assert f"{fix} OWNER TO {transformer};" in result.output
    assert "nothing to change" not in result.output

    # As a superuser the same command hands them over; then nothing is left to do.
    env.update(PGUSER=pg_database["user"], PGPASSWORD=pg_database["password"])
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    owners = conn.execute(
        "select pg_get_userbyid(nspowner),"
        " (select pg_get_userbyid(relowner) from pg_class"
        "  where oid = 'analytics_ops.run_log'::regclass),"
        " (select pg_get_userbyid(relowner) from pg_class"
        "  where oid = 'analytics_ops.run_view'::regclass),"
        " (select pg_get_userbyid(proowner) from pg_proc"
        "  where oid = 'analytics_ops.\"Try\"(text, int)'::regprocedure)"
        " from pg_namespace where nspname = 'analytics_ops'"
    ).fetchone()
    assert owners == (f"{prefix}transformer",) * 4
    assert conn.execute(
        "select has_table_privilege(%s, 'analytics_ops.run_log', 'SELECT')",
        (f"{prefix}analyst",),
    ).fetchone() == (True,)
    result = CliRunner().invoke(main, args, env=env)
    assert "nothing to change" in result.output


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
