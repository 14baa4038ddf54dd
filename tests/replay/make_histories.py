"""Regenerate the saved histories in tests/replay/histories/ from real runs.

    .venv/bin/python -m tests.replay.make_histories            # every history
    .venv/bin/python -m tests.replay.make_histories late waived  # some of them

Each story (tests/replay/stories.py) runs on its own time-skipping server with the real API
(SQLite), worker and HTTP activities, driven through the API as people would; a whole year
takes a few seconds. The histories written are exactly `WorkflowHistory.to_json()`.

Histories named in LEGACY are recorded with the workflow as it was *before* a patch: the
script loads `workflows/cycle.py` from that git revision (with today's helper modules) and
runs the story on it, so the saved pair (before, after) proves both replay on today's code.
Regenerate only what a change to the stories needs: an old history must stay as it was
recorded, and a new one is recorded with the code of the day.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from temporalio.client import WorkflowHistory

from tests.replay.scenarios import next_year, stand, time_skipping
from tests.replay.stories import STORIES, STORY_TEMPLATES
from workflows import WORKFLOWS, OpenYear

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = Path(__file__).resolve().parent / "histories"

# history name -> (story, git revision whose workflows/cycle.py records it)
LEGACY: dict[str, tuple[str, str]] = {
    "extended-before-withdrawal-patch": ("extended", "fe8719a"),
    # Saved before the rung-recorded-before-change patch (recorded with the code before it).
    "late-before-rung-patch": ("late", "a5e5e16"),
}


def legacy_workflows(revision: str) -> list[type]:
    """The workflows with CommitteeCycle as `workflows/cycle.py` was at `revision`."""
    source = subprocess.run(
        ["git", "show", f"{revision}:workflows/cycle.py"], cwd=ROOT, check=True,
        capture_output=True, text=True,
    ).stdout
    directory = Path(tempfile.mkdtemp(prefix="yearwheel-legacy-"))
    name = f"legacy_cycle_{revision}"
    (directory / f"{name}.py").write_text(source)
    sys.path.insert(0, str(directory))  # the workflow sandbox imports the module by name
    module = importlib.import_module(name)
    return [module.CommitteeCycle, OpenYear]


async def record(story: str, *, workflows: list[type]) -> dict[str, WorkflowHistory]:
    async with time_skipping() as env:
        with tempfile.TemporaryDirectory() as directory:
            async with stand(env, Path(directory), workflows=workflows,
                             cycle_template=STORY_TEMPLATES.get(story, "default")) as ready:
                return await STORIES[story](ready, await next_year(env))


def save(name: str, history: WorkflowHistory, out: Path) -> Path:
    path = out / f"{name}.json"
    path.write_text(history.to_json() + "\n")
    return path


async def main(names: list[str], out: Path) -> None:
    wanted = set(names)
    for story in STORIES:
        if wanted and not (wanted & {story, *_produces(story)}):
            continue
        for name, history in (await record(story, workflows=list(WORKFLOWS))).items():
            print(f"{save(name, history, out)}: {len(history.events)} events")
    for name, (story, revision) in LEGACY.items():
        if wanted and name not in wanted:
            continue
        histories = await record(story, workflows=legacy_workflows(revision))
        print(f"{save(name, histories[story], out)}: {len(histories[story].events)} events "
              f"(workflows/cycle.py at {revision})")


def _produces(story: str) -> set[str]:
    return {f"{story}-running"} if story == "late" else set()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="histories to regenerate (default: all)")
    parser.add_argument("--out", type=Path, default=HISTORIES)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.names, args.out))
    sys.stdout.flush()
    os._exit(0)  # the SDK's runtime can abort at interpreter exit (sdk-python#300)
