"""Pure parts of `segment-reports bench` (no database, no timing)."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from random import Random

import pytest
import yaml
from psycopg import sql

from segment_reports.bench import (
    BI_QUERIES,
    BiQuery,
    DbtRun,
    NodeTime,
    mart_relations,
    parse_run_results,
    percentile,
)

MARTS = Path(__file__).resolve().parents[2] / "models" / "marts"


def _result(unique_id: str, seconds: float) -> dict:
    """One entry of run_results.json's `results`, as dbt 1.11 writes it."""
    return {
        "status": "success",
        "timing": [],
        "thread_id": "Thread-1",
        "execution_time": seconds,
        "adapter_response": {},
        "message": "SELECT 1",
        "failures": None,
        "unique_id": unique_id,
        "compiled": True,
        "relation_name": None,
        "batch_results": None,
    }


def test_percentile_interpolates_between_closest_ranks():
    twenty = [float(v) for v in range(20, 0, -1)]
    assert percentile(twenty, 0.5) == pytest.approx(10.5)
    # p95 of 1..20 lies 0.05 of the way from the 19th value to the 20th
    assert percentile(twenty, 0.95) == pytest.approx(19.05)
    assert percentile(twenty, 0) == 1.0
    assert percentile(twenty, 1) == 20.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([1.0, 2.0, 3.0], 0.5) == 2.0


def test_percentile_agrees_with_statistics_quantiles():
    rng = Random(5)
    for count in (2, 3, 20, 21, 101):
        values = [rng.uniform(0, 100) for _ in range(count)]
        cuts = statistics.quantiles(values, n=20, method="inclusive")
        assert percentile(values, 0.5) == pytest.approx(cuts[9])
        assert percentile(values, 0.95) == pytest.approx(cuts[18])


def test_percentile_refuses_no_values_and_bad_fractions():
    with pytest.raises(ValueError):
        percentile([], 0.5)
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)


def test_run_results_become_nodes_slowest_first():
    data = {
        "metadata": {"dbt_version": "1.11.16"},
        "elapsed_time": 30.5,
        "args": {"which": "run"},
        "results": [
            _result("operation.segment_reports.segment_reports-on-run-start-0", 0.1),
            _result("model.segment_reports.stg_segment__pages", 4.0),
            _result("model.segment_reports.events", 12.5),
            _result("model.segment_reports.sessions", 4.0),
            _result("operation.segment_reports.segment_reports-on-run-end-0", 0.3),
        ],
    }
    elapsed, nodes = parse_run_results(data)
    assert elapsed == 30.5
    assert nodes == [
        NodeTime("events", "model", 12.5),
        NodeTime("stg_segment__pages", "model", 4.0),
        NodeTime("sessions", "model", 4.0),
        NodeTime("segment_reports.segment_reports-on-run-end-0", "operation", 0.3),
        NodeTime("segment_reports.segment_reports-on-run-start-0", "operation", 0.1),
    ]
    run = DbtRun(wall_seconds=36.0, dbt_elapsed_seconds=elapsed, nodes=nodes)
    assert [n.name for n in run.models] == ["events", "stg_segment__pages", "sessions"]
    assert run.hook_seconds == pytest.approx(0.4)
    assert run.startup_seconds == pytest.approx(5.5)
    assert run.model_seconds() == {
        "events": 12.5,
        "stg_segment__pages": 4.0,
        "sessions": 4.0,
    }
    assert run.as_dict()["startup_seconds"] == pytest.approx(5.5)


def test_a_run_without_nodes_has_no_hook_time():
    elapsed, nodes = parse_run_results({"elapsed_time": 2, "results": []})
    run = DbtRun(wall_seconds=1.5, dbt_elapsed_seconds=elapsed, nodes=nodes)
    assert run.models == []
    assert run.hook_seconds == 0
    assert run.startup_seconds == 0


def test_bi_query_percentiles_are_of_its_runs():
    query = BiQuery("q", "sessions", "select 1", 1, [5.0, 1.0, 3.0, 2.0, 4.0])
    assert query.p50_ms == 3.0
    assert query.p95_ms == pytest.approx(4.8)
    assert query.as_dict()["p95_ms"] == pytest.approx(4.8)


def test_mart_relations_come_from_the_manifest():
    manifest = {
        "nodes": {
            "model.segment_reports.sessions": {
                "resource_type": "model",
                "name": "sessions",
                "schema": "analytics",
                "alias": "sessions",
            },
            "test.segment_reports.unique_sessions_session_id.abc": {
                "resource_type": "test",
                "name": "unique_sessions_session_id",
                "schema": "analytics_dbt_test__audit",
                "alias": "unique_sessions_session_id",
            },
        }
    }
    assert mart_relations(manifest) == {
        "sessions": sql.Identifier("analytics", "sessions")
    }


SQL_WORDS = {
    "select", "from", "where", "and", "order", "by", "group", "limit", "desc",
    "with", "as", "cross", "join", "is", "not", "null", "max", "sum", "count",
    "date_trunc", "interval", "month", "timestamp", "date",
}  # fmt: skip


def _documented_columns(mart: str) -> set[str]:
    document = yaml.safe_load((MARTS / f"{mart}.yml").read_text())
    (model,) = [m for m in document["models"] if m["name"] == mart]
    return {column["name"] for column in model["columns"]}


@pytest.mark.parametrize("spec", BI_QUERIES, ids=lambda spec: spec.name)
def test_bi_queries_read_only_documented_mart_columns(spec):
    """The BI queries must keep working whatever the models do inside."""
    columns = _documented_columns(spec.mart)
    for text in filter(None, (spec.parameters, spec.query)):
        text = re.sub(r"'[^']*'|%\(\w+\)s|\{rel\}", " ", text)
        names = set(re.findall(r"\b([a-z_][a-z0-9_]*) as\b", text))
        names |= set(re.findall(r"\bas ([a-z_][a-z0-9_]*)", text))
        words = set(re.findall(r"[a-z_][a-z0-9_]*", text))
        assert words - SQL_WORDS - names <= columns, text
