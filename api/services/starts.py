"""Starting cycles: the cycle's row first, in its own short transaction; then its workflow.

1. Temporal is asked whether it answers; if not, nothing is written and the start is 503.
2. The row (status `starting`) and its `cycle.created` audit event commit together. No
   transaction stays open while Temporal answers, so starts overlap and other writers don't
   queue behind them.
3. `start_workflow` runs outside any transaction. Starting twice is harmless: the id is fixed
   (`cycle/{committee}/{year}`) and Temporal refuses a second workflow with it unless the
   previous run ended without closing the cycle (failed, terminated, timed out). Then a new
   run resumes it: its input carries every task the database holds for the cycle
   (api/services/resume.py), and the resume is audited (`cycle.resumed`).
4. Once Temporal has the workflow (started now, or already there), the row becomes `running`.

If Temporal fails between 2 and 4, the start is 503 and the row stays `starting`: the cycle
does not claim to run, GET /cycles says so, and the next start of it (POST /cycles with any
Idempotency-Key, a bulk start, the yearly Schedule) starts the workflow and marks the row.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.db import Sessions, run_unit_of_work
from api.models import Committee, Cycle, CycleState, TemplateRow, utcnow
from api.problems import Conflict, NotFound, Unavailable, Unprocessable
from api.schemas import CyclePublic, YearCyclesStarted
from api.services import committees, cycles, resume, stuck
from api.services.access import Action, Principal, authorize, require, scope_for
from api.services.audit import append_audit
from api.services.templates import template_for_cycle, template_of
from domain.contracts import (
    SEARCH_ATTRIBUTES,
    WORKFLOW_NAME,
    CommitteeLevel,
    CycleInput,
    cycle_workflow_id,
)
from domain.default_templates import CODE as DEFAULT_CODE
from domain.template import Template

log = logging.getLogger(__name__)

STARTING, RUNNING = CycleState.STARTING.value, CycleState.RUNNING.value


@dataclass(frozen=True)
class Starter:
    """What starting a workflow needs: sessions, the Temporal client and the task queue."""

    sessions: Sessions
    client: Client
    task_queue: str
    search_attributes: bool = False  # the namespace has SEARCH_ATTRIBUTES registered
    wait_seconds: float = 30.0
    template_code: str = DEFAULT_CODE


@dataclass(frozen=True)
class RecordedCycle:
    """A committee's committed cycle row, and the input its workflow starts with."""

    cycle: Cycle
    committee: Committee
    template: TemplateRow
    cycle_input: CycleInput


async def record_cycles(
    *, session: AsyncSession, targets: Sequence[Committee], year: int,
    seconds_per_day: float | None, actor: str, parsed: dict[int, Template],
    template_code: str = DEFAULT_CODE,
) -> list[RecordedCycle]:
    """Each committee's cycle row for the year: an existing one as it is, a missing one created
    `starting` with the version of `template_code` in force for the year, and audited.
    `parsed` caches templates by row id."""
    found = await session.scalars(
        select(Cycle).where(Cycle.year == year, Cycle.committee_id.in_([c.id for c in targets]))
    )
    existing = {cycle.committee_id: cycle for cycle in found}
    # A cycle whose workflow ended without closing it resumes from what it recorded.
    seeded = await resume.seeds(session=session, cycles=list(existing.values()))
    current: TemplateRow | None = None
    recorded = []
    for committee in targets:
        cycle = existing.get(committee.id)
        if cycle is None:
            current = current or await template_for_cycle(
                session=session, code=template_code, year=year
            )
            template = current
            cycle = Cycle(
                workflow_id=cycle_workflow_id(committee.code, year), committee_id=committee.id,
                year=year, template_id=template.id, seconds_per_day=seconds_per_day,
                status=STARTING,
            )
            session.add(cycle)
            await session.flush()
            await append_audit(
                session=session, actor=actor, action="cycle.created", subject=cycle.workflow_id,
                payload={"committee": committee.code, "year": year, "template": template.code,
                         "template_version": template.version,
                         "seconds_per_day": seconds_per_day},
            )
        else:
            row = await session.get(TemplateRow, cycle.template_id)
            assert row is not None
            template = row
        if template.id not in parsed:
            parsed[template.id] = template_of(template)
        seed = seeded.get(cycle.id)
        origin = await resume.last_recorded(session=session, cycle=cycle) if (
            seed and cycle.seconds_per_day is not None) else None
        cycle_input = CycleInput(
            committee=committee.code, year=year, committee_level=CommitteeLevel(committee.level),
            template=parsed[template.id], seconds_per_day=cycle.seconds_per_day,
            calendar_origin=origin, seed=seed,
        )
        recorded.append(RecordedCycle(cycle, committee, template, cycle_input))
    return recorded


