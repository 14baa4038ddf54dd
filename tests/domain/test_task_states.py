"""A task's level and state from its rungs: the one rule the recorder and history reader use."""

from __future__ import annotations

import pytest

from domain.contracts import ItemState
from domain.task_states import (
    CLOSED_STATES,
    OPEN_STATES,
    highest_rung,
    level_of,
    reached_already,
    state_of,
)
from domain.template import Rung


@pytest.mark.parametrize(("rungs", "rung", "level", "state"), [
    ([], None, 0, ItemState.OPEN),
    ([Rung.REMINDER], Rung.REMINDER, 0, ItemState.OPEN),
    ([Rung.REMINDER, Rung.OVERDUE], Rung.OVERDUE, 0, ItemState.OVERDUE),
    ([Rung.PARENT, Rung.REMINDER], Rung.PARENT, 1, ItemState.ESCALATED),
    ([Rung.BOARD, Rung.OVERDUE, Rung.PARENT], Rung.BOARD, 2, ItemState.ESCALATED),
])
def test_the_highest_standing_rung_gives_level_and_state(
    rungs: list[Rung], rung: Rung | None, level: int, state: ItemState
) -> None:
    highest = highest_rung(rungs)
    assert (highest, level_of(highest), state_of(highest)) == (rung, level, state)


def test_open_and_closed_states_part_every_state_but_pending() -> None:
    assert not OPEN_STATES & CLOSED_STATES
    assert OPEN_STATES | CLOSED_STATES | {ItemState.PENDING} == set(ItemState)


def test_a_board_rung_under_the_root_reaches_a_body_already_reached() -> None:
    assert reached_already(parent_id=1, root_id=1) == {Rung.BOARD}
    assert reached_already(parent_id=2, root_id=1) == frozenset()
    assert reached_already(parent_id=None, root_id=1) == frozenset()
