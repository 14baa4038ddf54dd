"""Starting cycles: the cycle row and the workflow, together.

Starting twice is harmless: the row is unique per committee and year, and Temporal refuses a
second workflow with the same id unless the previous run failed (then it is restarted).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.db import Sessions, run_unit_of_work
from api.models import Committee, Cycle, TemplateRow
from api.problems import Conflict, NotFound, Unavailable, Unprocessable
from api.schemas import CyclePublic, YearCyclesStarted
from api.services import committees, cycles
from api.services.access import Action, Principal, authorize, require, scope_for
from api.services.audit import append_audit
from api.services.templates import current_template, template_of
from domain.contracts import WORKFLOW_NAME, CommitteeLevel, CycleInput, cycle_workflow_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Starter:
    """What starting a workflow needs: sessions, the Temporal client and the task queue."""

    sessions: Sessions
    client: Client
    task_queue: str
    wait_seconds: float = 30.0


async def ensure_cycle(
    *, session: AsyncSession, committee: Committee, year: int, seconds_per_day: float | None,
    actor: str,
) -> tuple[Cycle, TemplateRow]:
    """The committee's cycle row for the year, created with the current template if missing."""
    cycle = await session.scalar(
        select(Cycle).where(Cycle.committee_id == committee.id, Cycle.year == year)
    )
    if cycle is not None:
        template = await session.get(TemplateRow, cycle.template_id)
        assert template is not None
        return cycle, template
    template = await current_template(session=session)
    cycle = Cycle(
        workflow_id=cycle_workflow_id(committee.code, year), committee_id=committee.id,
        year=year, template_id=template.id, seconds_per_day=seconds_per_day, status="running",
    )
    session.add(cycle)
    await session.flush()
    await append_audit(
        session=session, actor=actor, action="cycle.created", subject=cycle.workflow_id,
        payload={"committee": committee.code, "year": year, "template": template.code,
                 "template_version": template.version, "seconds_per_day": seconds_per_day},
    )
    return cycle, template


async def _start_workflow(starter: Starter, cycle: Cycle, cycle_input: CycleInput) -> bool:
    """Start the workflow; False if it already runs or ran. 503 if Temporal does not answer."""
    try:
        async with asyncio.timeout(starter.wait_seconds):
            await starter.client.start_workflow(
                WORKFLOW_NAME, cycle_input, id=cycle.workflow_id, task_queue=starter.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )
        return True
    except WorkflowAlreadyStartedError:
        return False
    except (RPCError, RuntimeError, TimeoutError) as exc:
        log.warning("could not start %s: %r", cycle.workflow_id, exc)
        raise Unavailable(
            f"Temporal is unreachable; cycle {cycle.workflow_id} was not started"
        ) from exc


async def _start_one(
    starter: Starter, *, committee: Committee, year: int, seconds_per_day: float | None,
    actor: str,
) -> tuple[CyclePublic, bool]:
    """Row and workflow in one transaction: if the start fails, nothing is written.

    The workflow's first recording may arrive before the commit; it then waits on the row's
    lock or loses the insert race and retries, and finds the row.
    """

    async def work(session: AsyncSession) -> tuple[CyclePublic, bool]:
        cycle, template = await ensure_cycle(
            session=session, committee=committee, year=year, seconds_per_day=seconds_per_day,
            actor=actor,
        )
        cycle_input = CycleInput(
            committee=committee.code, year=year, committee_level=CommitteeLevel(committee.level),
            template=template_of(template), seconds_per_day=cycle.seconds_per_day,
        )
        started = await _start_workflow(starter, cycle, cycle_input)
        return cycles.to_public(cycle, committee, template), started

    return await run_unit_of_work(starter.sessions, work)


async def start_cycle(
    *, starter: Starter, session: AsyncSession, principal: Principal, committee_code: str,
    year: int, seconds_per_day: float | None,
) -> tuple[CyclePublic, bool]:
    """Start a committee's cycle for a year; returns the cycle and whether this call started it."""
    committee = await committees.get_by_code(session=session, code=committee_code)
    missing = f"committee {committee_code!r} not found"
    if committee is None:
        raise NotFound(missing)
    await authorize(
        session=session, principal=principal, action=Action.START_CYCLES,
        committee_id=committee.id, missing=missing,
    )
    if committee.level == CommitteeLevel.ROOT:
        raise Unprocessable(f"{committee_code!r} is a root committee; it owes no cycle")
    if not committee.active:
        raise Conflict(f"committee {committee_code!r} is not active")
    await session.commit()
    return await _start_one(
        starter, committee=committee, year=year, seconds_per_day=seconds_per_day,
        actor=principal.name,
    )


async def start_year(
    *, starter: Starter, session: AsyncSession, principal: Principal, year: int,
    seconds_per_day: float | None, concurrency: int,
) -> YearCyclesStarted:
    """Start a cycle for every active non-root committee in reach; counts what happened."""
    require(principal, Action.START_CYCLES)
    scope = await scope_for(session=session, principal=principal, action=Action.START_CYCLES)
    assert scope is not None
    targets = await committees.active_non_root(session=session, scope=scope)
    await session.commit()
    gate = asyncio.Semaphore(concurrency)
    outcome = YearCyclesStarted(year=year, committees=len(targets), started=0, existing=0,
                                failed=0)

    async def one(committee: Committee) -> None:
        async with gate:
            try:
                _, started = await _start_one(
                    starter, committee=committee, year=year, seconds_per_day=seconds_per_day,
                    actor=principal.name,
                )
            except Exception as exc:
                log.warning("bulk start of %s/%s failed: %r", committee.code, year, exc)
                outcome.failed += 1
                outcome.failures.append(f"{committee.code}: {exc}")
                return
        if started:
            outcome.started += 1
        else:
            outcome.existing += 1

    await asyncio.gather(*(one(c) for c in targets))
    outcome.failures.sort()
    return outcome
