"""What each `segment-reports run` did: the `<target>_ops.runs` table.

A run inserts its row (status `running`) as soon as it holds the run lock and
updates it when dbt ends: status, exit code, dbt's invocation id, the models
that succeeded, failed or were skipped, the tests that passed, warned or failed,
the rows each model's main statement wrote, and the raw rows staging picked up,
all from dbt's run_results.json. A run that dies without updating its row (a
SIGKILL, a lost server) leaves it `running`; the next run marks it `did not
finish`, since it could only start once that run's lock was gone.
"""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from . import __version__

RUNNING = "running"
DID_NOT_FINISH = "did not finish"


def ops_schema(schema: str) -> str:
    """dbt's schema for the models configured `+schema: ops`."""
    return f"{schema}_ops"


def runs_table(schema: str) -> sql.Composed:
    return sql.Identifier(ops_schema(schema), "runs")


CREATE = """
create table if not exists {runs} (
    run_id uuid primary key,
    invocation_id text,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null,
    exit_code integer,
    full_refresh boolean not null,
    models_ok integer,
    models_error integer,
    models_skipped integer,
    tests_passed integer,
    tests_warned integer,
    tests_failed integer,
    raw_rows_picked_up bigint,
    model_rows jsonb,
    host text,
    pid integer,
    version text
)
"""


# Errors worth running the failed models again for: the server went away or
# restarted, or a transaction lost a deadlock or a serialization conflict.
TRANSIENT = (
    "deadlock detected",
    "could not serialize access",
    "server closed the connection unexpectedly",
    "terminating connection due to administrator command",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "connection refused",
    "connection reset",
    "connection already closed",
    "ssl connection has been closed unexpectedly",
    "could not receive data from server",
    "could not send data to server",
)


@dataclass
class Outcome:
    """What the run did, from dbt's run_results.json: each node's latest result
    (a `dbt retry` after a transient error replaces the results of the nodes it
    runs again)."""

    invocation_id: str | None = None
    results: dict[str, dict] = field(default_factory=dict)
    appending: set[str] = field(default_factory=set)

    def add(self, path: Path, since: datetime) -> bool:
        """Merge run_results.json if dbt wrote it since `since`; False if not."""
        try:
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) < since:
                return False
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return False
        self.invocation_id = self.invocation_id or data.get("metadata", {}).get(
            "invocation_id"
        )
        self.appending |= _appending_models(path.with_name("manifest.json"))
        for result in data.get("results", []):
            self.results[result.get("unique_id", "")] = result
        return True

    def _count(self, kind: str, statuses: tuple[str, ...]) -> int:
        return sum(
            1
            for unique_id, result in self.results.items()
            if unique_id.split(".")[0] == kind and result.get("status") in statuses
        )

    @property
    def models_ok(self) -> int:
        return self._count("model", ("success",))

    @property
    def models_error(self) -> int:
        return self._count("model", ("error",))

    @property
    def models_skipped(self) -> int:
        return self._count("model", ("skipped",))

    @property
    def tests_passed(self) -> int:
        return self._count("test", ("pass",))

    @property
    def tests_warned(self) -> int:
        return self._count("test", ("warn",))

    @property
    def tests_failed(self) -> int:
        return self._count("test", ("fail", "error"))

    def model_rows(self) -> dict[str, dict[str, int | None]]:
        """{model: {"inserted": n, "deleted": n}} of the models that succeeded.

        change_driven models report both (their main statement selects them; dbt
        shows them as `INSERT n DELETE n`). Append-only staging models delete
        nothing. Otherwise `inserted` is what dbt reports for the main statement
        (a table model's rebuild: all its rows) and `deleted` is not known (null):
        a rebuild replaces the whole table.
        """
        rows: dict[str, dict[str, int | None]] = {}
        for unique_id, result in self.results.items():
            if not unique_id.startswith("model.") or result.get("status") != "success":
                continue
            response = result.get("adapter_response") or {}
            message = str(response.get("_message") or "")
            counted = re.fullmatch(r"INSERT (\d+) DELETE (\d+)", message)
            if counted:
                inserted, deleted = int(counted[1]), int(counted[2])
            else:
                affected = response.get("rows_affected")
                writes = message.startswith(("INSERT", "SELECT", "MERGE"))
                inserted = affected if writes and isinstance(affected, int) else None
                deleted = 0 if unique_id in self.appending else None
            rows[unique_id.split(".")[-1]] = {"inserted": inserted, "deleted": deleted}
        return rows

    @property
    def raw_rows_picked_up(self) -> int:
        return sum(
            rows
            for unique_id, result in self.results.items()
            if unique_id in self.appending
            and result.get("status") == "success"
            and isinstance(
                rows := (result.get("adapter_response") or {}).get("rows_affected"),
                int,
            )
            and rows > 0
        )

    def transient_errors(self) -> list[str]:
        """The messages of the failed nodes, when every failure is transient
        (empty when there is none, or when any failure is not transient)."""
        failed = [
            result.get("message") or ""
            for result in self.results.values()
            if result.get("status") in ("error", "fail")
        ]
        if failed and all(
            any(mark in message.lower() for mark in TRANSIENT) for message in failed
        ):
            return failed
        return []

    def slowest(self, count: int = 5) -> list[tuple[str, float, str]]:
        """(model, seconds, status) of the models that took longest."""
        models = [
            (unique_id.split(".")[-1], result.get("execution_time") or 0.0,
             result.get("status") or "")
            for unique_id, result in self.results.items()
            if unique_id.startswith("model.")
        ]  # fmt: skip
        return sorted(models, key=lambda m: -m[1])[:count]


