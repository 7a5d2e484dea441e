"""The `segment-reports` command: dbt runs, settings, preview and the README.

Commands run as real subprocesses (or click's runner) against the test cluster,
with dbt's target, log and profiles directories of the test's own, and a
settings file of its own (SEGMENT_REPORTS_SETTINGS).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dbt_helpers import CLI, REPO_ROOT, sr
from segment_reports.cli import main
from segment_reports.generator import generate_batch
from segment_reports.settings import with_vars


def declared_vars() -> set[str]:
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    return set(project["vars"])


# --- dbt --------------------------------------------------------------------------
def test_dbt_without_arguments_prints_dbt_help(cli_env):
    result = sr(cli_env, "dbt", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Usage: dbt" in result.stdout
    assert "No such option" not in result.stdout + result.stderr


def test_with_vars_merges_settings_under_the_command_line():
    settings = {"a": 1, "b": ["x"]}
    assert with_vars(["build", "--vars", "{b: [y], c: z}", "-s", "m"], settings) == [
        "build",
        "--vars",
        "{a: 1, b: [y], c: z}",
        "-s",
        "m",
    ]
    assert with_vars(["ls", "--vars={a: 2}"], settings) == [
        "ls",
        "--vars",
        "{a: 2, b: [x]}",
    ]
    assert with_vars(["ls"], settings) == ["ls", "--vars", "{a: 1, b: [x]}"]
    assert with_vars(["ls", "-s", "m"], {}) == ["ls", "-s", "m"]
    assert with_vars(["ls", "--vars", "{}", "-s", "m"], {}) == ["ls", "-s", "m"]


def test_settings_set_show_and_refuse_unknown_vars(cli_env, tmp_path):
    runner = CliRunner()
    path = Path(cli_env["SEGMENT_REPORTS_SETTINGS"])
    stored = runner.invoke(
        main, ["settings", "set", "segment_schemas", "[production, ios]"], env=cli_env
    )
    assert stored.exit_code == 0, stored.output
    timeout = runner.invoke(
        main, ["settings", "set", "session_timeout_minutes", "45"], env=cli_env
    )
    assert timeout.exit_code == 0, timeout.output
    assert yaml.safe_load(path.read_text()) == {
        "segment_schemas": ["production", "ios"],
        "session_timeout_minutes": 45,
    }

    shown = runner.invoke(main, ["settings", "show"], env=cli_env)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "segment_schemas: [production, ios]  # settings file" in lines
    assert "excluded_user_ids: []  # dbt_project.yml default" in lines
    assert len(lines) == 1 + len(declared_vars())

    unknown = runner.invoke(
        main, ["settings", "set", "segment_schema", "[production]"], env=cli_env
    )
    assert unknown.exit_code == 2
    assert "unknown var 'segment_schema'" in unknown.output
    listed = unknown.output.split("known vars (dbt_project.yml): ")[1]
    assert set(listed.replace("\n", " ").strip().split(", ")) == declared_vars()
    assert "segment_schema:" not in path.read_text()

    bad_yaml = runner.invoke(
        main, ["settings", "set", "segment_schemas", "[production"], env=cli_env
    )
    assert bad_yaml.exit_code == 2 and "not valid YAML" in bad_yaml.output

    # a hand-edited file with a typo stops every run before dbt starts
    path.write_text("segment_schemas: [production]\nsesion_timeout_minutes: 5\n")
    refused = sr(cli_env, "run", timeout=120)
    assert refused.returncode == 2
    assert "unknown var 'sesion_timeout_minutes'" in refused.stderr
    assert "dbt build" not in refused.stderr


def test_settings_example_holds_known_vars_only(cli_env):
    example = yaml.safe_load((REPO_ROOT / "settings.example.yml").read_text())
    assert example and set(example) <= declared_vars()
    env = {
        **cli_env,
        "SEGMENT_REPORTS_SETTINGS": str(REPO_ROOT / "settings.example.yml"),
    }
    shown = CliRunner().invoke(main, ["settings", "show"], env=env)
    assert shown.exit_code == 0, shown.output


def test_dbt_gets_the_settings_merged_with_command_line_vars(cli_env):
    Path(cli_env["SEGMENT_REPORTS_SETTINGS"]).write_text(
        "segment_schemas: [production, ios]\nexcluded_user_ids: [from-file]\n"
    )
    probe = (
        "{{ var('segment_schemas') | join(',') }}"
        "/{{ var('excluded_user_ids') | join(',') }}"
        "/{{ var('session_timeout_minutes') }}"
    )
    result = sr(
        cli_env,
        "dbt",
        "compile",
        "--inline",
        f"select '{probe}' as probe",
        "--vars",
        "{excluded_user_ids: [from-command-line]}",
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "select 'production,ios/from-command-line/30' as probe" in result.stdout
    # the header shows the vars dbt got, brackets and all
    assert (
        "--vars '{excluded_user_ids: [from-command-line], "
        "segment_schemas: [production, ios]}'"
    ) in result.stderr


# --- stopping a run ---------------------------------------------------------------
def _dbt_child(pid: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        # the interpreter, then the dbt script
        if parent == pid and any(a.endswith(b"/dbt") for a in cmdline[:2]):
            return int(entry.name)
    return None


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_run_and_find_dbt(
    env: dict[str, str], mark: str, sigint_ignored: bool = False
) -> tuple[subprocess.Popen, int, list[str]]:
    """`segment-reports run`, once dbt has printed a line holding `mark`;
    `sigint_ignored`: started as a background job of a shell script starts it."""
    proc = subprocess.Popen(
        [CLI, "run"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )
    stdout: list[str] = []
    reader = threading.Thread(target=lambda: stdout.extend(proc.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while (child := _dbt_child(proc.pid)) is None or not any(
        mark in line for line in stdout
    ):
        assert proc.poll() is None, (stdout, proc.stderr.read())
        assert time.monotonic() < deadline, "dbt did not start"
        time.sleep(0.05)
    return proc, child, stdout


def test_a_killed_dbt_is_reported_in_words_and_fails_the_run(cli_env):
    proc, child, _ = _start_run_and_find_dbt(cli_env, "Registered adapter")
    os.kill(child, signal.SIGKILL)
    stderr = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 1
    assert "dbt was killed by signal 9 (SIGKILL)" in stderr.replace("\n", " ")


@pytest.mark.parametrize(
    "sig,sigint_ignored",
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGTERM, True)],
)
def test_stopping_run_stops_dbt_and_exits_1(cli_env, conn, sig, sigint_ignored):
    generate_batch(conn, ["production"], events=2000, days=3, end="2024-03-01")
    # while dbt builds models, so that there are queries to cancel; started with
    # SIGINT ignored, run still stops dbt with the SIGINT it sends
    proc, child, stdout = _start_run_and_find_dbt(
        cli_env, " START sql ", sigint_ignored
    )
    proc.send_signal(sig)
    stderr = proc.stderr.read()
    proc.wait(timeout=120)
    assert proc.returncode == 1, stderr
    name = "SIGTERM" if sig == signal.SIGTERM else "Ctrl-C (SIGINT)"
    assert f"stopped by {name}" in stderr
    assert "Traceback" not in stderr
    # dbt got one SIGINT: it cancelled its queries (and, being dbt 1.11, logs a
    # traceback of its own on stdout)
    assert "Exited because of keyboard interrupt" in "".join(stdout)
    assert _gone(child)


# --- preview ----------------------------------------------------------------------
def test_preview_reads_the_marts_only(cli_env, conn):
    conn.execute("create schema analytics_staging")
    conn.execute(
        "create table analytics_staging.stg_segment__tracks as select"
        " 'production'::text as source_schema, 'signed_up'::text as event_name,"
        " 'secret@person.example'::text as context_traits_email"
    )
    runner = CliRunner()
    nothing = runner.invoke(main, ["preview"], env=cli_env)
    assert nothing.exit_code == 1
    assert "no report tables in schema analytics" in nothing.output
    assert "secret@person.example" not in nothing.output

    conn.execute("create schema analytics")
    conn.execute(
        "create table analytics.monthly_event_counts as select * from (values"
        " (date '2024-01-01', 'signed_up', 3, 2),"
        " (date '2024-02-01', 'signed_up', 4, 4),"
        " (date '2024-01-01', '[bold]logged_in', 5, 1)"
        ") as t (event_month, event_name, event_count, person_count)"
    )
    shown = runner.invoke(main, ["preview"], env=cli_env)
    assert shown.exit_code == 0, shown.output
    assert "analytics.monthly_event_counts" in re.sub(r"\s+", "", shown.output)
    # 3 + 4 signed_up; user text is printed as is, not read as rich markup
    assert re.search(r"signed_up\s*│\s*7", shown.output)
    assert "[bold]logged_in" in shown.output
    assert "secret@person.example" not in shown.output
    # and the tracking plan audit, from analytics_ops
    conn.execute("create schema analytics_ops")
    conn.execute(
        "create table analytics_ops.tracking_plan_audit as select 'unplanned_event'"
        " as finding, 'production' as source_schema, 'alert_acknowledged' as"
        " event_name, null::text as property_name, 500 as event_count,"
        " 'not in the tracking plan' as detail"
    )
    audited = runner.invoke(main, ["preview"], env=cli_env)
    assert "analytics_ops.tracking_plan_audit" in re.sub(r"\s+", "", audited.output)
    assert re.search(r"alert_acknowledged\s*│\s*│\s*500", audited.output)


# --- the README's analyst queries on the demo's data ------------------------------
def makefile_variable(name: str) -> str:
    found = re.search(
        rf"^{name} \?= (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.M
    )
    assert found, f"{name} in the Makefile"
    return found.group(1)


def readme_queries() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## For analysts: the report tables", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "one ```sql block in the analysts' section"
    text = re.sub(r"--[^\n]*", "", blocks[0])
    return [q.strip() for q in text.split(";") if q.strip()]


def test_readme_queries_return_rows_on_the_demo_data(cli_env, conn):
    """`make demo`, scaled down to 20,000 events: settings, two batches, two runs."""
    end = makefile_variable("DEMO_END")
    sources = ["--source", "production:web", "--source", "ios:mobile"]
    steps = [
        ("settings", "set", "segment_schemas", "[production, ios]"),
        ("settings", "set", "internal_domains", "[harbordb.example]"),
        ("generate", *sources, "--events", "20000", "--days", "90"),
        ("run",),
        ("generate", *sources, "--days", "1", "--seed", "42"),
        ("run",),
    ]
    steps[2] = (*steps[2], "--end", end, "--seed", "42")
    for step in steps:
        result = sr(cli_env, *step)
        assert result.returncode == 0, (
            f"{step}: {result.stdout[-4000:]}\n{result.stderr[-3000:]}"
        )
        if step == ("run",):
            header = result.stderr
            assert "--exclude-resource-type unit_test" in header
            assert (
                "--vars '{internal_domains: [harbordb.example], "
                "segment_schemas: [production, ios]}'"
            ) in header
            ran = json.loads(
                (Path(cli_env["DBT_TARGET_PATH"]) / "run_results.json").read_text()
            )
            kinds = {r["unique_id"].split(".")[0] for r in ran["results"]}
            assert "model" in kinds and "test" in kinds
            assert "unit_test" not in kinds

    queries = readme_queries()
    assert len(queries) == 11
    for query in queries:
        rows = conn.execute(query).fetchall()
        assert rows, f"no rows from the README query:\n{query}"

    # both sources reached the marts through the settings file alone
    schemas = conn.execute("select distinct source_schema from analytics.events")
    assert {r[0] for r in schemas} == {"production", "ios"}
    # the demo's last day is the day before DEMO_END's next batch ends, not today
    last_day = conn.execute(
        "select max(activity_date) from analytics.daily_active_users"
    ).fetchone()[0]
    assert last_day == date.fromisoformat(end)
    assert last_day < datetime.now(UTC).date() - timedelta(days=1)
