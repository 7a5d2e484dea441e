"""`segment-reports warehouse up | down | status` manage a real local cluster."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from segment_reports.cluster import free_port

CLI = str(Path(sys.executable).with_name("segment-reports"))


def _cli(home: Path, port: int, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(SEGMENT_REPORTS_HOME=str(home), SEGMENT_REPORTS_PORT=str(port))
    return subprocess.run(
        [CLI, "warehouse", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _exports(stdout: str) -> dict[str, str]:
    pairs = [line.removeprefix("export ").split("=", 1) for line in stdout.splitlines()]
    return {key: value for key, value in pairs}


def _connects_as_printed(stderr: str, settings: dict[str, str]) -> None:
    """The `psql` command printed connects (its conninfo and PGPASSFILE)."""
    line = stderr.split("connect with: ", 1)[1].splitlines()[0]
    assignment, program, conninfo = shlex.split(line)
    assert program == "psql"
    assert assignment == f"PGPASSFILE={settings['PGPASSFILE']}"
    fields = dict(pair.split("=", 1) for pair in conninfo.split())
    assert fields == {
        "host": settings["PGHOST"],
        "port": settings["PGPORT"],
        "dbname": settings["PGDATABASE"],
        "user": settings["PGUSER"],
    }
    with psycopg.connect(conninfo, passfile=settings["PGPASSFILE"]) as conn:
        assert conn.execute("select current_database()").fetchone() == ("segment",)


@pytest.fixture
def home(tmp_path: Path):
    (tmp_path / "dbt_project.yml").write_text("name: probe\n")
    yield tmp_path
    state = tmp_path / ".warehouse" / "warehouse.json"
    if state.exists():
        _cli(tmp_path, 0, "down")
        # Under /root-like private dirs the data lives outside the checkout.
        datadir = Path(json.loads(state.read_text())["datadir"])
        shutil.rmtree(datadir.parent, ignore_errors=True)


def test_up_is_idempotent_and_data_survives_restart(home: Path) -> None:
    port = free_port()
    first = _cli(home, port, "up")
    assert first.returncode == 0, first.stderr
    settings = _exports(first.stdout)
    assert settings["PGHOST"] == "127.0.0.1"
    assert settings["PGPORT"] == str(port)
    assert settings["PGDATABASE"] == "segment"

    passfile = Path(settings["PGPASSFILE"])
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    password = passfile.read_text().strip().rsplit(":", 1)[1]
    assert password not in first.stdout + first.stderr

    again = _cli(home, port, "up")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stderr
    assert _exports(again.stdout) == settings

    kwargs = dict(
        host=settings["PGHOST"],
        port=settings["PGPORT"],
        user=settings["PGUSER"],
        dbname=settings["PGDATABASE"],
        passfile=str(passfile),
    )
    with psycopg.connect(**kwargs, autocommit=True) as conn:
        conn.execute("create table kept (n int)")
        conn.execute("insert into kept values (7)")
        assert conn.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"

    status = _cli(home, port, "status")
    assert status.returncode == 0
    assert _exports(status.stdout) == settings
    _connects_as_printed(status.stderr, settings)
    _connects_as_printed(first.stderr, settings)
    assert password not in status.stdout + status.stderr
    assert _cli(home, port, "down").returncode == 0
    stopped = _cli(home, port, "status")
    assert stopped.returncode == 1
    assert "stopped" in stopped.stderr
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(**kwargs, connect_timeout=3)

    assert _cli(home, port, "up").returncode == 0
    with psycopg.connect(**kwargs) as conn:
        assert conn.execute("select n from kept").fetchone() == (7,)

    assert _cli(home, port, "reset", "--yes").returncode == 0
    with psycopg.connect(**kwargs) as conn:
        assert conn.execute("select to_regclass('public.kept')").fetchone() == (None,)


def test_status_without_a_warehouse_says_how_to_start(home: Path) -> None:
    result = _cli(home, free_port(), "status")
    assert result.returncode == 1
    assert "warehouse up" in result.stderr


def test_up_refuses_a_port_taken_by_another_program(home: Path) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = _cli(home, port, "up")
    assert result.returncode != 0
    assert f"port {port}" in result.stderr
