"""`segment-reports bench`: time the builds against a floor, then typical BI queries.

Runs against the local warehouse in a database of its own (`segment_bench`, recreated
each time), so the demo database is left alone. The dbt project it builds may be
another checkout of this repository (`--project-dir`), to compare two commits on the
same warehouse; dbt's output then stays in that checkout's `.bench/`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from rich.table import Table

from .warehouse import LocalWarehouse

BENCH_DATABASE = "segment_bench"
BENCH_SOURCE = "production"
# Scratch schema for the floor's tables; dropped again right after.
FLOOR_SCHEMA = "bench_floor"
FLOOR_TABLES = ("pages", "tracks")
BI_REPEATS = 20
# The history ends where the demo's does (Makefile DEMO_END), so every run on every
# day builds the same data; the extra day is 2026-10-31.
HISTORY_END = datetime(2026, 10, 31, tzinfo=UTC)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` (0 to 1) quantile, interpolated linearly between closest ranks.

    The same as numpy's default: the median of an even count is the mean of the two
    middle values, and p95 of 20 values lies between the 19th and the 20th.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction {fraction} is not between 0 and 1")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = math.ceil(position)
    weight = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * weight


@dataclass
class NodeTime:
    """One node of a dbt run: a model, or a hook (on-run-start, on-run-end)."""

    name: str
    resource_type: str
    seconds: float


@dataclass
class DbtRun:
    """One `dbt run`: the command's wall time and what dbt says each node took."""

    wall_seconds: float
    dbt_elapsed_seconds: float
    nodes: list[NodeTime]

    @property
    def models(self) -> list[NodeTime]:
        return [node for node in self.nodes if node.resource_type == "model"]

    @property
    def hook_seconds(self) -> float:
        return sum(node.seconds for node in self.nodes if node.resource_type != "model")

    @property
    def startup_seconds(self) -> float:
        """Start-up outside dbt's run: importing, parsing the project, the manifest."""
        return max(self.wall_seconds - self.dbt_elapsed_seconds, 0.0)

    def model_seconds(self) -> dict[str, float]:
        return {node.name: node.seconds for node in self.models}

    def as_dict(self) -> dict:
        return asdict(self) | {
            "startup_seconds": self.startup_seconds,
            "hook_seconds": self.hook_seconds,
        }


def parse_run_results(data: dict) -> tuple[float, list[NodeTime]]:
    """dbt's `run_results.json` as (elapsed seconds, nodes slowest first).

    A node's name is the last part of its unique id (`model.segment_reports.events`
    is `events`); ties keep dbt's order.
    """
    nodes = []
    for result in data["results"]:
        resource_type, _, rest = result["unique_id"].partition(".")
        name = rest.rpartition(".")[2] if resource_type == "model" else rest
        nodes.append(NodeTime(name, resource_type, float(result["execution_time"])))
    nodes.sort(key=lambda node: -node.seconds)
    return float(data["elapsed_time"]), nodes


@dataclass
class BiQuery:
    """A query a BI dashboard sends, timed after a warm-up run."""

    name: str
    mart: str
    query: str
    rows: int
    milliseconds: list[float]

    @property
    def p50_ms(self) -> float:
        return percentile(self.milliseconds, 0.5)

    @property
    def p95_ms(self) -> float:
        return percentile(self.milliseconds, 0.95)

    def as_dict(self) -> dict:
        return asdict(self) | {"p50_ms": self.p50_ms, "p95_ms": self.p95_ms}


@dataclass(frozen=True)
class BiQuerySpec:
    """`parameters` picks the query's arguments from the mart itself (one row, named
    columns), so the same question is asked whatever data the bench generated."""

    name: str
    mart: str
    parameters: str | None
    query: str


