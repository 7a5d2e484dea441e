"""The `segment-reports` command: local warehouse, demo data, dbt runs, previews."""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from . import connection
from . import settings as local_settings
from .children import dbt_child_started, describe_signal
from .cluster import ClusterError
from .exits import FAILED, ConfigError
from .generator.batch import MAX_DAYS, MAX_EVENTS
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


def _print_settings(local: LocalWarehouse) -> None:
    """`export` lines on stdout (for eval), how to connect on stderr."""
    for key, value in local.settings().items():
        click.echo(f"export {key}={value}")
    console.print(
        f"connect with: {escape(local.psql_command())}", soft_wrap=True, highlight=False
    )


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
    _print_settings(local)


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
    """Say whether the local warehouse runs and how to connect; exit 1 when not."""
    local = LocalWarehouse.here()
    if not local.exists:
        console.print("no local warehouse yet: run 'segment-reports warehouse up'")
        sys.exit(1)
    if not local.running():
        console.print("local warehouse is stopped: run 'segment-reports warehouse up'")
        sys.exit(1)
    console.print(
        f"local warehouse running, data in {escape(str(local.cluster().datadir))}"
    )
    _print_settings(local)


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


# dbt's command groups: they take a subcommand before any option
DBT_GROUPS = ("docs", "source")


def _names_dbt_command(args: list[str]) -> bool:
    """Whether `args` run a dbt command (which takes --vars), not `--help` or
    `--version` of dbt itself or of a command group."""
    if not args or args[0].startswith("-"):
        return False
    return args[0] not in DBT_GROUPS or (len(args) > 1 and not args[1].startswith("-"))


def _effective_vars(project: Path) -> dict:
    known = local_settings.known_vars(project)
    return local_settings.load(local_settings.settings_path(project), known)


def run_dbt(args: list[str], quiet: bool = False) -> int:
    """Run dbt with the project, profile and settings; returns the exit code.
    `quiet`: dbt prints errors only (`dbt --quiet`), and this no header.

    dbt runs in a process group of its own: Ctrl-C or SIGTERM reaches it once,
    as SIGINT (dbt then cancels its queries); a second one kills it. If this
    process is killed, dbt gets SIGTERM from the kernel. A dbt stopped that way,
    or killed by a signal, makes a failed run (exit 1), reported in words.
    """
    project = project_dir()
    env = connection.child_env()
    # Through the environment, so that `dbt --help` and `dbt --version` work too.
    env["DBT_PROJECT_DIR"] = str(project)
    env["DBT_PROFILES_DIR"] = str(ensure_profiles(project))
    if _names_dbt_command(args):
        try:
            args = local_settings.with_vars(args, _effective_vars(project))
        except local_settings.SettingsError as exc:
            raise ConfigError(str(exc)) from exc
        if not quiet:
            console.print(
                f"[bold]dbt {escape(shlex.join(args))}[/] against "
                f"{escape(connection.describe())}",
                highlight=False,
                soft_wrap=True,
            )
    if quiet:
        args = ["--quiet", *args]
    child = subprocess.Popen(
        [dbt_executable(), *args],
        env=env,
        cwd=project,
        process_group=0,
        preexec_fn=functools.partial(dbt_child_started, os.getpid()),
    )
    received: list[int] = []

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGINT if len(received) == 1 else signal.SIGKILL)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        how = "SIGTERM" if received[0] == signal.SIGTERM else "Ctrl-C (SIGINT)"
        console.print(
            f"[red]stopped by {how}[/]: dbt was interrupted before it finished "
            f"(dbt exit {code}); exit {FAILED}"
        )
        return FAILED
    if code < 0:
        console.print(
            f"[red]dbt was killed by {describe_signal(-code)}[/] before it "
            f"finished; exit {FAILED}"
        )
        return FAILED
    return code


# seconds before each `dbt retry` of models that failed on a transient error
RETRY_DELAYS = (5, 30, 120)


