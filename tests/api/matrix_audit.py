"""The permission matrix's requests for auditing: a cycle's history, timeline, state, replay and
cross-check, the audit log's verification, and the worker's rung withdrawals."""

from __future__ import annotations

from datetime import date, datetime

from domain.calendar import HCM
from domain.contracts import LadderStepWithdrawn, cycle_workflow_id
from domain.template import Rung
from tests.api.factories import ladder, record
from tests.api.matrix import SCRATCH, SCRATCH_YEAR, Builder, Call, World, scratch_task


def _of_cycle(method: str, what: str) -> Builder:
    async def build(world: World, role: str, place: str, succeeds: bool) -> Call:
        return Call(method, f"/cycles/{world.cycles[place]}/{what}")

    return build


async def _verify(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("GET", "/audit/verify")


async def _withdrawn(world: World, role: str, place: str, succeeds: bool) -> Call:
    """A task whose reminder was raised, and the extension's withdrawal of it."""
    first = scratch_task(next(world.serial))
    key, due = first.key, date(SCRATCH_YEAR, 1, 31)
    for path, event in (("tasks/opened", first),
                        ("ladder", ladder(SCRATCH, key, Rung.REMINDER, due_on=due,
                                          year=SCRATCH_YEAR))):
        arranged = await record(world.client, path, event)
        assert arranged.status_code in (200, 201), arranged.text
    event = LadderStepWithdrawn(
        workflow_id=cycle_workflow_id(SCRATCH, SCRATCH_YEAR), key=key, rung=Rung.REMINDER,
        due_on=due, new_due_on=date(SCRATCH_YEAR, 3, 15),
        at=datetime(SCRATCH_YEAR, 2, 1, tzinfo=HCM), actor="matrix-supervisor", reason="Gia hạn",
    )
    return Call("POST", "/internal/ladder/withdrawn", event.model_dump(mode="json"))


AUDIT_BUILDERS: dict[str, Builder] = {
    "GET /cycles/{cycle_id}/history": _of_cycle("GET", "history"),
    "GET /cycles/{cycle_id}/timeline": _of_cycle("GET", "timeline"),
    "GET /cycles/{cycle_id}/state": _of_cycle("GET", "state"),
    "POST /cycles/{cycle_id}/replay": _of_cycle("POST", "replay"),
    "GET /cycles/{cycle_id}/audit-check": _of_cycle("GET", "audit-check"),
    "GET /audit/verify": _verify,
    "POST /internal/ladder/withdrawn": _withdrawn,
}