# Only the marts and their documented columns (models/marts/*.yml): the queries must
# keep working however the models compute them.
BI_QUERIES = (
    BiQuerySpec(
        "daily active users, last 90 days",
        "daily_active_users",
        "select max(activity_date) - 89 as first_date from {rel}",
        "select activity_date, active_users_1d, active_users_7d, active_users_28d,"
        " new_users from {rel} where activity_date >= %(first_date)s"
        " order by activity_date",
    ),
    BiQuerySpec(
        "one event's daily counts for a month",
        "daily_event_counts",
        # the busiest event, in the last month the data covers in full
        "with busiest as (select event_name from {rel} group by event_name"
        " order by sum(event_count) desc, event_name limit 1),"
        " last_month as (select date_trunc('month', (max(activity_date) + 1)"
        "::timestamp)::date as month_end from {rel})"
        " select event_name,"
        " (month_end - interval '1 month')::date as month_start, month_end"
        " from busiest cross join last_month",
        "select activity_date, event_count, person_count from {rel}"
        " where event_name = %(event_name)s and activity_date >= %(month_start)s"
        " and activity_date < %(month_end)s order by activity_date",
    ),
    BiQuerySpec(
        "one person's sessions",
        "sessions",
        "select person_id from {rel} where person_id is not null"
        " group by person_id order by count(*) desc, person_id limit 1",
        "select session_id, landing_page_path, duration_seconds, event_count,"
        " page_view_count, started_at, ended_at from {rel}"
        " where person_id = %(person_id)s order by started_at",
    ),
    BiQuerySpec(
        "views of one deployment by user",
        "deployment_views_by_user",
        "select deployment_name from {rel} group by deployment_name"
        " order by sum(view_count) desc, deployment_name limit 1",
        "select deployment_name, deployment_type, user_name, user_email, view_count,"
        " first_viewed_at, last_viewed_at from {rel}"
        " where deployment_name = %(deployment_name)s"
        " order by view_count desc, person_id",
    ),
    BiQuerySpec(
        "deployments created per month",
        "monthly_deployments_created",
        None,
        "select event_month, deployments_created, creators from {rel}"
        " order by event_month",
    ),
    BiQuerySpec(
        "top 20 events of the last 7 days",
        "daily_event_counts",
        "select max(activity_date) - 6 as first_date from {rel}",
        "select event_name, sum(event_count) as events from {rel}"
        " where activity_date >= %(first_date)s"
        " group by event_name order by events desc, event_name limit 20",
    ),
)


@dataclass
class BenchResult:
    events: int
    days: float
    history_end: str
    machine: str
    project: str
    commit: str | None
    load_average_start: tuple[float, float, float]
    load_average_end: tuple[float, float, float]
    raw_rows: int
    raw_indexes: bool
    generate_seconds: float
    full: DbtRun
    floor_seconds: dict[str, float]
    incremental_generate_seconds: float
    vacuum_seconds: float
    incremental: DbtRun
    noop: DbtRun
    bi_queries: list[BiQuery]

    @property
    def full_build_seconds(self) -> float:
        return self.full.wall_seconds

    @property
    def incremental_build_seconds(self) -> float:
        return self.incremental.wall_seconds

    @property
    def ratio(self) -> float:
        """Incremental build over full build."""
        return self.incremental_build_seconds / self.full_build_seconds

    @property
    def floor_total_seconds(self) -> float:
        return sum(self.floor_seconds.values())

    @property
    def full_over_floor(self) -> float:
        return self.full_build_seconds / self.floor_total_seconds

    def as_dict(self) -> dict:
        return {
            "events": self.events,
            "days": self.days,
            "history_end": self.history_end,
            "machine": self.machine,
            "project": self.project,
            "commit": self.commit,
            "load_average_start": list(self.load_average_start),
            "load_average_end": list(self.load_average_end),
            "raw_rows": self.raw_rows,
            "raw_indexes": self.raw_indexes,
            "generate_seconds": self.generate_seconds,
            "full_build_seconds": self.full_build_seconds,
            "incremental_generate_seconds": self.incremental_generate_seconds,
            "vacuum_seconds": self.vacuum_seconds,
            "incremental_build_seconds": self.incremental_build_seconds,
            "ratio": self.ratio,
            "floor_seconds": self.floor_seconds,
            "floor_total_seconds": self.floor_total_seconds,
            "full_over_floor": self.full_over_floor,
            "noop_run_seconds": self.noop.wall_seconds,
            "full": self.full.as_dict(),
            "incremental": self.incremental.as_dict(),
            "noop": self.noop.as_dict(),
            "bi_queries": [query.as_dict() for query in self.bi_queries],
        }


def _timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-4000:]
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{output}")
    return elapsed


def machine_description() -> str:
    cores = os.cpu_count()
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return f"{platform.machine()}, {cores} cores{memory}, {platform.system()}"


