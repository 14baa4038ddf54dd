"""Optional py-spy recording of the API and worker processes while a benchmark runs.

`python -m bench --profile` writes, per benchmark and process, py-spy's collapsed stacks
(`<bench>-<process>.txt`, loadable by speedscope or flamegraph tools) and a summary of where
the samples fell (`<bench>-<process>.top.txt`). Without py-spy on the PATH it does nothing.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Profiler:
    enabled: bool
    folder: Path
    rate: int = 100
    saved: list[Path] = field(default_factory=list)

    @contextmanager
    def record(self, name: str, pids: dict[str, int]) -> Iterator[None]:
        binary = py_spy() if self.enabled else None
        if binary is None:
            if self.enabled:
                print("--profile: py-spy is not installed; recording nothing", file=sys.stderr)
            yield
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        recorders: dict[Path, subprocess.Popen[bytes]] = {}
        for process, pid in pids.items():
            out = self.folder / f"{name}-{process}.txt"
            recorders[out] = subprocess.Popen(
                [binary, "record", "--pid", str(pid), "--rate", str(self.rate), "--format",
                 "raw", "--output", str(out), "--gil",
                 "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        try:
            yield
        finally:
            for out, proc in recorders.items():
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                if out.exists():
                    self.saved.append(out)
                    out.with_suffix(".top.txt").write_text(summarise(out))


def summarise(collapsed: Path, *, top: int = 30) -> str:
    """Where the samples fell: by innermost frame (self time) and by any frame (inclusive)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples", "", "self time:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "inclusive time:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"
