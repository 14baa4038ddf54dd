"""Fault tests on real processes: the undisturbed run they compare with, and their figures.

Every test here is marked `reliability` (`make reliability` selects them; `make test` runs them
too). Each measured figure a test records is printed at the end of the run, for
docs/reliability.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from tests.reliability.rehearsal import Recorded, recorded, rehearsal
from tests.reliability.rig import running_stack

FIGURES: list[tuple[str, str, str]] = []
Figure = Callable[[str, object], None]  # the `figure` fixture: record(what, value)

# How long the API stays down in its outage test: a full 30 s under `make reliability`
# (the Makefile sets it), 10 s otherwise, so `make test` stays short.
API_OUTAGE_SECONDS = float(os.environ.get("YEARWHEEL_RELIABILITY_API_OUTAGE", "10"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for test, what, value in FIGURES:
        terminalreporter.write_line(f"{test} | {what} | {value}")


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Figure:
    """Record a measured figure under the test's name."""

    def record(what: str, value: object) -> None:
        shown = f"{value:.2f}" if isinstance(value, float) and value < 1 else (
            f"{value:.1f}" if isinstance(value, float) else str(value)
        )
        FIGURES.append((request.node.name, what, shown))

    return record


@pytest.fixture(scope="session")
async def undisturbed(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """The rehearsal cycle's rows when nothing goes wrong: what every faulted run must match."""
    async with running_stack(tmp_path_factory.mktemp("undisturbed")) as rig:
        async with rehearsal(rig.stack.api_url, rig.stack.database_url) as run:
            await run.finish()
        return await recorded(rig.stack.database_url)