def _commit(project: Path) -> str | None:
    """The project's git commit, marked `-dirty` when its files differ from it."""

    def git(*args: str) -> str:
        command = ["git", "-C", str(project), *args]
        return subprocess.run(
            command, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}-dirty" if changed else head


def _load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


def time_floor(conn: psycopg.Connection) -> dict[str, float]:
    """Seconds to deduplicate each large raw table into a new table, nothing more.

    The least any build must do with the raw data: read it, keep the first load of
    each message id, write the rows once. The tables are dropped again.
    """
    seconds = {}
    schema = sql.Identifier(FLOOR_SCHEMA)
    conn.execute(sql.SQL("drop schema if exists {} cascade").format(schema))
    conn.execute(sql.SQL("create schema {}").format(schema))
    try:
        for table in FLOOR_TABLES:
            statement = sql.SQL(
                "create table {} as select distinct on (id) * from {}"
                " order by id, uuid_ts"
            ).format(
                sql.Identifier(FLOOR_SCHEMA, table),
                sql.Identifier(BENCH_SOURCE, table),
            )
            started = time.perf_counter()
            conn.execute(statement)
            seconds[table] = time.perf_counter() - started
    finally:
        conn.execute(sql.SQL("drop schema {} cascade").format(schema))
    return seconds


def count_raw_rows(conn: psycopg.Connection) -> int:
    """Rows in the source's raw tables, counted (the statistics lag behind a load)."""
    tables = conn.execute(
        "select tablename from pg_tables where schemaname = %s", (BENCH_SOURCE,)
    ).fetchall()
    total = 0
    for (table,) in tables:
        relation = sql.Identifier(BENCH_SOURCE, table)
        query = sql.SQL("select count(*) from {}").format(relation)
        total += conn.execute(query).fetchone()[0]
    return total


