"""The local warehouse: a PostgreSQL cluster whose data lives in `.warehouse/`.

`segment-reports warehouse up` creates it on first use (a fresh `segment`
database, a generated superuser password kept in `.warehouse/pgpass`) and
starts it on a loopback port. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from .cluster import (
    Cluster,
    _accessible_to_server_user,
    free_port,
    is_root,
    port_in_use,
)

DEFAULT_PORT = 54329
DATABASE = "segment"
SUPERUSER = "postgres"

# Tuned for a 2-core, 24 GB analytics box; wal_level=minimal lets CREATE TABLE AS
# skip WAL, which is most of what a dbt build writes.
WAREHOUSE_SETTINGS = {
    "shared_buffers": "'2GB'",
    "effective_cache_size": "'12GB'",
    "work_mem": "'128MB'",
    "maintenance_work_mem": "'1GB'",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'30min'",
    "wal_level": "'minimal'",
    "max_wal_senders": "0",
    "synchronous_commit": "'off'",
    "random_page_cost": "1.1",
    "max_parallel_workers_per_gather": "2",
    "jit": "'off'",
    "log_min_messages": "'warning'",
}


def project_dir() -> Path:
    """The checkout: `$SEGMENT_REPORTS_HOME`, else the nearest dbt project above."""
    if os.environ.get("SEGMENT_REPORTS_HOME"):
        return Path(os.environ["SEGMENT_REPORTS_HOME"]).absolute()
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").exists():
            return candidate
    package_root = Path(__file__).resolve().parents[2]
    if (package_root / "dbt_project.yml").exists():
        return package_root
    return here


@dataclass
class LocalWarehouse:
    root: Path

    @classmethod
    def here(cls) -> LocalWarehouse:
        return cls(project_dir() / ".warehouse")

    @property
    def state_file(self) -> Path:
        return self.root / "warehouse.json"

    @property
    def passfile(self) -> Path:
        return self.root / "pgpass"

    def _state(self) -> dict:
        if self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return {}

    @property
    def exists(self) -> bool:
        return bool(self._state())

    def _datadir(self) -> Path:
        """`.warehouse/data`, unless the postgres OS user cannot reach the checkout.

        A checkout under /root is private to root; the server then keeps its data
        under /var/lib/segment-reports/<hash of the checkout path>.
        """
        state = self._state()
        if "datadir" in state:
            return Path(state["datadir"])
        inside = self.root / "data"
        if is_root():
            self.root.mkdir(parents=True, exist_ok=True)
            if not _accessible_to_server_user(self.root):
                digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
                return Path("/var/lib/segment-reports") / digest / "data"
        return inside

    def _port(self) -> int:
        """$SEGMENT_REPORTS_PORT, else the port of the last start, else 54329.

        A first `up` whose default port another program holds takes a free one.
        """
        if os.environ.get("SEGMENT_REPORTS_PORT"):
            return int(os.environ["SEGMENT_REPORTS_PORT"])
        state = self._state()
        if state.get("port"):
            return int(state["port"])
        return free_port() if port_in_use(DEFAULT_PORT) else DEFAULT_PORT

    def _save_state(self, cluster: Cluster) -> None:
        state = {"port": cluster.port, "datadir": str(cluster.datadir)}
        self.state_file.write_text(json.dumps(state, indent=2))

    def cluster(self) -> Cluster:
        return Cluster(
            datadir=self._datadir(),
            port=self._port(),
            superuser=SUPERUSER,
            settings=WAREHOUSE_SETTINGS,
        )

    def up(self) -> dict[str, str]:
        """Create (first time) and start the cluster; idempotent. Returns settings."""
        self.root.mkdir(parents=True, exist_ok=True)
        cluster = self.cluster()
        if not cluster.initialized:
            password = secrets.token_urlsafe(24)
            cluster.password = password
            cluster.init()
            fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                # any port: SEGMENT_REPORTS_PORT may move the server later
                handle.write(f"127.0.0.1:*:*:{SUPERUSER}:{password}\n")
            self._save_state(cluster)
        cluster.start()
        self._save_state(cluster)
        self._ensure_database()
        return self.settings()

    def _ensure_database(self) -> None:
        with psycopg.connect(
            **self.connect_kwargs("postgres"), autocommit=True
        ) as conn:
            found = conn.execute(
                "select 1 from pg_database where datname = %s", (DATABASE,)
            ).fetchone()
            if not found:
                conn.execute(
                    sql.SQL("create database {}").format(sql.Identifier(DATABASE))
                )

    def reset(self) -> None:
        """Drop and recreate the warehouse's database: every source schema and build."""
        with psycopg.connect(
            **self.connect_kwargs("postgres"), autocommit=True
        ) as conn:
            name = sql.Identifier(DATABASE)
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(name)
            )
            conn.execute(sql.SQL("create database {}").format(name))

    def down(self) -> bool:
        cluster = self.cluster()
        was_running = cluster.running()
        cluster.stop()
        return was_running

    def running(self) -> bool:
        return self.exists and self.cluster().running()

    def settings(self) -> dict[str, str]:
        """libpq environment variables for the warehouse (no password: PGPASSFILE)."""
        cluster = self.cluster()
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(cluster.port),
            "PGUSER": SUPERUSER,
            "PGDATABASE": DATABASE,
            "PGPASSFILE": str(self.passfile),
        }

    def psql_command(self) -> str:
        """A shell command opening psql on the warehouse (password from PGPASSFILE)."""
        settings = self.settings()
        conninfo = (
            f"host={settings['PGHOST']} port={settings['PGPORT']} "
            f"dbname={settings['PGDATABASE']} user={settings['PGUSER']}"
        )
        passfile = shlex.quote(settings["PGPASSFILE"])
        return f"PGPASSFILE={passfile} psql {shlex.quote(conninfo)}"

    def connect_kwargs(self, dbname: str = DATABASE) -> dict[str, str]:
        settings = self.settings()
        return {
            "host": settings["PGHOST"],
            "port": settings["PGPORT"],
            "user": settings["PGUSER"],
            "dbname": dbname,
            "passfile": settings["PGPASSFILE"],
        }
