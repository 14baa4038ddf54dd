"""What a task's rungs make of it: its escalation level and its state, and which states are open.

One place for these rules: the recorder, the history reader and the task routes read them here.
(The workflow's own copies in workflows/items.py are to move here too.)
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.contracts import CLOSED_STATES, ItemState
from domain.template import RUNG_ORDER, Rung

__all__ = [
    "CLOSED_STATES", "OPEN_STATES", "highest_rung", "level_of", "reached_already", "state_of",
]

# A task someone can still act on: complete, extend or waive.
OPEN_STATES = frozenset({ItemState.OPEN, ItemState.OVERDUE, ItemState.ESCALATED})

_LEVEL = {Rung.REMINDER: 0, Rung.OVERDUE: 0, Rung.PARENT: 1, Rung.BOARD: 2}


def level_of(rung: Rung | None) -> int:
    """The escalation level a rung gives: 0 to the committee, 1 its parent, 2 the Board."""
    return _LEVEL[rung] if rung is not None else 0


def highest_rung(rungs: Iterable[Rung]) -> Rung | None:
    """The highest of the rungs still standing, or None."""
    return max(rungs, key=RUNG_ORDER.index, default=None)


def state_of(highest: Rung | None) -> ItemState:
    """The state of an unclosed task whose highest standing rung is `highest`."""
    if highest in (None, Rung.REMINDER):
        return ItemState.OPEN
    if highest is Rung.OVERDUE:
        return ItemState.OVERDUE
    return ItemState.ESCALATED


def reached_already(*, parent_id: int | None, root_id: int) -> frozenset[Rung]:
    """The rungs a parent rung makes needless: they would reach a body it has reached.

    For a committee directly under the root, the parent is the root itself: the parent rung
    tells the root (its supervisors and its Board together), and the Board rung is skipped.
    """
    return frozenset({Rung.BOARD}) if parent_id == root_id else frozenset()
