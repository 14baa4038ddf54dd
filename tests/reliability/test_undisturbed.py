"""The run every fault test compares with: the rehearsal cycle with nothing going wrong."""

from __future__ import annotations

import pytest

from tests.reliability.rehearsal import Recorded, expected_outcome

pytestmark = pytest.mark.reliability


async def test_an_undisturbed_cycle_ends_as_planned(undisturbed: Recorded) -> None:
    assert undisturbed.result == expected_outcome()
    assert undisturbed.duplicates == {}
    assert undisturbed.chain_ok
    assert undisturbed.counts["tasks"] == 6
    assert undisturbed.counts["submissions"] == 5
    assert undisturbed.counts["escalations"] == 8  # four rungs for each of the two late tasks
    assert undisturbed.counts["task_changes"] == 1
    assert undisturbed.notifications == {
        "task_opened": 6, "reminder": 2, "overdue": 2, "parent": 2, "board": 2, "task_waived": 1,
        "report_received": 2, "cycle_finished": 1,  # the 6-month report: parent and board
    }