def _appending_models(manifest: Path) -> set[str]:
    """The unique ids of the incremental staging models (they append raw rows
    newly loaded; the others are rebuilt whole), from dbt's manifest.json."""
    try:
        nodes = json.loads(manifest.read_text()).get("nodes", {})
    except (OSError, ValueError):
        return set()
    return {
        unique_id
        for unique_id, node in nodes.items()
        if node.get("resource_type") == "model"
        and node.get("name", "").startswith("stg_")
        and (node.get("config") or {}).get("materialized") == "incremental"
    }


class RunRecord:
    """The row of one run, written on the run lock's connection."""

    def __init__(self, conn: psycopg.Connection, schema: str, full_refresh: bool):
        self.conn = conn
        self.schema = schema
        self.run_id = uuid.uuid4()
        self.started_at = datetime.now(UTC)
        runs = runs_table(schema)
        conn.execute(
            sql.SQL("create schema if not exists {}").format(
                sql.Identifier(ops_schema(schema))
            )
        )
        conn.execute(sql.SQL(CREATE).format(runs=runs))
        # this run holds the lock: a run still marked running is gone
        conn.execute(
            sql.SQL("update {} set status = %s where status = %s").format(runs),
            (DID_NOT_FINISH, RUNNING),
        )
        conn.execute(
            sql.SQL(
                "insert into {} (run_id, started_at, status, full_refresh, host, pid,"
                " version) values (%s, %s, %s, %s, %s, %s, %s)"
            ).format(runs),
            (
                self.run_id,
                self.started_at,
                RUNNING,
                full_refresh,
                socket.gethostname(),
                os.getpid(),
                __version__,
            ),
        )

    def finish(self, status: str, exit_code: int, outcome: Outcome | None) -> None:
        outcome = outcome or Outcome()
        self.conn.execute(
            sql.SQL(
                "update {} set finished_at = %s, status = %s, exit_code = %s,"
                " invocation_id = %s, models_ok = %s, models_error = %s,"
                " models_skipped = %s, tests_passed = %s, tests_warned = %s,"
                " tests_failed = %s, raw_rows_picked_up = %s, model_rows = %s"
                " where run_id = %s"
            ).format(runs_table(self.schema)),
            (
                datetime.now(UTC),
                status,
                exit_code,
                outcome.invocation_id,
                outcome.models_ok,
                outcome.models_error,
                outcome.models_skipped,
                outcome.tests_passed,
                outcome.tests_warned,
                outcome.tests_failed,
                outcome.raw_rows_picked_up,
                Jsonb(outcome.model_rows()),
                self.run_id,
            ),
        )


def last_runs(conn: psycopg.Connection, schema: str, limit: int) -> list[dict] | None:
    """The latest runs, newest first; None when no run was ever recorded."""
    exists = conn.execute(
        "select to_regclass(format('%%I.runs', %s::text))", (ops_schema(schema),)
    ).fetchone()[0]
    if exists is None:
        return None
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        sql.SQL("select * from {} order by started_at desc, run_id limit %s").format(
            runs_table(schema)
        ),
        (limit,),
    ).fetchall()
