"""Run the project's dbt against a test database from pytest.

Every runner has its own profiles, target and log directories (under the test's
temporary directory), so tests can run in parallel. The connection comes from libpq
variables (the `pg_env` fixture); the password goes through
DBT_ENV_SECRET_PGPASSWORD, the variable `profiles.example.yml` reads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
CLI = str(Path(sys.executable).with_name("segment-reports"))

# `dbt build` of the seeds and the models, no data or unit tests: `dbt seed`
# then `dbt run` in one start-up of dbt. A runner's first `run` is this, unless
# it selects nodes (then `dbt seed` runs first).
_SELECTING = {"--select", "-s", "--exclude", "--selector", "-m", "--models"}
SEEDS_AND_MODELS = ("--resource-type", "seed", "--resource-type", "model")

# Variables of the calling shell that would point dbt somewhere else.
_SCRUBBED = ("DBT_PROFILES_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROJECT_DIR")


def libpq_env(conninfo: dict[str, str]) -> dict[str, str]:
    """libpq variables for psycopg connection keyword arguments (as `pg_env` gives)."""
    return {
        "PGHOST": conninfo["host"],
        "PGPORT": str(conninfo["port"]),
        "PGUSER": conninfo["user"],
        "PGDATABASE": conninfo["dbname"],
        "PGPASSWORD": conninfo["password"],
    }


class DbtError(AssertionError):
    """A dbt command exited with an error; the message holds dbt's output."""


class DbtRunner:
    """Runs `dbt <command>` on the project against one database.

    `pg_env` holds the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE,
    PGPASSWORD); `workdir` is a directory of the test's own; `project_dir` the dbt
    project (this checkout, or a copy a test edits). The runner's first `run`
    loads the seeds too, as `segment-reports run` (`dbt build`) does.
    """

    def __init__(
        self,
        pg_env: dict[str, str],
        workdir: Path,
        schema: str = "analytics",
        project_dir: Path = REPO_ROOT,
    ):
        self.project_dir = Path(project_dir)
        self.seeded = False
        self.workdir = Path(workdir)
        profiles_dir = self.workdir / "dbt-profiles"
        profiles_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(
            REPO_ROOT / "profiles.example.yml", profiles_dir / "profiles.yml"
        )
        self.env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        self.env.update(pg_env)
        self.env.update(
            {
                "DBT_ENV_SECRET_PGPASSWORD": pg_env.get("PGPASSWORD", ""),
                "DBT_SCHEMA": schema,
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                # Each runner has its own target directory, so partial parsing
                # (dbt re-parses changed files and a changed --vars) saves seconds
                # per invocation after the first.
                "DBT_PARTIAL_PARSE": "true",
            }
        )
        self.common_args = [
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(profiles_dir),
            "--target-path",
            str(self.workdir / "dbt-target"),
            "--log-path",
            str(self.workdir / "dbt-logs"),
        ]

    def __call__(
        self, *args: str, vars: dict[str, Any] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run dbt with `args` (e.g. "build", "--select", "staging").

        Raises DbtError with dbt's output when it fails and `check` is true.
        """
        if args and args[0] == "run" and not self.seeded:
            if _SELECTING.isdisjoint(args):
                # seeds and models in one command: one start-up of dbt, not two
                args = ("build", *SEEDS_AND_MODELS, *args[1:])
            else:
                seeded = self("seed", vars=vars, check=check)
                if seeded.returncode != 0:
                    return seeded
        # --no-write-json: no manifest.json or run_results.json, which no test
        # reads from a runner; writing them costs most of a second per command.
        command = [
            str(DBT), *args, *self.common_args, "--no-use-colors", "--no-write-json"
        ]  # fmt: skip
        if vars:
            command += ["--vars", json.dumps(vars)]
        result = subprocess.run(
            command,
            env=self.env,
            cwd=self.project_dir,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        if args and args[0] in ("seed", "build") and result.returncode == 0:
            self.seeded = True
        if check and result.returncode != 0:
            raise DbtError(
                f"dbt {' '.join(args)} exited with {result.returncode}:\n"
                f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
            )
        return result


def project_copy(directory: Path, seeds: dict[str, str] | None = None) -> Path:
    """A copy of this project in `directory`, with `seeds` ({seed name: CSV text})
    replacing or adding seed files: what an analyst who edits a CSV runs."""
    project = Path(directory)
    for name in ("models", "macros", "seeds", "tests"):
        shutil.copytree(REPO_ROOT / name, project / name)
    for name in ("dbt_project.yml", "profiles.example.yml"):
        shutil.copyfile(REPO_ROOT / name, project / name)
    for name, text in (seeds or {}).items():
        (project / "seeds" / f"{name}.csv").write_text(text)
    return project


def sr(env: dict[str, str], *args: str, timeout: float = 900):
    """`segment-reports ARGS` in the checkout with `env` (see the cli_env fixture)."""
    return subprocess.run(
        [CLI, *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def cli_environment(pg_env: dict[str, str], directory: Path) -> dict[str, str]:
    """Environment for `segment-reports` against the database of `pg_env`, with
    dbt's profiles, target and log directories, a settings file and an
    actions file (absent: no milestones) in `directory` (the cli_env fixture's,
    for a test database)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PG", "DBT_", "SEG"))
    }
    profiles = Path(directory) / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "profiles.example.yml", profiles / "profiles.yml")
    env.update(pg_env)
    env.update(
        SEGMENT_REPORTS_HOME=str(REPO_ROOT),
        SEGMENT_REPORTS_SETTINGS=str(Path(directory) / "settings.yml"),
        SEGMENT_REPORTS_ACTIONS=str(Path(directory) / "actions.yml"),
        DBT_PROFILES_DIR=str(profiles),
        DBT_TARGET_PATH=str(Path(directory) / "target"),
        DBT_LOG_PATH=str(Path(directory) / "logs"),
        DBT_SCHEMA="analytics",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        # dbt's default, as in a scheduled run: the target directory is this
        # test's own, so a run after the first with the same --vars re-parses
        # only changed files
        DBT_PARTIAL_PARSE="true",
    )
    return env