@main.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--full-refresh", is_flag=True, help="Rebuild incremental models from scratch."
)
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(0, 86400),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="When another run is building the same schema, wait this long for it "
    "before exiting with 75.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=2,
    show_default=True,
    help="How many times to run models that failed on a transient error (the "
    "server restarted, a deadlock) again with `dbt retry`, after 5, 30, 120 s.",
)
@click.option(
    "--quiet", is_flag=True, help="Print errors only (for cron): no progress lines."
)
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def run(
    full_refresh: bool,
    wait_seconds: float,
    retries: int,
    quiet: bool,
    dbt_args: tuple[str, ...],
) -> None:
    """Build every model and run the data tests: `dbt build` (extra arguments go
    to dbt). dbt unit tests are left to `make test`.

    One run at a time per target schema: a second one exits with 75 naming the
    run that holds the lock (or waits, with --wait). Models that fail on a
    transient error run again (--retries). Each run is recorded in
    <target>_ops.runs and ends with a summary. dbt vars come from the settings
    file (`segment-reports settings show`) and `--vars`. After a successful
    build, the milestones of actions.yml are evaluated and announced (a message
    that cannot be delivered yet is a warning, retried on the next run). Exit 0
    success; 1 a model or test failed, or dbt was stopped or killed; 2 a
    configuration (actions.yml included) or connection error; 75 another run
    holds the lock.
    """
    import time

    import psycopg

    from . import audit
    from . import milestones as actions
    from .doctor import marts_schema
    from .runlock import run_lock

    args = ["build", "--exclude-resource-type", "unit_test"]
    args += [*(["--full-refresh"] if full_refresh else []), *dbt_args]
    schema = marts_schema()
    try:
        milestones = actions.load(actions.actions_path(project_dir()))
    except actions.ActionsError as exc:
        raise ConfigError(str(exc)) from exc
    target = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    results = project_dir() / target / "run_results.json"
    try:
        with run_lock(schema, wait_seconds) as lock:
            record = audit.RunRecord(lock.conn, schema, full_refresh)
            outcome = audit.Outcome()
            try:
                code = run_dbt(args, quiet)
                outcome.add(results, record.started_at)
                for attempt in range(1, retries + 1):
                    errors = outcome.transient_errors() if code == FAILED else []
                    if not errors:
                        break
                    delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]
                    console.print(
                        f"[yellow]transient error[/] "
                        f"({escape(errors[0].strip().splitlines()[0])}): running the "
                        f"failed models again in {delay} s with dbt retry (attempt "
                        f"{attempt} of {retries})"
                    )
                    time.sleep(delay)
                    if not lock.still_held():
                        console.print(
                            "[red]the run lock is lost[/] (another run took it while "
                            "the connection was down): not retrying"
                        )
                        break
                    record.conn = lock.conn
                    since = datetime.now(UTC)
                    code = run_dbt(["retry"], quiet)
                    outcome.add(results, since)
            except click.ClickException as exc:
                _record(record, lock, "failed", exc.exit_code, outcome)
                raise
            _record(record, lock, "success" if code == 0 else "failed", code, outcome)
            if code == 0 and milestones:
                code = _announce(schema, milestones, record.run_id, quiet)
    except psycopg.OperationalError as exc:
        raise ConfigError(connection_problem(exc)) from exc
    if not quiet or code != 0:
        _summary(outcome, code)
    sys.exit(code)


# Fault injection for the test suite: `crash-after-outbox` kills the run with
# SIGKILL right after the outbox transaction commits, before anything is sent.
FAULT_ENV = "SEGMENT_REPORTS_FAULT"


def _announce(schema: str, milestones: list, run_id, quiet: bool) -> int:
    """Milestone actions after a successful build, under the run lock: write
    newly crossed thresholds to the outbox, then deliver every undelivered
    message. A delivery that fails is a warning (retried on the next run), not
    a failed run; a milestone naming a missing mart or column is exit 2; an
    error reading the marts is exit 1."""
    import psycopg

    from . import milestones as actions

    try:
        with connection.connect(
            autocommit=True, application_name="segment-reports milestones"
        ) as conn:
            actions.check_marts(conn, schema, milestones)
            found = actions.evaluate(conn, schema, milestones, run_id)
            if os.environ.get(FAULT_ENV) == "crash-after-outbox":
                os.kill(os.getpid(), signal.SIGKILL)
            delivery = actions.publish(conn, schema, milestones)
    except actions.ActionsError as exc:
        raise ConfigError(f"actions.yml: {exc}") from exc
    except psycopg.Error as exc:
        console.print(
            f"[red]milestones not evaluated:[/] {escape(str(exc).strip())}; exit "
            f"{FAILED}"
        )
        return FAILED
    if not quiet:
        for name, threshold in found.written:
            console.print(
                f"milestone {escape(name)}: {threshold} crossed (count "
                f"{found.counts[name]}), written to the outbox",
                highlight=False,
            )
        for payload in delivery.delivered:
            console.print(
                f"[green]milestone {escape(payload['milestone'])}: "
                f"{payload['threshold']} announced[/] (message id "
                f"{payload['message_id']})",
                highlight=False,
            )
    for name, threshold, error in delivery.failed:
        console.print(
            f"[yellow]milestone {escape(name)}: {threshold} not delivered:[/] "
            f"{escape(error)}",
            highlight=False,
        )
    if delivery.failed:
        console.print(
            f"[yellow]{len(delivery.failed)} milestone message(s) undelivered[/]: "
            "the next run tries again (segment-reports status lists them)",
            highlight=False,
        )
    if delivery.orphaned:
        console.print(
            f"[yellow]{delivery.orphaned} undelivered milestone message(s) belong to "
            "milestones no longer in actions.yml[/]: kept in the outbox, not sent",
            highlight=False,
        )
    return 0