async def temporal_unanswered(starter: Starter) -> str | None:
    """Why Temporal cannot take a start now, or None if it answers its health check: asked
    before anything is written. A refused connection fails at once; a slow server (a loaded
    machine) is given the start's own deadline, not a shorter one of the probe's."""
    seconds = starter.wait_seconds
    try:
        async with asyncio.timeout(seconds):
            if await starter.client.service_client.check_health(
                timeout=timedelta(seconds=seconds)
            ):
                return None
            return "Temporal answers but reports itself unhealthy"
    except TimeoutError:
        log.warning("Temporal did not answer its health check within %.0f s", seconds)
        return f"Temporal did not answer within {seconds:.0f} s"
    except RPCError as exc:
        if exc.status == RPCStatusCode.DEADLINE_EXCEEDED:
            log.warning("Temporal did not answer its health check within %.0f s", seconds)
            return f"Temporal did not answer within {seconds:.0f} s"
        log.info("Temporal refused its health check: %r", exc)
        return "Temporal is unreachable"
    except Exception as exc:  # a refused connection: RuntimeError from the client's connect
        log.info("Temporal is unreachable: %r", exc)
        return "Temporal is unreachable"


COMMITTEE_ID = SearchAttributeKey.for_keyword("CommitteeId")
COMMITTEE_LEVEL = SearchAttributeKey.for_keyword("CommitteeLevel")
CYCLE_YEAR = SearchAttributeKey.for_int("CycleYear")


def search_attributes(recorded: RecordedCycle) -> TypedSearchAttributes:
    """The cycle's committee, level and year, as SEARCH_ATTRIBUTES names them."""
    assert {k.name for k in (COMMITTEE_ID, COMMITTEE_LEVEL, CYCLE_YEAR)} == set(SEARCH_ATTRIBUTES)
    return TypedSearchAttributes([
        SearchAttributePair(COMMITTEE_ID, recorded.committee.code),
        SearchAttributePair(COMMITTEE_LEVEL, recorded.committee.level),
        SearchAttributePair(CYCLE_YEAR, recorded.cycle.year),
    ])


async def launch(starter: Starter, recorded: RecordedCycle) -> bool:
    """Start the workflow; False if Temporal already has it. 503 if Temporal does not answer;
    409 if it would resume a cycle whose last run ended moments ago with recordings in flight
    (a resume seeded before they land would take them for undone)."""
    cycle = recorded.cycle
    if recorded.cycle_input.seed:
        landing = await resume.still_landing(
            client=starter.client, workflow_id=cycle.workflow_id,
            wait_seconds=starter.wait_seconds,
        )
        if landing is not None:
            detail, until = landing
            wait = max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))
            raise Conflict(
                detail, headers={"Retry-After": str(wait)}, cycle_id=cycle.id,
                workflow_id=cycle.workflow_id, resume_after=until.isoformat(),
            )
    try:
        async with asyncio.timeout(starter.wait_seconds):
            handle = await starter.client.start_workflow(
                WORKFLOW_NAME, recorded.cycle_input, id=cycle.workflow_id,
                task_queue=starter.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                search_attributes=search_attributes(recorded) if starter.search_attributes
                else None,
                static_summary=f"{recorded.committee.name}: năm công tác {cycle.year}",
                static_details=(
                    f"Chu kỳ năm {cycle.year} của {recorded.committee.name} "
                    f"(mã {recorded.committee.code}, cấp {recorded.committee.level}), mẫu "
                    f"{recorded.template.code} phiên bản {recorded.template.version}."
                ),
            )
    except WorkflowAlreadyStartedError:
        return False
    except (RPCError, RuntimeError, TimeoutError) as exc:
        log.warning("could not start %s: %r", cycle.workflow_id, exc)
        kept = " (the cycle is recorded as starting; start it again)" if (
            cycle.status == STARTING) else ""
        raise Unavailable(
            f"Temporal did not answer; the workflow of cycle {cycle.workflow_id} was not "
            f"started{kept}", cycle_id=cycle.id, workflow_id=cycle.workflow_id,
            cycle_status=cycle.status,
        ) from exc
    if recorded.cycle_input.seed:
        await _resumed(starter, recorded, run_id=handle.result_run_id)
    return True


