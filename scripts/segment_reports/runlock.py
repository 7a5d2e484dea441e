"""One `segment-reports run` at a time per target schema: a PostgreSQL advisory lock.

The run holds a session-level advisory lock on a connection of its own for as long
as dbt runs. The server releases it when that connection ends, however the run
ends (a crash or SIGKILL included), so a lock is never left behind. A second run
finds the lock taken and exits at once with code 75 (EX_TEMPFAIL), naming the
holder: the process id and host it recorded as its application_name, and when its
session started. `--wait SECONDS` retries for that long first.
"""

from __future__ import annotations

import os
import socket
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import click
import psycopg

from . import connection
from .exits import LOCKED

# The advisory lock's first key: "SREP"; the second is derived from the schema.
LOCK_CLASS = 0x53524550
APPLICATION_PREFIX = "segment-reports run"


def lock_key(schema: str) -> int:
    """The lock's second key for a target schema (advisory locks are per database)."""
    return zlib.crc32(schema.encode()) & 0x7FFFFFFF


class LockHeld(click.ClickException):
    """Another run holds the lock: exit 75, which schedulers tell from a failure."""

    exit_code = LOCKED


@dataclass
class Holder:
    backend_pid: int
    application_name: str
    client: str | None
    since: datetime | None

    def describe(self) -> str:
        name = self.application_name or ""
        who = (
            name[len(APPLICATION_PREFIX) :].strip()
            if name.startswith(APPLICATION_PREFIX)
            else f"application {name!r}"
        )
        since = f", started {self.since:%Y-%m-%d %H:%M:%S %Z}" if self.since else ""
        client = f" from {self.client}" if self.client else ""
        return f"{who} (server process {self.backend_pid}{client}{since})"


def holder(conn: psycopg.Connection, schema: str) -> Holder | None:
    """The session holding the lock of `schema`, if it is still there."""
    row = conn.execute(
        "select activity.pid, activity.application_name,"
        " coalesce(activity.client_hostname, host(activity.client_addr)),"
        " activity.backend_start"
        " from pg_locks as locks"
        " inner join pg_stat_activity as activity on locks.pid = activity.pid"
        " where locks.locktype = 'advisory' and locks.granted"
        " and locks.database = (select oid from pg_database"
        " where datname = current_database())"
        " and locks.classid = %s and locks.objid = %s and locks.objsubid = 2",
        (LOCK_CLASS, lock_key(schema)),
    ).fetchone()
    return Holder(*row) if row else None


class RunLock:
    """The run lock of a target schema, held on a connection of its own."""

    def __init__(self, schema: str):
        self.schema = schema
        self.conn: psycopg.Connection | None = None

    def _connect(self) -> psycopg.Connection:
        name = f"{APPLICATION_PREFIX} pid {os.getpid()} on {socket.gethostname()}"
        return connection.connect(application_name=name[:63], autocommit=True)

    def _try(self) -> bool:
        return self.conn.execute(
            "select pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, lock_key(self.schema))
        ).fetchone()[0]

    def acquire(self, wait_seconds: float = 0.0) -> None:
        """Take the lock; LockHeld if another run holds it for longer than
        `wait_seconds`. Connection errors propagate (psycopg's)."""
        self.conn = self._connect()
        deadline = time.monotonic() + wait_seconds
        while not self._try():
            left = deadline - time.monotonic()
            if left <= 0:
                found = holder(self.conn, self.schema)
                who = found.describe() if found else "a run that has just ended"
                waited = f" after waiting {wait_seconds:g} s" if wait_seconds else ""
                raise LockHeld(
                    f"another run is building schema {self.schema}{waited}: {who}. "
                    f"Exit {LOCKED}; run again later, or pass --wait SECONDS."
                )
            time.sleep(min(1.0, left))

    def still_held(self) -> bool:
        """Whether this run still holds the lock: after a lost connection (a
        server restart) it reconnects and takes the lock again, unless another
        run has taken it meanwhile."""
        try:
            self.conn.execute("select 1")
            return True
        except psycopg.Error:
            pass
        try:
            self.conn.close()
            self.conn = self._connect()
            return self._try()
        except psycopg.Error:
            return False

    def release(self) -> None:
        # closing the session releases the lock
        if self.conn is not None:
            self.conn.close()


@contextmanager
def run_lock(schema: str, wait_seconds: float = 0.0) -> Iterator[RunLock]:
    """Hold the run lock of `schema` for the block (see RunLock.acquire)."""
    lock = RunLock(schema)
    try:
        lock.acquire(wait_seconds)
        yield lock
    finally:
        lock.release()
