"""`python -m bench [--quick] [--only NAME ...]`: run the benchmarks, print and save the table."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console

from bench import inbox, latency, progression, punctuality, replay, scale
from bench.config import FULL, QUICK
from bench.harness import Bench, running_stack
from bench.profiling import Profiler
from bench.report import Measurement, Report, machine_info, markdown, now, save, show

Benchmark = Callable[[Bench], Awaitable[list[Measurement]]]

# In this order: replay reads the history progression leaves behind (or makes its own).
BENCHMARKS: dict[str, Benchmark] = {
    "progression": progression.run,
    "latency": latency.run,
    "inbox": inbox.run,
    "replay": replay.run,
    "punctuality": punctuality.run,
    "scale": scale.run,
}

console = Console(width=None if sys.stdout.isatty() else 150)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (about 2 min)")
    parser.add_argument(
        "--profile", action="store_true",
        help="record the API and worker with py-spy during each benchmark (needs py-spy)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the stack's folder (logs, databases)"
    )
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument(
        "--disk", action="store_true",
        help="keep the SQLite files in the system temp folder instead of /dev/shm (slower)",
    )
    return parser.parse_args(argv)


async def run_all(args: argparse.Namespace, state_dir: Path) -> Report:
    sizes = QUICK if args.quick else FULL
    names = args.only or list(BENCHMARKS)
    measurements: list[Measurement] = []
    failures: dict[str, str] = {}
    started_at, started = now(), time.monotonic()
    load_before = os.getloadavg()[0]
    if load_before > (os.cpu_count() or 1) / 2:
        console.print(
            f"[yellow]load average {load_before:.1f} on {os.cpu_count()} cores: other work is "
            "running, so the figures will be noisy; an idle machine gives steadier ratios[/]"
        )
    async with running_stack(state_dir, sizes) as bench:
        console.print(
            f"stack up in {time.monotonic() - started:.1f} s: Temporal "
            f"{bench.stack.temporal_address}, API {bench.stack.api_url}; logs {bench.log_dir}"
        )
        profiler = Profiler(enabled=args.profile, folder=state_dir / "profiles")
        for name in [n for n in BENCHMARKS if n in names]:
            console.print(f"[bold]{name}[/] …")
            began = time.monotonic()
            try:
                pids = {"api": bench.pid("api"), "worker": bench.pid("worker")}
                with profiler.record(name, pids):
                    rows = await BENCHMARKS[name](bench)
                bench.check_alive()
            except Exception as exc:
                failures[name] = f"{type(exc).__name__}: {exc}"
                console.print(f"[red]{name} failed[/]: {failures[name]}")
                traceback.print_exc()
                continue
            measurements.extend(rows)
            for row in rows:
                console.print(
                    f"  {row.metric}: ours {row.ours:.4g} {row.unit}, baseline "
                    f"{row.baseline:.4g}, ratio {row.ratio:.2f}"
                )
            console.print(f"  ({time.monotonic() - began:.0f} s)")
        if profiler.saved:
            console.print(f"profiles: {profiler.folder}")
    return Report(
        measurements=measurements, mode=sizes.mode,
        machine={
            **machine_info(
                storage="tmpfs (/dev/shm)" if str(state_dir).startswith("/dev/shm") else "disk"
            ),
            "load_average_1m_before": round(load_before, 2),
        },
        started_at=started_at, wall_seconds=time.monotonic() - started, failures=failures,
    )


def memory_folder(disk: bool) -> str | None:
    """/dev/shm when it is there: the dev server's SQLite file (rollback journal, a sync and a
    journal file per commit) then caps at about 250 starts/s instead of 60-90 on this disk,
    which is what lets 10,000 cycles fit in the time budget. Both sides of every ratio share it.
    """
    shm = Path("/dev/shm")
    if disk or not shm.is_dir() or not os.access(shm, os.W_OK):
        return None
    return str(shm)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    state_dir = Path(tempfile.mkdtemp(prefix="yearwheel-bench-", dir=memory_folder(args.disk)))
    keep = args.keep
    try:
        report = asyncio.run(run_all(args, state_dir))
    except Exception:
        traceback.print_exc()
        console.print(f"[red]the benchmark stack failed[/]; logs kept in {state_dir}")
        return 1
    keep = keep or bool(report.failures)
    if args.profile:
        keep = True
    show(report, console)
    if args.markdown:
        console.print(markdown(report), markup=False, highlight=False)
    path = save(report)
    console.print(f"saved {path} and {path.parent / 'latest.json'}")
    if keep:
        console.print(f"stack folder kept: {state_dir}")
    else:
        shutil.rmtree(state_dir, ignore_errors=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK's native runtime can abort at interpreter exit (TEMPORAL.md)