async def _resumed(starter: Starter, recorded: RecordedCycle, *, run_id: str | None) -> None:
    """Audit a resume (a new run seeded with what earlier runs recorded) and forget the earlier
    run's refusals. The run is started already: a failure here is logged, not answered."""
    cycle, seed = recorded.cycle, recorded.cycle_input.seed or []
    log.warning("cycle %s resumed in run %s from %d recorded tasks",
                cycle.workflow_id, run_id, len(seed))

    async def work(session: AsyncSession) -> None:
        await stuck.clear(session=session, workflow_id=cycle.workflow_id)
        await append_audit(
            session=session, actor="yearwheel", action="cycle.resumed",
            subject=cycle.workflow_id,
            payload={"run_id": run_id, "tasks": len(seed),
                     "closed": sum(1 for s in seed if s.closed_at is not None),
                     "calendar_origin": (
                         recorded.cycle_input.calendar_origin.isoformat()
                         if recorded.cycle_input.calendar_origin else None)},
        )

    try:
        await run_unit_of_work(starter.sessions, work)
    except Exception as exc:
        log.error("cycle %s resumed, but the resume was not audited: %r", cycle.workflow_id, exc)


async def mark_running(sessions: Sessions, cycle_ids: Sequence[int]) -> dict[int, Cycle]:
    """Temporal has these cycles' workflows: `starting` rows become `running`, started now (a
    row the workflow closed meanwhile stays closed). Returns the rows as they now are."""

    async def work(session: AsyncSession) -> dict[int, Cycle]:
        await session.execute(
            update(Cycle)
            .where(Cycle.id.in_(cycle_ids), Cycle.status == STARTING)
            .values(status=RUNNING, started_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        rows = await session.scalars(select(Cycle).where(Cycle.id.in_(cycle_ids)))
        return {row.id: row for row in rows}

    return await run_unit_of_work(sessions, work)


async def _start_one(
    starter: Starter, *, committee: Committee, year: int, seconds_per_day: float | None,
    actor: str,
) -> tuple[CyclePublic, bool]:
    """Row, then workflow, then the row marked running; each step its own transaction."""
    reason = await temporal_unanswered(starter)
    if reason is not None:
        raise Unavailable(
            f"{reason}; cycle {cycle_workflow_id(committee.code, year)} was not started and "
            "nothing was written"
        )
    parsed: dict[int, Template] = {}

    async def work(session: AsyncSession) -> list[RecordedCycle]:
        return await record_cycles(
            session=session, targets=[committee], year=year, seconds_per_day=seconds_per_day,
            actor=actor, parsed=parsed, template_code=starter.template_code,
        )

    [recorded] = await run_unit_of_work(starter.sessions, work)
    started = await launch(starter, recorded)
    cycle = recorded.cycle
    if cycle.status == STARTING:
        cycle = (await mark_running(starter.sessions, [cycle.id]))[cycle.id]
    return cycles.to_public(cycle, committee, recorded.template), started


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
    run = _YearStart(starter, year=year, seconds_per_day=seconds_per_day, actor=principal.name,
                     concurrency=concurrency, committees=len(targets))
    await run.start(targets)
    run.outcome.failures.sort()
    return run.outcome


class _YearStart:
    """A bulk start as a pipeline: rows are recorded a batch (`concurrency` committees) per
    transaction, at most one batch ahead of the workflows being started, `concurrency` at
    once; started rows are marked running a batch per transaction. After a start fails,
    Temporal is asked again before more rows are written; if it does not answer, the rest
    are counted failed with nothing written."""

    def __init__(
        self, starter: Starter, *, year: int, seconds_per_day: float | None, actor: str,
        concurrency: int, committees: int,
    ) -> None:
        self.starter, self.year, self.seconds_per_day, self.actor = (
            starter, year, seconds_per_day, actor)
        self.batch = max(1, concurrency)
        self.gate = asyncio.Semaphore(self.batch)
        self.outcome = YearCyclesStarted(year=year, committees=committees, started=0,
                                         existing=0, failed=0)
        self.parsed: dict[int, Template] = {}
        self.to_mark: list[tuple[RecordedCycle, bool]] = []
        self.unanswered = False  # a start failed since Temporal last answered
        self.in_flight: set[asyncio.Task[None]] = set()

    def fail(self, committee: Committee, reason: object) -> None:
        self.outcome.failed += 1
        self.outcome.failures.append(f"{committee.code}: {reason}")

    def count(self, started: bool) -> None:
        if started:
            self.outcome.started += 1
        else:
            self.outcome.existing += 1

    async def start(self, targets: list[Committee]) -> None:
        try:
            await self._pipeline(targets)
        finally:  # cancelled: so are the starts; their rows stay `starting`, which is true
            for task in list(self.in_flight):
                task.cancel()

    async def _pipeline(self, targets: list[Committee]) -> None:
        in_flight = self.in_flight
        for first in range(0, len(targets), self.batch):
            batch = targets[first:first + self.batch]
            await self.mark()
            reason = (
                await temporal_unanswered(self.starter) if first == 0 or self.unanswered else None
            )
            if reason is not None:
                for committee in targets[first:]:
                    self.fail(committee, f"{reason}; not started, nothing written")
                break
            self.unanswered = False
            for recorded in await self.record_batch(batch):
                task = asyncio.create_task(self.start_one(recorded))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            while len(in_flight) > self.batch:  # keep the rows at most one batch ahead
                await asyncio.wait(set(in_flight), return_when=asyncio.FIRST_COMPLETED)
        if in_flight:
            await asyncio.wait(set(in_flight))
        await self.mark()

    async def record_batch(self, batch: list[Committee]) -> list[RecordedCycle]:
        async def work(session: AsyncSession) -> list[RecordedCycle]:
            return await record_cycles(
                session=session, targets=batch, year=self.year,
                seconds_per_day=self.seconds_per_day, actor=self.actor, parsed=self.parsed,
                template_code=self.starter.template_code,
            )

        try:
            return await run_unit_of_work(self.starter.sessions, work)
        except Exception as exc:
            log.warning("bulk start of %d cycles of %s failed: %r", len(batch), self.year, exc)
            for committee in batch:
                self.fail(committee, f"its cycle could not be recorded: {exc}")
            return []

    async def start_one(self, recorded: RecordedCycle) -> None:
        async with self.gate:
            try:
                started = await launch(self.starter, recorded)
            except Exception as exc:
                self.unanswered = True
                self.fail(recorded.committee, exc)
                return
        if recorded.cycle.status == STARTING:
            self.to_mark.append((recorded, started))
        else:
            self.count(started)

    async def mark(self) -> None:
        marking, self.to_mark = self.to_mark, []
        if not marking:
            return
        try:
            await mark_running(self.starter.sessions, [r.cycle.id for r, _ in marking])
        except Exception as exc:
            log.warning("could not mark %d started cycles running: %r", len(marking), exc)
            for recorded, _ in marking:
                self.fail(recorded.committee,
                          f"its workflow runs but its row is still starting: {exc}")
            return
        for _, started in marking:
            self.count(started)
