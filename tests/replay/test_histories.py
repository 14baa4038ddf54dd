"""The saved histories of real cycles replay on today's code and re-derive what they recorded.

A change to the workflow that would break a running cycle fails here: regenerate nothing to
make it pass; put the change behind `workflow.patched()` (see tests/replay/README.md).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from api.services.history import EntryKind, cycle_input, load, timeline
from api.services.history.state import fold
from api.services.replay import replay
from api.services.resume import in_flight
from domain.contracts import ItemState
from domain.template import Rung
from workflows import WORKFLOWS
from workflows.sandbox import workflow_runner

HISTORIES = Path(__file__).parent / "histories"
SAVED = sorted(HISTORIES.glob("*.json"))
EXPECTED = {"on-time", "late", "late-running", "extended", "extended-before-withdrawal-patch",
            "waived", "roster-consolidation", "late-before-rung-patch", "resumed",
            "extended-unopened", "calendar-1751"}


def saved(name: str) -> WorkflowHistory:
    return load((HISTORIES / f"{name}.json").read_text())


def test_every_kind_of_cycle_is_saved() -> None:
    assert {path.stem for path in SAVED} == EXPECTED


async def test_the_replayer_replays_them_all_on_todays_code() -> None:
    async def histories() -> AsyncIterator[WorkflowHistory]:
        for path in SAVED:
            yield load(path.read_text())

    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    assert dict(results.replay_failures) == {}


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
async def test_replay_rederives_the_recorded_outcome(path: Path) -> None:
    report = await replay(saved(path.stem))
    assert report.replays, report.error
    assert report.rederived is not None and report.differences == []
    assert report.agrees
    expected_from = "history" if path.stem == "late-running" else "result"
    assert report.recorded_from == expected_from
    tasks = {"roster-consolidation": 11, "calendar-1751": 9}  # the 1751 standing year: no roster
    assert len(report.recorded) == tasks.get(path.stem, 10)


async def test_the_patch_changes_what_an_extension_records_and_both_versions_replay() -> None:
    before, after = saved("extended-before-withdrawal-patch"), saved("extended")
    old, new = timeline(before), timeline(after)
    assert [e for e in old.entries if e.kind is EntryKind.CODE_PATCHED] == []
    assert [e.details["patch"] for e in new.entries if e.kind is EntryKind.CODE_PATCHED] == [
        "withdraw-rungs-on-extension"
    ]
    assert [e.rung for e in old.entries if e.kind is EntryKind.RUNG_WITHDRAWN] == []
    withdrawn = [e for e in new.entries if e.kind is EntryKind.RUNG_WITHDRAWN]
    assert [(e.key, e.rung, str(e.due_on), str(e.new_due_on)) for e in withdrawn] == [
        ("plan", r, f"{new.year}-01-31", f"{new.year}-03-15")
        for r in ("reminder", "overdue", "parent")
    ]
    assert {e.actor for e in withdrawn} == {"supervisor-demo"}
    for history in (before, after):
        report = await replay(history)
        assert report.agrees, report
    assert [i.state for i in (await replay(before)).recorded] == [
        i.state for i in (await replay(after)).recorded
    ]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git for the old workflow code")
async def test_the_code_before_the_patch_cannot_replay_a_patched_history() -> None:
    from tests.replay.make_histories import LEGACY, legacy_workflows

    _, revision = LEGACY["extended-before-withdrawal-patch"]
    try:
        old_code = legacy_workflows(revision)
    except subprocess.CalledProcessError:
        pytest.skip(f"this clone does not hold revision {revision}")
    report = await replay(saved("extended"), workflows=old_code)
    assert not report.replays and not report.agrees
    assert report.error_type == "NondeterminismError", report.error
    assert report.rederived is None


async def test_a_resumed_run_takes_over_what_the_ended_run_recorded() -> None:
    history = saved("resumed")
    seeded = cycle_input(history)
    assert seeded is not None and seeded.seed is not None
    assert {s.key: (s.state, s.rungs) for s in seeded.seed} == {
        "plan": (ItemState.OVERDUE, [Rung.REMINDER, Rung.OVERDUE]),
        "disseminate": (ItemState.OPEN, []), "review": (ItemState.WAIVED, []),
    }
    entries = timeline(history).entries
    opened = {e.key for e in entries if e.kind is EntryKind.TASK_OPENED}
    assert opened.isdisjoint({"plan", "disseminate", "review"})
    assert [e.rung for e in entries if e.key == "plan" and e.kind is EntryKind.RUNG_REACHED] == [
        Rung.PARENT
    ]
    state = {i.key: i for i in fold(timeline(history), seeded).items}
    assert (state["plan"].state, state["plan"].rung, state["plan"].extensions) == (
        ItemState.COMPLETED, Rung.PARENT, 1)
    assert (state["review"].state, state["review"].closed_by) == (
        ItemState.WAIVED, "supervisor-demo")
    report = await replay(history)
    assert report.agrees and report.recorded_from == "result", report


def test_the_recordings_a_run_had_in_flight_are_those_never_answered() -> None:
    history = saved("late-running")
    assert in_flight(history) == []
    last = max(i for i, e in enumerate(history.events)
               if e.HasField("activity_task_completed_event_attributes"))
    scheduled_id = history.events[last].activity_task_completed_event_attributes.scheduled_event_id
    cut = WorkflowHistory(history.workflow_id, history.events[:last])
    name = next(e.activity_task_scheduled_event_attributes.activity_type.name
                for e in history.events if e.event_id == scheduled_id)
    assert in_flight(cut) == [name]


async def test_the_1751_calendar_keeps_its_levels_dates_and_skips_a_body_reached() -> None:
    history = saved("calendar-1751")
    cycle = cycle_input(history)
    assert cycle is not None
    assert (cycle.template.code, cycle.template.version, cycle.committee_level.value) == (
        "cv-1751", 2, "upper")
    read = timeline(history)
    patches = {e.details["patch"] for e in read.entries if e.kind is EntryKind.CODE_PATCHED}
    assert {"committee-level-dates", "skip-rung-reaching-a-body-already-reached"} <= patches
    assert [e.rung for e in read.entries
            if e.kind is EntryKind.RUNG_REACHED and e.key == "plan"] == [
        Rung.REMINDER, Rung.OVERDUE, Rung.PARENT]
    state = fold(read, cycle)
    items = {i.key: i for i in state.items}
    y = cycle.year
    assert "roster" not in items
    assert str(items["report-h1"].due_on) == f"{y}-06-25"  # the upper committee's date
    assert items["report-h1"].title_vi == (
        f"Báo cáo kết quả hoạt động của đội ngũ báo cáo viên 6 tháng đầu năm {y}")
    assert {i.state for i in items.values()} == {ItemState.COMPLETED}
    assert [k for k, i in items.items() if i.late] == ["plan"]
    report = await replay(history)
    assert report.agrees, report
