"""`segment-reports status`: the latest runs and each source's freshness.

The runs come from `<target>_ops.runs` (audit.py); a source's freshness is its last
load, the newest `uuid_ts` of its call tables (doctor.last_load()), compared with
vars freshness_warn_hours and freshness_error_hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from rich.markup import escape
from rich.table import Table

from . import audit, milestones
from .doctor import CALL_TABLES, last_load
from .runlock import holder


@dataclass(frozen=True)
class Thresholds:
    warn_hours: float
    error_hours: float

    @classmethod
    def from_settings(cls, settings: dict) -> Thresholds:
        """ValueError naming the var when one is not a number above 0, or warn
        exceeds error (the checks dbt's segment_settings() makes too)."""
        values = {}
        for name in ("freshness_warn_hours", "freshness_error_hours"):
            value = settings.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number of hours; got {value!r}")
            if value <= 0:
                raise ValueError(f"{name} must be above 0; got {value!r}")
            values[name] = value
        warn, error = values["freshness_warn_hours"], values["freshness_error_hours"]
        if warn > error:
            raise ValueError(
                f"freshness_warn_hours ({warn}) must not exceed "
                f"freshness_error_hours ({error})"
            )
        return cls(warn, error)


def _counts(row: dict, keys: tuple[str, ...]) -> str:
    return "/".join("-" if row[k] is None else str(row[k]) for k in keys)


def runs_table(rows: list[dict], title: str, in_progress: bool) -> Table:
    grid = Table(title=escape(title))
    for column in (
        "started (UTC)",
        "took",
        "status",
        "exit",
        "models ok/error/skipped",
        "tests pass/warn/fail",
        "raw rows",
    ):
        grid.add_column(column)
    for row in rows:
        took = (
            f"{(row['finished_at'] - row['started_at']).total_seconds():.0f} s"
            if row["finished_at"]
            else ""
        )
        grid.add_row(
            f"{row['started_at'].astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            took,
            shown_status(row, in_progress),
            "" if row["exit_code"] is None else str(row["exit_code"]),
            _counts(row, ("models_ok", "models_error", "models_skipped")),
            _counts(row, ("tests_passed", "tests_warned", "tests_failed")),
            "" if row["raw_rows_picked_up"] is None else str(row["raw_rows_picked_up"]),
        )
    return grid


def shown_status(row: dict, in_progress: bool) -> str:
    """A row still `running` is the run in progress while the lock is held, and
    a run that died when it is not."""
    if row["status"] == audit.RUNNING and not in_progress:
        return audit.DID_NOT_FINISH
    return row["status"]


def report(
    conn: psycopg.Connection,
    schema: str,
    sources: list[str],
    limit: int,
    thresholds: Thresholds,
    now: datetime | None = None,
) -> tuple[list, list[str]]:
    """(tables and lines to print, problems that make the status unhealthy)."""
    shown: list = []
    problems: list[str] = []
    rows = audit.last_runs(conn, schema, limit)
    running = holder(conn, schema)
    if rows is None:
        shown.append(f"no runs recorded in {audit.ops_schema(schema)}.runs yet")
    else:
        title = f"Latest runs: {audit.ops_schema(schema)}.runs"
        shown.append(runs_table(rows, title, running is not None))
        in_progress = running is not None
        finished = [r for r in rows if shown_status(r, in_progress) != audit.RUNNING]
        if finished and finished[0]["status"] != "success":
            latest = finished[0]
            status = shown_status(latest, running is not None)
            code = latest["exit_code"]
            problems.append(
                f"the latest run {status}"
                + (f" (exit {code})" if code is not None else "")
            )
    if running is not None:
        shown.append(f"a run is in progress: {escape(running.describe())}")
    now = now or datetime.now(UTC)
    fresh = Table(
        title=f"Source freshness (stale after {thresholds.warn_hours:g} h, "
        f"unhealthy after {thresholds.error_hours:g} h)"
    )
    for column in ("source schema", "last load (UTC)", "age", "state"):
        fresh.add_column(column)
    for source in sources:
        latest = last_load(conn, source, CALL_TABLES)
        if latest is None:
            fresh.add_row(escape(source), "", "", "no loads")
            problems.append(f"source {source} has no loaded rows")
            continue
        hours = (now - latest).total_seconds() / 3600
        state = "fresh"
        if hours > thresholds.error_hours:
            state = "unhealthy"
            problems.append(f"source {source} last loaded {hours:.1f} h ago")
        elif hours > thresholds.warn_hours:
            state = "stale"
        when = f"{latest:%Y-%m-%d %H:%M:%S}"
        fresh.add_row(escape(source), when, f"{hours:.1f} h", state)
    shown.append(fresh)
    return shown, problems


def milestone_report(
    conn: psycopg.Connection,
    schema: str,
    alert_minutes: float,
    now: datetime | None = None,
) -> tuple[list, list[str]]:
    """The milestone messages not delivered yet (from the outbox), and a problem
    when the oldest has waited longer than `alert_minutes`."""
    rows = milestones.undelivered(conn, schema)
    if not rows:
        return [], []
    now = now or datetime.now(UTC)
    grid = Table(
        title=f"Undelivered milestone messages: "
        f"{audit.ops_schema(schema)}.{milestones.OUTBOX}"
    )
    for column in ("milestone", "threshold", "written (UTC)", "attempts", "last error"):
        grid.add_column(column)
    for row in rows:
        grid.add_row(
            escape(row["milestone"]),
            str(row["threshold"]),
            f"{row['created_at'].astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            str(row["attempts"]),
            escape(row["last_error"] or ""),
        )
    minutes = (now - rows[0]["created_at"]).total_seconds() / 60
    problems = []
    if minutes > alert_minutes:
        problems.append(
            f"{len(rows)} milestone message(s) undelivered, the oldest for "
            f"{minutes:.0f} min"
        )
    return [grid], problems