def _record(record, lock, status: str, code: int, outcome) -> None:
    """Finish the run's audit row (reconnecting after a server restart); a lost
    connection costs the row, not the run's exit code (the next run marks the
    row `did not finish`)."""
    try:
        if lock.still_held():
            record.conn = lock.conn
        record.finish(status, code, outcome)
    except psycopg_errors() as exc:
        console.print(
            f"[yellow]could not record the run in the runs table:[/] "
            f"{escape(str(exc).strip())}"
        )


def _summary(outcome, code: int) -> None:
    """The closing summary of a run: counts, raw rows and the slowest models."""
    from rich.table import Table

    grid = Table(title=f"Run summary (exit {code})", show_header=False)
    grid.add_column("what")
    grid.add_column("count")
    rows = [
        ("models ok / error / skipped",
         f"{outcome.models_ok} / {outcome.models_error} / {outcome.models_skipped}"),
        ("tests passed / warned / failed",
         f"{outcome.tests_passed} / {outcome.tests_warned} / {outcome.tests_failed}"),
        ("raw rows picked up", str(outcome.raw_rows_picked_up)),
    ]  # fmt: skip
    known = [
        counts
        for counts in outcome.model_rows().values()
        if counts["deleted"] is not None and counts["inserted"] is not None
    ]
    if known:
        inserted = sum(counts["inserted"] for counts in known)
        deleted = sum(counts["deleted"] for counts in known)
        rows.append(
            ("rows inserted / deleted (incremental models)", f"{inserted} / {deleted}")
        )
    for name, seconds, status in outcome.slowest():
        note = "" if status == "success" else f" ({status})"
        rows.append((f"slowest: {name}", f"{seconds:.1f} s{note}"))
    for what, count in rows:
        grid.add_row(escape(what), escape(count))
    console.print(grid)


def connection_problem(exc: Exception) -> str:
    """A connection error with what `segment-reports doctor` finds wrong."""
    from . import doctor as checks

    found = [
        f"  {r.name}: {r.reason}" + (f" (fix: {r.fix})" if r.fix else "")
        for r in checks.run_checks()
        if r.status == checks.FAIL
    ]
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
    return (
        f"cannot connect to {connection.describe()}: {first}\n"
        + ("doctor finds:\n" + "\n".join(found) if found else "")
    ).strip()


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def dbt(dbt_args: tuple[str, ...]) -> None:
    """Run any dbt command with this project's profile, connection and settings
    (no arguments: dbt's help)."""
    sys.exit(run_dbt(list(dbt_args) or ["--help"]))


# --- settings
@main.group()
def settings() -> None:
    """The dbt vars every run uses, kept in settings.yml (not committed).

    The file is settings.yml in the project, or $SEGMENT_REPORTS_SETTINGS; see
    settings.example.yml. `run` and `dbt` pass it as --vars, merged with any
    --vars on the command line (the command line wins per key).
    """


@settings.command("show")
def settings_show() -> None:
    """Print every dbt var with the value runs use and where it comes from."""
    project = project_dir()
    path = local_settings.settings_path(project)
    try:
        known = local_settings.known_vars(project)
        stored = local_settings.load(path, known)
    except local_settings.SettingsError as exc:
        raise ConfigError(str(exc)) from exc
    state = "" if path.exists() else " (no such file: every var has its default)"
    click.echo(f"# settings file: {path}{state}")
    for key, default in known.items():
        origin = "settings file" if key in stored else "dbt_project.yml default"
        value = local_settings.render_vars({key: stored.get(key, default)})[1:-1]
        click.echo(f"{value}  # {origin}")


@settings.command("set")
@click.argument("key")
@click.argument("value")
def settings_set(key: str, value: str) -> None:
    """Store the dbt var KEY as VALUE, parsed as YAML (e.g. '[production, ios]')."""
    project = project_dir()
    path = local_settings.settings_path(project)
    try:
        known = local_settings.known_vars(project)
        stored = local_settings.set_value(path, known, key, value)
    except local_settings.SettingsError as exc:
        raise ConfigError(str(exc)) from exc
    click.echo(f"{local_settings.render_vars({key: stored})[1:-1]}  # saved in {path}")


