"""The `segment-reports` command: local warehouse, demo data, dbt runs, previews."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
from rich.console import Console

from . import connection
from .cluster import ClusterError
from .warehouse import LocalWarehouse, project_dir

console = Console(stderr=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="segment-reports")
def main() -> None:
    """Analytics reports from Segment's raw tables in PostgreSQL, built with dbt."""


# --- local warehouse
@main.group()
def warehouse() -> None:
    """Start, stop and inspect the local PostgreSQL warehouse kept in .warehouse/."""


def _print_settings(settings: dict[str, str]) -> None:
    for key, value in settings.items():
        click.echo(f"export {key}={value}")


@warehouse.command()
def up() -> None:
    """Create (first time) and start the local warehouse; prints its libpq settings.

    Idempotent: when it already runs, only the settings are printed. The settings
    carry no password: PGPASSFILE points at .warehouse/pgpass (mode 600).
    """
    local = LocalWarehouse.here()
    was_running = local.running()
    try:
        settings = local.up()
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    state = "already running" if was_running else "started"
    console.print(
        f"[green]local warehouse {state}[/] on 127.0.0.1:{settings['PGPORT']}, "
        f"database {settings['PGDATABASE']}"
    )
    _print_settings(settings)


@warehouse.command()
def down() -> None:
    """Stop the local warehouse (its data stays in .warehouse/)."""
    local = LocalWarehouse.here()
    if not local.exists:
        console.print("no local warehouse in this checkout")
        return
    try:
        stopped = local.down()
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(
        "local warehouse stopped" if stopped else "local warehouse was not running"
    )


@warehouse.command()
@click.confirmation_option(
    prompt="Drop every source schema and build in the local warehouse?",
    help="Do not ask for confirmation.",
)
def reset() -> None:
    """Empty the local warehouse's database (for a fresh demo); the server stays up."""
    local = LocalWarehouse.here()
    if not local.running():
        raise click.ClickException(
            "the local warehouse is not running: run 'segment-reports warehouse up'"
        )
    local.reset()
    console.print(f"database {local.settings()['PGDATABASE']} emptied")


@warehouse.command()
def status() -> None:
    """Say whether the local warehouse runs; exit 1 when it does not."""
    local = LocalWarehouse.here()
    if not local.exists:
        console.print("no local warehouse yet: run 'segment-reports warehouse up'")
        sys.exit(1)
    if not local.running():
        console.print("local warehouse is stopped: run 'segment-reports warehouse up'")
        sys.exit(1)
    console.print(f"local warehouse running, data in {local.cluster().datadir}")
    _print_settings(local.settings())


# --- demo data
def _register_generate() -> None:
    from .generator.command import generate

    main.add_command(generate)


_register_generate()


# --- dbt
def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def ensure_profiles(project: Path) -> Path:
    """Directory holding profiles.yml: $DBT_PROFILES_DIR, else the checkout.

    A checkout without profiles.yml gets a copy of profiles.example.yml, which
    reads everything from the environment.
    """
    if os.environ.get("DBT_PROFILES_DIR"):
        return Path(os.environ["DBT_PROFILES_DIR"])
    profiles = project / "profiles.yml"
    if not profiles.exists():
        shutil.copyfile(project / "profiles.example.yml", profiles)
        console.print("created profiles.yml from profiles.example.yml")
    return project


def run_dbt(args: list[str]) -> int:
    project = project_dir()
    profiles_dir = ensure_profiles(project)
    command = [dbt_executable(), *args, "--project-dir", str(project)]
    command += ["--profiles-dir", str(profiles_dir)]
    console.print(f"[bold]dbt {' '.join(args)}[/] against {connection.describe()}")
    return subprocess.call(command, env=connection.child_env(), cwd=project)


@main.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--full-refresh", is_flag=True, help="Rebuild incremental models from scratch."
)
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def run(full_refresh: bool, dbt_args: tuple[str, ...]) -> None:
    """Build every model and run every test: `dbt build` (extra arguments go to dbt)."""
    args = ["build", *(["--full-refresh"] if full_refresh else []), *dbt_args]
    sys.exit(run_dbt(args))


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def dbt(dbt_args: tuple[str, ...]) -> None:
    """Run any dbt command with this project's profile and connection settings."""
    sys.exit(run_dbt(list(dbt_args)))