def mart_relations(manifest: dict) -> dict[str, sql.Identifier]:
    """Each model's relation (schema, alias) by model name, from dbt's manifest."""
    return {
        node["name"]: sql.Identifier(node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def time_bi_queries(
    conn: psycopg.Connection,
    relations: dict[str, sql.Identifier],
    repeats: int = BI_REPEATS,
) -> list[BiQuery]:
    """Run each BI query once to warm up, then `repeats` times, timed at the client.

    The marts are analyzed first, as autovacuum does within a minute of a build, so
    that a run does not depend on when autovacuum came by. The queries go out as
    plain SQL with their arguments inlined, as most BI tools send them.
    """
    marts = sorted({spec.mart for spec in BI_QUERIES})
    for mart in marts:
        conn.execute(sql.SQL("analyze {}").format(relations[mart]))
    timed = []
    cursor = psycopg.ClientCursor(conn)
    for spec in BI_QUERIES:
        rel = relations[spec.mart]
        arguments = {}
        if spec.parameters:
            found = cursor.execute(sql.SQL(spec.parameters).format(rel=rel))
            names = [column.name for column in found.description or []]
            arguments = dict(zip(names, found.fetchone() or (), strict=True))
        query = cursor.mogrify(sql.SQL(spec.query).format(rel=rel), arguments)
        rows = len(cursor.execute(query).fetchall())
        milliseconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            cursor.execute(query).fetchall()
            milliseconds.append((time.perf_counter() - started) * 1000)
        timed.append(BiQuery(spec.name, spec.mart, query, rows, milliseconds))
    return timed


def run_bench(
    project: Path,
    events: int,
    days: float = 90,
    seed: int = 42,
    raw_indexes: bool = True,
    history_end: datetime = HISTORY_END,
    profiles_dir: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> BenchResult:
    """Recreate the bench database, load `days` of history ending at `history_end`,
    time the floor, build in full, add a day, build incrementally, run once more
    with no new data, time the BI queries. Writes `.bench/last.json` in `project`.
    """
    load_start = _load_average()
    local = LocalWarehouse.here()
    local.up()
    with psycopg.connect(**local.connect_kwargs("postgres"), autocommit=True) as conn:
        name = sql.Identifier(BENCH_DATABASE)
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(name))
        conn.execute(sql.SQL("create database {}").format(name))
    env = {**os.environ, **local.settings(), "PGDATABASE": BENCH_DATABASE}
    bindir = Path(sys.executable).parent
    cli = str(bindir / "segment-reports")
    target = project / ".bench"
    dbt_options = ["--project-dir", str(project)]
    dbt_options += ["--profiles-dir", str(profiles_dir or project)]
    dbt_options += ["--target-path", str(target)]
    dbt = [str(bindir / "dbt"), "run", *dbt_options]

    def dbt_run(*args: str) -> DbtRun:
        wall = _timed([*dbt, *args], env, project)
        results = json.loads((target / "run_results.json").read_text())
        elapsed, nodes = parse_run_results(results)
        return DbtRun(wall, elapsed, nodes)

    # History arrives as the syncs before the build: all but the last day in one
    # batch, then the last day in its own, so the lookback window of the next
    # incremental run holds one day of loads (as on a warehouse synced daily), not
    # the whole backfill. A fixed end gives the same data on every day.
    progress(f"generating {events:,} events over {days:g} days")
    gen = _timed(
        [
            cli,
            "generate",
            "--events",
            str(int(events * (days - 1) / days)),
            "--days",
            str(days - 1),
            "--end",
            (history_end - timedelta(days=1)).isoformat(),
            "--seed",
            str(seed),
        ],
        env,
        project,
    )
    gen += _timed([cli, "generate", "--days", "1", "--seed", str(seed)], env, project)
    if raw_indexes:
        progress(
            "BRIN indexes on the raw tables' uuid_ts (create_raw_load_time_indexes)"
        )
        operation = [str(bindir / "dbt"), "run-operation"]
        _timed([*operation, "create_raw_load_time_indexes", *dbt_options], env, project)
    # The seeds (definitions, a few KB) before any model that reads them, as
    # `dbt build` loads them; not timed: `dbt run` does not load them.
    progress("seeds (dbt seed)")
    _timed([str(bindir / "dbt"), "seed", *dbt_options], env, project)
    # The floor before the full build: its scan of the raw tables would otherwise
    # push out of the cache the indexes the incremental run reads, which no hourly
    # schedule does between two runs.
    progress("floor: deduplicate raw pages and tracks into new tables")
    with psycopg.connect(
        **local.connect_kwargs(BENCH_DATABASE), autocommit=True
    ) as conn:
        floor = time_floor(conn)
        raw_rows = count_raw_rows(conn)
    progress("full build (dbt run --full-refresh)")
    full = dbt_run("--full-refresh")
    progress("one more day of data")
    gen_inc = _timed(
        [cli, "generate", "--days", "1", "--seed", str(seed)], env, project
    )
    # What autovacuum does in the hour between a full build and the next scheduled
    # run (set hint bits and the visibility map of every new table), done at once
    # and timed apart: the incremental run would otherwise measure autovacuum's
    # reads and writes of the whole warehouse, not its own.
    progress("vacuum (autovacuum's work after a full build)")
    with psycopg.connect(
        **local.connect_kwargs(BENCH_DATABASE), autocommit=True
    ) as conn:
        started = time.perf_counter()
        conn.execute("vacuum")
        vacuum = time.perf_counter() - started
    progress("incremental build (dbt run)")
    incremental = dbt_run()
    progress("no-op run (dbt run, no new data)")
    noop = dbt_run()
    progress(f"BI queries ({BI_REPEATS} runs each after a warm-up)")
    manifest = json.loads((target / "manifest.json").read_text())
    with psycopg.connect(
        **local.connect_kwargs(BENCH_DATABASE), autocommit=True
    ) as conn:
        bi_queries = time_bi_queries(conn, mart_relations(manifest))
    result = BenchResult(
        events=events,
        days=days,
        history_end=history_end.isoformat(),
        machine=machine_description(),
        project=str(project),
        commit=_commit(project),
        load_average_start=load_start,
        load_average_end=_load_average(),
        raw_rows=int(raw_rows),
        raw_indexes=raw_indexes,
        generate_seconds=gen,
        full=full,
        floor_seconds=floor,
        incremental_generate_seconds=gen_inc,
        vacuum_seconds=vacuum,
        incremental=incremental,
        noop=noop,
        bi_queries=bi_queries,
    )
    target.mkdir(exist_ok=True)
    (target / "last.json").write_text(json.dumps(result.as_dict(), indent=2))
    return result


def _model_table(title: str, run: DbtRun, beside: DbtRun | None = None) -> Table:
    """`run`'s models slowest first; `beside` adds each model's time in another run."""
    table = Table(title=title, title_justify="left")
    table.add_column("model")
    table.add_column("seconds", justify="right")
    table.add_column("share", justify="right")
    if beside:
        table.add_column("no-op run", justify="right")
    beside_seconds = beside.model_seconds() if beside else {}
    total = sum(node.seconds for node in run.models) or 1.0
    for node in run.models:
        row = [node.name, f"{node.seconds:.2f}", f"{node.seconds / total:.0%}"]
        if beside:
            other = beside_seconds.get(node.name)
            row.append("" if other is None else f"{other:.2f}")
        table.add_row(*row)
    hooks = ["hooks (on-run-start, on-run-end)", f"{run.hook_seconds:.2f}", ""]
    startup = ["dbt start-up (wall - dbt's elapsed)", f"{run.startup_seconds:.2f}", ""]
    if beside:
        hooks.append(f"{beside.hook_seconds:.2f}")
        startup.append(f"{beside.startup_seconds:.2f}")
    table.add_row(*hooks, style="dim")
    table.add_row(*startup, style="dim")
    return table


def report(result: BenchResult) -> list[Table]:
    """The summary, the per-model breakdowns and the BI query times, as tables."""
    loads = (
        f"{' '.join(f'{v:.2f}' for v in result.load_average_start)} at start, "
        f"{' '.join(f'{v:.2f}' for v in result.load_average_end)} at end"
    )
    summary = Table(
        title=f"segment-reports bench: {result.project} ({result.commit or 'no git'})",
        title_justify="left",
        show_header=False,
    )
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    summary.add_column(style="dim")
    noop = result.noop
    rows = [
        ("machine", result.machine, f"load average {loads}"),
        (
            "events (history)",
            f"{result.events:,}",
            f"over {result.days:g} days before {result.history_end[:10]}: "
            f"{result.raw_rows:,} raw rows for the full build",
        ),
        ("generate", f"{result.generate_seconds:.1f} s", ""),
        (
            "full build",
            f"{result.full_build_seconds:.1f} s",
            "dbt run --full-refresh, "
            + ("with" if result.raw_indexes else "without")
            + " raw uuid_ts BRIN indexes",
        ),
        (
            "floor",
            f"{result.floor_total_seconds:.1f} s",
            " + ".join(f"{t} {s:.1f} s" for t, s in result.floor_seconds.items())
            + ": distinct on (id) into new tables",
        ),
        ("full / floor", f"{result.full_over_floor:.1f}x", ""),
        (
            "vacuum",
            f"{result.vacuum_seconds:.1f} s",
            "after the full build, before the incremental run: autovacuum's work",
        ),
        (
            "incremental build",
            f"{result.incremental_build_seconds:.1f} s",
            f"dbt run after one more day ({result.incremental_generate_seconds:.1f} s"
            " to generate)",
        ),
        ("incremental / full", f"{result.ratio:.1%}", ""),
        (
            "no-op run",
            f"{noop.wall_seconds:.1f} s",
            f"no new data: start-up {noop.startup_seconds:.1f} s, hooks "
            f"{noop.hook_seconds:.1f} s, models "
            f"{sum(n.seconds for n in noop.models):.1f} s (summed over threads)",
        ),
    ]
    for row in rows:
        summary.add_row(*row)
    bi = Table(
        title=f"BI queries: {BI_REPEATS} runs each after a warm-up",
        title_justify="left",
    )
    bi.add_column("query")
    bi.add_column("mart")
    bi.add_column("rows", justify="right")
    bi.add_column("p50 ms", justify="right")
    bi.add_column("p95 ms", justify="right")
    for query in result.bi_queries:
        bi.add_row(
            query.name,
            query.mart,
            f"{query.rows:,}",
            f"{query.p50_ms:.1f}",
            f"{query.p95_ms:.1f}",
        )
    return [
        summary,
        _model_table("Full build per model", result.full),
        _model_table(
            "Incremental build per model (no-op run: the fixed cost)",
            result.incremental,
            beside=result.noop,
        ),
        bi,
    ]