# --- benchmarks
@main.command()
@click.option(
    "--events",
    type=click.IntRange(min=1000, max=MAX_EVENTS),
    default=1_000_000,
    show_default=True,
    help="Events in the initial history.",
)
@click.option(
    "--days",
    type=click.FloatRange(min=2, max=MAX_DAYS),
    default=90,
    show_default=True,
    help="Days of initial history (the last one loaded as a sync of its own).",
)
@click.option(
    "--end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2026-10-31",
    show_default=True,
    help="UTC day the history ends before; the incremental build's extra day is "
    "this day, so it must be over. A fixed day gives the same data every day.",
)
@click.option(
    "--seed", type=click.IntRange(min=0, max=2**63 - 1), default=42, show_default=True
)
@click.option(
    "--raw-indexes/--no-raw-indexes",
    default=True,
    show_default=True,
    help="Create BRIN indexes on the raw tables' uuid_ts before building.",
)
@click.option(
    "--project-dir",
    "project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The dbt project to build, for example a worktree of another commit "
    "[default: this checkout]. The warehouse is always this checkout's.",
)
def bench(
    events: int,
    days: float,
    end: datetime,
    seed: int,
    raw_indexes: bool,
    project: Path | None,
) -> None:
    """Time a full build against a floor, add one day of data, time the
    incremental build and a run with no new data, then typical BI queries.

    Uses a database of its own (segment_bench) on the local warehouse and writes
    the results to .bench/last.json in the project.
    """
    from .bench import report, run_bench

    history_end = end.replace(tzinfo=UTC)
    if history_end + timedelta(days=1) > datetime.now(UTC):
        raise click.BadParameter(
            "the day after the history must be over", param_hint="--end"
        )
    project = (project or project_dir()).absolute()
    if not (project / "dbt_project.yml").exists():
        raise click.BadParameter(
            f"no dbt_project.yml in {project}", param_hint="--project-dir"
        )
    profiles = ensure_profiles(project)
    try:
        result = run_bench(
            project,
            events,
            days,
            seed,
            raw_indexes,
            history_end=history_end,
            profiles_dir=profiles,
            progress=console.print,
        )
    except (RuntimeError, ClusterError, psycopg_errors()) as exc:
        raise click.ClickException(str(exc)) from exc
    out = Console(width=None if sys.stdout.isatty() else 120)
    for renderable in report(result):
        out.print(renderable)


