"""Session fixtures: a throwaway PostgreSQL on a loopback port, a database per test.

The server is real (Debian's PostgreSQL 15 binaries, installed by the project when
missing); as root it runs as the `postgres` OS user, which initdb requires.
"""

from __future__ import annotations

import itertools
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from dbt_helpers import DbtRunner
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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="segment-reports-test-"))
    root.chmod(0o755)
    cluster = Cluster(
        datadir=root / "data",
        port=free_port(),
        superuser="postgres",
        password=secrets.token_urlsafe(16),
        settings=TEST_SETTINGS,
    )
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_database(pg_cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[dict]:
    """A fresh database for one test; yields psycopg connection keyword arguments."""
    name = f"t{next(_counter)}_{request.node.name[:40]}".lower()
    name = "".join(ch if ch.isalnum() else "_" for ch in name)
    admin = pg_cluster.conninfo("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield pg_cluster.conninfo(name)
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(name)
                )
            )


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
