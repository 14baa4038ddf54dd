"""The benchmark report's arithmetic on synthetic figures: no server, nothing timed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from bench.report import Goal, Measurement, Report, machine_info, markdown, save, table
from bench.stats import percentile, rate


def measurement(ours: float, baseline: float, goal: Goal | None) -> Measurement:
    return Measurement(
        bench="synthetic", metric="figure", unit="x/s", ours=ours, baseline=baseline,
        baseline_label="bare", goal=goal, details={"note": "made up"},
    )


def report(*rows: Measurement) -> Report:
    return Report(
        measurements=list(rows), machine=machine_info(), mode="quick",
        started_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC), wall_seconds=12.3,
        failures={"broken": "BenchError: synthetic"},
    )


def test_a_throughput_ratio_meets_an_at_least_goal() -> None:
    row = measurement(70.0, 100.0, Goal(">=", 0.7))
    assert row.ratio == pytest.approx(0.7)
    assert row.met is True
    assert measurement(69.0, 100.0, Goal(">=", 0.7)).met is False


def test_a_latency_ratio_meets_an_at_most_goal() -> None:
    assert measurement(26.0, 13.0, Goal("<=", 2.0)).met is True
    assert measurement(27.0, 13.0, Goal("<=", 2.0)).met is False


def test_a_row_without_a_goal_is_neither_met_nor_missed() -> None:
    assert measurement(1.0, 2.0, None).met is None


def test_a_zero_baseline_gives_an_infinite_ratio_rather_than_an_error() -> None:
    assert measurement(1.0, 0.0, Goal("<=", 1.0)).ratio == float("inf")


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([3.0], 99) == 3.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_a_rate_needs_a_positive_duration() -> None:
    assert rate(300, 2.0) == 150.0
    with pytest.raises(ValueError):
        rate(1, 0.0)


def test_the_table_and_markdown_show_every_row_and_failure() -> None:
    result = report(measurement(70.0, 100.0, Goal(">=", 0.7)), measurement(5.0, 1.0, None))
    console = Console(record=True, width=200)
    console.print(table(result))
    text = console.export_text()
    assert "synthetic" in text and "met" in text and "broken" in text
    md = markdown(result)
    assert md.count("\n| synthetic |") == 2
    assert "| 0.70 | ≥ 0.7 | met |" in md


def test_saving_writes_a_stamped_file_and_latest_with_the_machine(tmp_path: Path) -> None:
    result = report(measurement(26.0, 13.0, Goal("<=", 2.0)))
    stamped = save(result, tmp_path)
    assert stamped.name == "20261126T120000Z.json"
    body = json.loads((tmp_path / "latest.json").read_text())
    assert body == json.loads(stamped.read_text())
    [row] = body["measurements"]
    assert row["ratio"] == pytest.approx(2.0)
    assert row["met"] is True
    assert row["goal"] == {"op": "<=", "value": 2.0}
    machine = body["machine"]
    assert {"cpu_model", "cores", "memory_gib", "python", "temporalio"} <= machine.keys()
    assert machine["cores"] >= 1
