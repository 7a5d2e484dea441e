"""Session fixtures: a throwaway PostgreSQL on a loopback port, a database per test.

The server is real (Debian's PostgreSQL 15 binaries, installed by the project when
missing); as root it runs as the `postgres` OS user, which initdb requires. Tests
about time zones get servers whose own `TimeZone` is the zone under test
(`pg_cluster_in_zone`, `pg_database_in_zone`).
"""

from __future__ import annotations

import itertools
import re
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from dbt_helpers import DbtRunner, cli_environment
from segment_reports.broker import INSTALL_HINT, Broker, server_binary
from segment_reports.cluster import Cluster, free_port

TEST_SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "wal_level": "'minimal'",
    "max_wal_senders": "0",
    "shared_buffers": "'256MB'",
    "work_mem": "'32MB'",
    "jit": "'off'",
    "max_connections": "200",
}

_counter = itertools.count()


@contextmanager
def _running_cluster(timezone: str | None = None) -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="segment-reports-test-"))
    root.chmod(0o755)
    cluster = Cluster(
        datadir=root / "data",
        port=free_port(),
        superuser="postgres",
        password=secrets.token_urlsafe(16),
        settings=TEST_SETTINGS,
        timezone=timezone,
    )
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _fresh_database(cluster: Cluster, name: str) -> Iterator[dict]:
    """Create database `name` (dropping a leftover first); drop it afterwards."""
    admin = cluster.conninfo("postgres")
    drop = sql.SQL("drop database if exists {} with (force)").format(
        sql.Identifier(name)
    )
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield cluster.conninfo(name)
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(drop)


def _database_name(*parts: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", "_".join(parts).lower())
    return name[:63]


@pytest.fixture(scope="session", autouse=True)
def _interruptible() -> Iterator[None]:
    """The commands under test get SIGINT as Ctrl-C sends it. A suite started as
    a background job of a non-interactive shell inherits SIGINT ignored, and
    every command it starts would too; a handler of our own is reset to the
    default in each child instead."""
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="session", autouse=True)
def _no_local_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands under test ignore the checkout's settings.yml (`make demo` writes
    one) and actions.yml; a test that wants them points SEGMENT_REPORTS_SETTINGS
    or SEGMENT_REPORTS_ACTIONS elsewhere."""
    missing = tmp_path_factory.mktemp("settings")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEGMENT_REPORTS_SETTINGS", str(missing / "settings.yml"))
        patch.setenv("SEGMENT_REPORTS_ACTIONS", str(missing / "actions.yml"))
        yield


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    with _running_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_cluster_in_zone() -> Iterator[Callable[[str], Cluster]]:
    """A function giving a cluster whose server time zone is the given zone.

    `timezone` and `log_timezone` are set in that cluster's postgresql.conf, as on
    a server whose administrator chose the zone; each zone's cluster starts on
    first use (from any thread) and serves the rest of the session.
    """
    clusters: dict[str, Cluster] = {}
    lock = threading.Lock()
    with ExitStack() as stack:

        def cluster_in(zone: str) -> Cluster:
            with lock:
                if zone not in clusters:
                    clusters[zone] = stack.enter_context(_running_cluster(zone))
                return clusters[zone]

        yield cluster_in


@pytest.fixture(scope="module")
def pg_database_in_zone(
    pg_cluster_in_zone: Callable[[str], Cluster], request: pytest.FixtureRequest
) -> Iterator[Callable[[str], dict]]:
    """A function giving a fresh database, for this module, on the zone's cluster.

    Yields psycopg connection keyword arguments; each zone's database is dropped
    when the module is done.
    """
    databases: dict[str, dict] = {}
    lock = threading.Lock()
    with ExitStack() as stack:

        def database_in(zone: str) -> dict:
            with lock:
                if zone not in databases:
                    name = _database_name("m", request.module.__name__[-30:], zone)
                    databases[zone] = stack.enter_context(
                        _fresh_database(pg_cluster_in_zone(zone), name)
                    )
                return databases[zone]

        yield database_in


@pytest.fixture
def pg_database(pg_cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[dict]:
    """A fresh database for one test; yields psycopg connection keyword arguments."""
    name = _database_name(f"t{next(_counter)}", request.node.name[:40])
    with _fresh_database(pg_cluster, name) as conninfo:
        yield conninfo


@pytest.fixture
def pg_env(pg_database: dict) -> dict[str, str]:
    """libpq environment variables of the test database, for CLI and dbt runs."""
    return {
        "PGHOST": pg_database["host"],
        "PGPORT": pg_database["port"],
        "PGUSER": pg_database["user"],
        "PGDATABASE": pg_database["dbname"],
        "PGPASSWORD": pg_database["password"],
    }


@pytest.fixture
def conn(pg_database: dict) -> Iterator[psycopg.Connection]:
    with psycopg.connect(**pg_database, autocommit=True) as connection:
        yield connection


@pytest.fixture
def dbt(pg_env: dict[str, str], tmp_path: Path) -> DbtRunner:
    """Runs the project's dbt against this test's database (see dbt_helpers)."""
    return DbtRunner(pg_env, tmp_path)


@pytest.fixture
def cli_env(pg_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Environment for `segment-reports`: the test database, private dbt paths."""
    return cli_environment(pg_env, tmp_path)


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[Broker]:
    """A throwaway RabbitMQ broker on a loopback port (as the `rabbitmq` OS user
    when root), stopped at the end. A missing rabbitmq-server fails the tests that
    need it, with the command that installs it."""
    if server_binary() is None:
        pytest.fail(f"rabbitmq-server is not installed: {INSTALL_HINT}")
    broker = Broker()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        broker.remove()
