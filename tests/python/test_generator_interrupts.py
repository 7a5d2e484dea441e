"""`segment-reports generate` stopped from outside: no process left, no half batch.

The command runs as a real subprocess with its worker processes; it is stopped
with SIGTERM, Ctrl-C's SIGINT or SIGKILL while it generates (workers busy) or
while it loads (a COPY running in the database). Processes are found through
/proc, the database state through the catalog.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

CLI = str(Path(sys.executable).with_name("segment-reports"))
# Large enough that generating and loading each take a few seconds on 2 cores.
ARGS = [
    "generate",
    "--source",
    "big:web",
    "--events",
    "300000",
    "--days",
    "30",
    "--end",
    "2024-03-01",
]


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier}
        found |= frontier
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _wait_for(condition, timeout: float = 120.0, what: str = "", proc=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"generate ended ({proc.returncode}) before {what}: "
                + proc.stderr.read()
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _copy_running(conninfo: dict) -> bool:
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        return bool(
            conn.execute(
                "select 1 from pg_stat_activity where datname = %s"
                " and state = 'active' and query ilike 'copy %%'",
                (conninfo["dbname"],),
            ).fetchone()
        )


def _state(conn: psycopg.Connection) -> dict:
    """What a batch could have left: source tables, log rows, staging schemas."""
    tables = conn.execute(
        "select count(*) from pg_tables where schemaname = 'big'"
    ).fetchone()[0]
    logged = conn.execute(
        "select count(*) from pg_tables where schemaname = 'segment_reports_generator'"
    ).fetchone()[0]
    if logged:
        logged = conn.execute(
            "select count(*) from segment_reports_generator.batches"
        ).fetchone()[0]
    staging = conn.execute(
        "select count(*) from pg_namespace"
        " where nspname like 'segment\\_reports\\_load\\_%'"
    ).fetchone()[0]
    return {"tables": tables, "batches": logged, "staging": staging}


def _is_worker(command: str) -> bool:
    """A pool worker (spawn_main), not multiprocessing's resource tracker, which
    also runs `python -c "from multiprocessing..."`: counting the tracker as a
    worker sent the signal while the second worker was still being spawned."""
    return "spawn_main" in command


def _start(pg_env: dict, workers: int = 2) -> subprocess.Popen:
    return subprocess.Popen(
        [CLI, *ARGS, "--workers", str(workers)],
        env={**os.environ, **pg_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("phase", "sig", "processes"),
    [
        ("generate", signal.SIGTERM, 2),
        ("generate", signal.SIGINT, 2),
        # new tables on side connections, moved into the source schema at the end
        ("load", signal.SIGTERM, 2),
        # every table in the one transaction of the batch
        ("load", signal.SIGINT, 1),
    ],
)
def test_stopped_generate_leaves_no_process_and_no_batch(
    pg_env, pg_database, conn, phase, sig, processes
):
    proc = _start(pg_env, processes)
    workers: set[int] = set()

    def workers_running() -> bool:
        workers.update(
            pid for pid in _descendants(proc.pid) if _is_worker(_cmdline(pid))
        )
        return len(workers) >= processes or processes == 1

    try:
        _wait_for(workers_running, what="the worker processes", proc=proc)
        if phase == "load":
            _wait_for(lambda: _copy_running(pg_database), what="a COPY", proc=proc)
        everything = _descendants(proc.pid) | workers
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr
    name = "SIGTERM" if sig == signal.SIGTERM else "Ctrl-C"
    assert f"generate stopped by {name}" in stderr
    assert "nothing of this batch was loaded" in stderr
    assert "Traceback" not in stderr
    _wait_for(
        lambda: not any(_alive(pid) for pid in everything),
        timeout=10,
        what="every child process to end",
    )
    assert _state(conn) == {"tables": 0, "batches": 0, "staging": 0}


def test_sigkill_while_generating_takes_the_workers_along(pg_env, conn):
    proc = _start(pg_env)
    workers: set[int] = set()

    def workers_running() -> bool:
        workers.update(
            pid for pid in _descendants(proc.pid) if _is_worker(_cmdline(pid))
        )
        return len(workers) >= 2

    try:
        _wait_for(workers_running, what="two worker processes", proc=proc)
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    _wait_for(
        lambda: not any(_alive(pid) for pid in workers),
        timeout=10,
        what="the workers of a killed generate to end",
    )
    assert _state(conn)["tables"] == 0


def test_sigkill_while_loading_leaves_sources_as_before_and_next_run_loads(
    pg_env, pg_database, conn
):
    proc = _start(pg_env)

    def some_tables_loaded() -> bool:
        # a table committed by one connection while another still copies
        loaded = conn.execute(
            "select count(*) from pg_tables where schemaname = 'big'"
            " or schemaname like 'segment\\_reports\\_load\\_%'"
        ).fetchone()[0]
        return loaded > 0 and _copy_running(pg_database)

    try:
        _wait_for(some_tables_loaded, what="tables loaded during a COPY", proc=proc)
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    # the server rolls back the killed connections' transactions
    _wait_for(
        lambda: not _copy_running(pg_database), timeout=30, what="the COPY to end"
    )
    after_kill = _state(conn)
    assert after_kill["tables"] == 0
    assert after_kill["batches"] == 0

    again = subprocess.run(
        [CLI, *ARGS, "--workers", "2"],
        env={**os.environ, **pg_env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    state = _state(conn)
    assert state["batches"] == 1
    assert state["staging"] == 0
    assert state["tables"] > 5
