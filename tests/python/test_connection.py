"""`segment-reports run` reaches a warehouse given by the standard libpq variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).with_name("segment-reports"))
PROJECT = Path(__file__).resolve().parents[2]


def test_run_uses_pgpassword_without_putting_it_in_argv(
    pg_env: dict[str, str], conn, tmp_path: Path
) -> None:
    conn.execute("create schema production")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DBT_"))}
    env.update(pg_env, DBT_PROFILES_DIR=str(tmp_path))
    (tmp_path / "profiles.yml").write_text(
        (PROJECT / "profiles.example.yml").read_text()
    )
    result = subprocess.run(
        [CLI, "dbt", "debug"],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "OK connection ok" in output
    assert pg_env["PGPASSWORD"] not in output
