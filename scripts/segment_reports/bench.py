"""`segment-reports bench`: time a full build, then an incremental build after one day.

Runs against the local warehouse in a database of its own (`segment_bench`, recreated
each time), so the demo database is left alone.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from .warehouse import LocalWarehouse

BENCH_DATABASE = "segment_bench"


@dataclass
class BenchResult:
    events: int
    days: float
    generate_seconds: float
    full_build_seconds: float
    incremental_generate_seconds: float
    incremental_build_seconds: float
    raw_rows: int
    raw_indexes: bool
    machine: str

    @property
    def ratio(self) -> float:
        return self.incremental_build_seconds / self.full_build_seconds


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


def run_bench(
    project: Path,
    events: int,
    days: float = 90,
    seed: int = 42,
    raw_indexes: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> BenchResult:
    """Recreate the bench database, load `days` of history, build, add a day, build."""
    local = LocalWarehouse.here()
    local.up()
    with psycopg.connect(**local.connect_kwargs("postgres"), autocommit=True) as conn:
        name = sql.Identifier(BENCH_DATABASE)
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(name))
        conn.execute(sql.SQL("create database {}").format(name))
    env = {**os.environ, **local.settings(), "PGDATABASE": BENCH_DATABASE}
    bindir = Path(sys.executable).parent
    cli = str(bindir / "segment-reports")
    dbt = [str(bindir / "dbt"), "run", "--project-dir", str(project)]
    dbt += ["--profiles-dir", str(project), "--target-path", str(project / ".bench")]

    # History arrives as the syncs before the build: all but the last day in one
    # batch, then the last day in its own, so the lookback window of the next
    # incremental run holds one day of loads (as on a warehouse synced daily), not
    # the whole backfill.
    # The two one-day batches that follow must not reach into the future.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
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
            (today - timedelta(days=2)).isoformat(),
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
        operation = [
            str(bindir / "dbt"),
            "run-operation",
            "create_raw_load_time_indexes",
        ]
        operation += ["--project-dir", str(project), "--profiles-dir", str(project)]
        _timed([*operation, "--target-path", str(project / ".bench")], env, project)
    progress("full build (dbt run --full-refresh)")
    full = _timed([*dbt, "--full-refresh"], env, project)
    progress("one more day of data")
    gen_inc = _timed(
        [cli, "generate", "--days", "1", "--seed", str(seed)], env, project
    )
    progress("incremental build (dbt run)")
    inc = _timed(dbt, env, project)
    with psycopg.connect(**local.connect_kwargs(BENCH_DATABASE)) as conn:
        raw_rows = conn.execute(
            "select coalesce(sum(n_live_tup), 0) from pg_stat_user_tables"
            " where schemaname = 'production'"
        ).fetchone()[0]
    result = BenchResult(
        events,
        days,
        gen,
        full,
        gen_inc,
        inc,
        int(raw_rows),
        raw_indexes,
        machine_description(),
    )
    out = project / ".bench" / "last.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(asdict(result) | {"ratio": result.ratio}, indent=2))
    return result