# --- benchmarks
@main.command()
@click.option(
    "--events",
    type=click.IntRange(min=1000),
    default=1_000_000,
    show_default=True,
    help="Events in the initial history.",
)
@click.option(
    "--days", type=float, default=90, show_default=True, help="Days of initial history."
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--raw-indexes/--no-raw-indexes",
    default=True,
    show_default=True,
    help="Create BRIN indexes on the raw tables' uuid_ts before building.",
)
def bench(events: int, days: float, seed: int, raw_indexes: bool) -> None:
    """Time a full build, add one day of data, time the incremental build.

    Uses a database of its own (segment_bench) on the local warehouse.
    """
    from .bench import run_bench

    project = project_dir()
    ensure_profiles(project)
    try:
        result = run_bench(
            project, events, days, seed, raw_indexes, progress=console.print
        )
    except (RuntimeError, ClusterError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"machine:            {result.machine}")
    click.echo(f"events (history):   {result.events:,} over {result.days:g} days")
    click.echo(f"raw uuid_ts BRIN:   {'yes' if result.raw_indexes else 'no'}")
    click.echo(f"generate:           {result.generate_seconds:8.1f} s")
    click.echo(f"full build:         {result.full_build_seconds:8.1f} s")
    click.echo(
        f"incremental build:  {result.incremental_build_seconds:8.1f} s"
        " (after one more day)"
    )
    click.echo(f"incremental / full: {result.ratio:8.1%}")


# --- previews
PREVIEWS = [
    (
        "Deployment views by user (top 5)",
        "deployment_views_by_user",
        "select deployment_name, deployment_type, user_name, user_email, view_count"
        " from {rel} order by view_count desc, deployment_name, person_id limit 5",
    ),
    (
        "Deployments created per month",
        "monthly_deployments_created",
        "select event_month, deployments_created, creators from {rel} order by 1",
    ),
    (
        "Daily active users (last 7 days)",
        "daily_active_users",
        "select activity_date, active_users_1d, active_users_7d, active_users_28d,"
        " new_users from {rel} order by activity_date desc limit 7",
    ),
    (
        "Track calls by event (staging)",
        "stg_segment__tracks",
        "select source_schema, event_name, count(*) as calls from {rel}"
        " group by 1, 2 order by 3 desc limit 10",
    ),
]


@main.command()
@click.option(
    "--schema",
    envvar="DBT_SCHEMA",
    default="analytics",
    show_default=True,
    help="Target schema of the dbt build.",
)
def preview(schema: str) -> None:
    """Print a few rows from each built report table."""
    from psycopg import sql
    from rich.table import Table

    # wide enough for the tables when the output is not a terminal (make, CI logs)
    out = Console(width=None if sys.stdout.isatty() else 160)
    with connection.connect() as conn:
        shown = 0
        for title, table, query in PREVIEWS:
            found = conn.execute(
                "select n.nspname from pg_class c join pg_namespace n"
                " on n.oid = c.relnamespace where c.relname = %s and n.nspname"
                " in (%s, %s) order by n.nspname = %s desc limit 1",
                (table, schema, f"{schema}_staging", schema),
            ).fetchone()
            if not found:
                continue
            rel = sql.Identifier(found[0], table)
            cur = conn.execute(sql.SQL(query).format(rel=rel))
            grid = Table(title=f"{title}: {found[0]}.{table}")
            for column in cur.description:
                grid.add_column(column.name)
            for row in cur.fetchall():
                grid.add_row(*["" if v is None else str(v) for v in row])
            out.print(grid)
            shown += 1
    if not shown:
        raise click.ClickException(
            f"no report tables in schema {schema}: run 'segment-reports run' first"
        )