# --- status
@main.command("status")
@click.option(
    "--runs",
    "limit",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="How many of the latest runs to list.",
)
@click.option(
    "--undelivered-minutes",
    type=click.FloatRange(0, 525600),
    default=60,
    show_default=True,
    metavar="MINUTES",
    help="Unhealthy when a milestone message has waited longer than this for delivery.",
)
def run_status(limit: int, undelivered_minutes: float) -> None:
    """The latest runs (from <target>_ops.runs) and each source's freshness (its
    last load, uuid_ts), for people and for monitors.

    Exit 0 when the latest run succeeded and every source loaded within
    freshness_error_hours (a source older than freshness_warn_hours is shown as
    stale but passes); 1 when the latest run failed or did not finish, a
    source is older than freshness_error_hours or empty, or a milestone message
    has been undelivered for longer than --undelivered-minutes; 2 a
    configuration or connection error.
    """
    import psycopg

    from .doctor import marts_schema
    from .status import Thresholds, milestone_report, report

    try:
        project = project_dir()
        settings = {
            **local_settings.known_vars(project),
            **_effective_vars(project),
        }
        thresholds = Thresholds.from_settings(settings)
    except (local_settings.SettingsError, ValueError) as exc:
        raise ConfigError(str(exc)) from exc
    schemas = settings.get("segment_schemas")
    schemas = [schemas] if isinstance(schemas, str) else list(schemas or [])
    out = Console(width=None if sys.stdout.isatty() else 160)
    try:
        with connection.connect(autocommit=True) as conn:
            shown, problems = report(conn, marts_schema(), schemas, limit, thresholds)
            waiting, late = milestone_report(conn, marts_schema(), undelivered_minutes)
            shown += waiting
            problems += late
    except psycopg.OperationalError as exc:
        raise ConfigError(connection_problem(exc)) from exc
    except psycopg_errors() as exc:
        raise ConfigError(f"cannot read the run status: {str(exc).strip()}") from exc
    for renderable in shown:
        out.print(renderable)
    if problems:
        out.print(f"[red]unhealthy:[/] {escape('; '.join(problems))}")
        sys.exit(FAILED)


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
        "Sessions by channel (first_sessions: a person's first visit)",
        "sessions",
        "select channel, count(*) as sessions,"
        " count(*) filter (where session_number = 1) as first_sessions"
        " from {rel} group by 1 order by 2 desc, 1",
    ),
    (
        "Weekly retention, % of each cohort active N weeks after its first week",
        "weekly_retention",
        "select cohort_week, max(cohort_size) as persons, "
        + ", ".join(
            f"max(round(100 * retention_rate)) filter"
            f" (where weeks_since_first_seen = {n}) as w{n}"
            for n in range(9)
        )
        + " from {rel} group by 1 order by 1 desc limit 10",
    ),
    (
        "Persons by first-touch channel: sessions each, % still coming after 4 weeks",
        "sessions",
        "select channel as first_touch_channel, count(*) as persons,"
        " round(avg(sessions), 1) as sessions_each,"
        " round(100.0 * avg((last_start > first_start + interval '28 days')::int), 1)"
        " as pct_after_4_weeks"
        " from (select person_id, count(*) as sessions,"
        " min(channel) filter (where session_number = 1) as channel,"
        " min(started_at) as first_start, max(started_at) as last_start"
        " from {rel} group by person_id) as persons"
        " group by 1 order by 2 desc, 1",
    ),
    (
        "Funnels, entries of the last 28 days (seeds/funnels.csv)",
        "funnel_conversions",
        "select funnel_name, step_number as step, event_name,"
        " sum(persons_reached) as persons,"
        " round(100.0 * sum(persons_reached) / sum(persons_entered), 1)"
        " as pct_of_entries,"
        " round(100.0 * sum(persons_reached) / nullif(lag(sum(persons_reached))"
        " over (partition by funnel_name order by step_number), 0), 1)"
        " as pct_of_previous"
        " from {rel} where cohort_date > (select max(cohort_date) - 28 from {rel})"
        " group by funnel_name, step_number, event_name order by 1, 2",
    ),
    (
        "Events by name (top 10)",
        "monthly_event_counts",
        "select event_name, sum(event_count) as events from {rel}"
        " group by 1 order by 2 desc, 1 limit 10",
    ),
    (
        "Tracking plan audit (seeds/tracking_plan.csv)",
        "ops.tracking_plan_audit",
        "select finding, source_schema, event_name, property_name, event_count,"
        " detail from {rel} order by finding, event_count desc, 2, 3, 4 limit 12",
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
    """Print a few rows from each built report table (the marts, and the
    tracking plan audit of <schema>_ops; never staging, which holds raw personal
    data)."""
    from psycopg import sql
    from rich.table import Table

    # wide enough for the tables when the output is not a terminal (make, CI logs)
    out = Console(width=None if sys.stdout.isatty() else 160)
    shown = 0
    try:
        with connection.connect() as conn:
            for title, table, query in PREVIEWS:
                # "ops.name": a table of <schema>_ops (data quality, analyst-readable)
                where = f"{schema}_ops" if table.startswith("ops.") else schema
                table = table.removeprefix("ops.")
                found = conn.execute(
                    "select to_regclass(format('%%I.%%I', %s::text, %s::text))",
                    (where, table),
                ).fetchone()[0]
                if not found:
                    continue
                rel = sql.Identifier(where, table)
                cur = conn.execute(sql.SQL(query).format(rel=rel))
                grid = Table(title=escape(f"{title}: {where}.{table}"))
                for column in cur.description:
                    grid.add_column(column.name)
                for row in cur.fetchall():
                    grid.add_row(*[escape("" if v is None else str(v)) for v in row])
                out.print(grid)
                shown += 1
    except psycopg_errors() as exc:
        raise ConfigError(f"cannot read the report tables: {str(exc).strip()}") from exc
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
    help="A Segment source schema (repeatable; default: the dbt var "
    "segment_schemas, from the settings file, else dbt_project.yml).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def doctor(role: str | None, schemas: tuple[str, ...], as_json: bool) -> None:
    """Diagnose the warehouse connection (Segment's connection errors, privileges)."""
    import json

    from . import doctor as checks

    if not schemas:
        try:
            configured = _effective_vars(project_dir()).get("segment_schemas")
        except local_settings.SettingsError as exc:
            raise ConfigError(str(exc)) from exc
        if isinstance(configured, list):
            schemas = tuple(map(str, configured))
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