# --- doctor
@main.command()
@click.option(
    "--role",
    type=click.Choice(["loader", "transformer", "reporter"]),
    help="Also check the privileges this role needs.",
)
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    help="A Segment source schema (repeatable; default: the dbt var segment_schemas).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def doctor(role: str | None, schemas: tuple[str, ...], as_json: bool) -> None:
    """Diagnose the warehouse connection (Segment's connection errors, privileges)."""
    import json

    from . import doctor as checks

    results = checks.run_checks(role=role, schemas=list(schemas) or None)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        from rich.markup import escape

        out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
        colors = {"PASS": "green", "WARN": "yellow", "FAIL": "red", "SKIP": "dim"}
        width = max(len(r.name) for r in results)
        for r in results:
            color = colors[r.status]
            out.print(
                f"[{color}]{r.status}[/{color}]  {escape(r.name.ljust(width))}"
                f"  {escape(r.reason)}"
            )
            if r.fix and r.status in ("FAIL", "WARN"):
                out.print(f"      fix: {escape(r.fix)}", soft_wrap=True)
    if checks.failed(results):
        sys.exit(1)


def _register_roles() -> None:
    from . import roles

    def _interactive() -> bool:
        return sys.stdin.isatty()

    def _password_source(login: str) -> tuple[str, bool]:
        found = roles.env_password(login)
        if found:
            return found, False
        if _interactive():
            typed = click.prompt(
                f"Password for {login} (empty: generate one)",
                hide_input=True,
                default="",
                show_default=False,
            )
            if typed:
                return typed, False
        return roles.generate_password(), True

    config_option = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Roles YAML (default: roles.yml in the project).",
    )

    @main.command("setup-roles")
    @config_option
    @click.option("--dry-run", is_flag=True, help="Print the SQL plan, change nothing.")
    @click.option(
        "--rotate", is_flag=True, help="Set new passwords for existing logins."
    )
    def setup_roles(config_path: str | None, dry_run: bool, rotate: bool) -> None:
        """Create or update the least-privilege group roles and their logins."""
        path = (
            Path(config_path) if config_path else project_dir() / roles.DEFAULT_CONFIG
        )
        try:
            config = roles.RolesConfig.load(path)
            with connection.connect(autocommit=True) as conn:
                steps = roles.plan(conn, config, rotate=rotate)
                fixes = roles.ownership_fixes(conn, config)
                if not steps and not fixes:
                    click.echo("nothing to change: roles and grants are up to date")
                    return
                for line in roles.render(conn, steps):
                    click.echo(line)
                generated = {}
                if dry_run:
                    click.echo(f"-- dry run: {len(steps)} statements not executed")
                elif steps:
                    generated = roles.apply(conn, steps, _password_source)
                    click.echo(f"applied {len(steps)} statements")
        except (roles.RolesError, psycopg_errors()) as exc:
            raise click.ClickException(str(exc)) from exc
        if generated:
            click.echo("Generated passwords (shown once, store them now):")
            for login, password in generated.items():
                click.echo(f"  {login}: {password}")
        if fixes:
            raise click.ClickException(
                "this user may not create the analytics schemas or hand them (from"
                " the role that built them) to the transformer group; as a superuser"
                " run:\n"
                + "\n".join(fixes)
                + "\nthen 'segment-reports setup-roles' again"
            )

    @main.command("add-user")
    @click.argument("name")
    @click.option(
        "--role",
        required=True,
        type=click.Choice(list(roles.GROUPS)),
        help="Group role.",
    )
    @config_option
    def add_user(name: str, role: str, config_path: str | None) -> None:
        """Add a LOGIN user (a person or a BI tool) to a group role."""
        path = (
            Path(config_path) if config_path else project_dir() / roles.DEFAULT_CONFIG
        )
        try:
            config = roles.RolesConfig.load(path) if path.exists() else None
            with connection.connect(autocommit=True) as conn:
                exists = bool(
                    conn.execute(
                        "select 1 from pg_roles where rolname = %s", (name,)
                    ).fetchone()
                )
                password, generated = None, False
                if not exists:
                    password, generated = _password_source(name)
                lines = roles.add_user(conn, name, role, password, config)
        except (roles.RolesError, psycopg_errors()) as exc:
            raise click.ClickException(str(exc)) from exc
        for line in lines:
            click.echo(line)
        if not lines:
            click.echo(f"nothing to change: {name} is already in {role}")
        if generated:
            click.echo(f"Generated password for {name} (shown once): {password}")


def psycopg_errors() -> type[Exception]:
    import psycopg

    return psycopg.Error


_register_roles()


if __name__ == "__main__":
    main()
