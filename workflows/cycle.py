"""CommitteeCycle: one committee's obligations for one year, as a durable workflow.

Every obligation runs as its own coroutine: it waits for its open day and its
prerequisites, asks the backend to open the task, then climbs its escalation ladder until
the task is completed or waived. Staff and supervisors act through updates; the status
query shows the whole year. Activities are called by method (mypy checks each call's argument); the
sandbox imports and checks every module here and in domain/ (workflows/sandbox.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.calendar import due_instant, ladder_for, obligations
from domain.contracts import (
    QUERY_STATUS,
    SIGNAL_ROSTER_CHANGED,
    UPDATE_COMPLETE,
    UPDATE_EXTEND,
    UPDATE_WAIVE,
    WORKFLOW_NAME,
    CompleteTask,
    CompletionRecorded,
    CycleClosed,
    CycleInput,
    CycleResult,
    CycleStatus,
    ExtendDeadline,
    ItemStatus,
    LadderStepRecorded,
    LadderStepWithdrawn,
    Recorded,
    RosterChanged,
    TaskChanged,
    TaskDescribed,
    TaskOpened,
    WaiveTask,
)
from domain.roster import CONSOLIDATE_ITEM_KEY, check_tally, consolidation
from domain.template import EvidenceKind
from workflows.clock import CalendarClock
from workflows.items import CycleItem
from workflows.rules import (
    check_changeable,
    check_evidence,
    check_extension,
    check_held_in_quarter,
    check_roster_rule,
    summarise,
)

with workflow.unsafe.imports_passed_through():
    # Not workflow code: imported for its activity methods' names and types (it imports httpx).
    from activities.backend import BackendActivities

Event = TypeVar("Event", bound=BaseModel)
# One recording an update makes, ready to run (and to run again after a failure).
Step = Callable[[], Awaitable[Recorded]]

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# An extension tells the backend which reached rungs it takes back (one activity per rung).
PATCH_WITHDRAW_RUNGS = "withdraw-rungs-on-extension"
# An extension waits for a rung being recorded before it decides which rungs it takes back.
PATCH_WITHDRAWALS_AFTER_RUNG = "withdrawals-after-rung-in-flight"
# An extension of a task not yet opened describes the task, so the backend can keep its row.
PATCH_DESCRIBE_UNOPENED = "describe-unopened-task-on-extension"
# A change waits for a rung being recorded, so the backend never hears of a rung after the
# completion, extension or waiver that should have settled it.
PATCH_RUNG_BEFORE_CHANGE = "rung-recorded-before-change"
# An activity that failed for good (cancelled, or a worker that still fails a refusal for good)
# is scheduled again after a wait: no answer from the backend fails the cycle.
PATCH_ACTIVITY_FAILURES_WAIT = "activity-failures-wait"
# A rung whose body an earlier rung reached (a committee directly under the root: parent and
# Board are one body) is skipped, as the backend answers when it records the earlier rung.
PATCH_SKIP_REACHED_BODY = "skip-rung-reaching-a-body-already-reached"
# A template that dates committee levels apart: the cycle keeps its committee's dates.
PATCH_LEVEL_DATES = "committee-level-dates"
FAILED_ACTIVITY_WAITS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
# Unlimited attempts: the activity retries every answer (a refusal with its own backoff).
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
)


@workflow.defn(name=WORKFLOW_NAME)
class CommitteeCycle:
    @workflow.init
    def __init__(self, cycle: CycleInput) -> None:
        self._input = cycle
        self._clock = CalendarClock.for_cycle(
            year=cycle.year,
            started=workflow.info().workflow_start_time,
            seconds_per_day=cycle.seconds_per_day,
            calendar_origin=cycle.calendar_origin,
        )
        self._items: dict[str, CycleItem] = {}
        self._coroutines: dict[str, asyncio.Task[None]] = {}
        self._failure: BaseException | None = None
        self._finished = False
        self._closing = False  # the result is decided: a roster signal can add nothing now
        self._consolidations = 0
        for obligation in obligations(cycle.template, cycle.year, self._dates_level(cycle)):
            self._add_item(
                CycleItem.create(
                    obligation,
                    cycle.template.item(obligation.item_key),
                    ladder_for(cycle.template, obligation.item_key),
                )
            )
        # A resumed cycle: nothing recorded is opened or raised again. No patch: an input
        # without a seed (every history before seeds existed) takes the same path as before.
        if cycle.seed:
            self._restore_seed(cycle)

    def _restore_seed(self, cycle: CycleInput) -> None:
        for seed in cycle.seed or ():
            item = self._items.get(seed.key)
            if item is None and seed.item_key == CONSOLIDATE_ITEM_KEY:
                obligation, template_item, steps = consolidation(
                    cycle.template, number=seed.occurrence, opens_on=seed.opens_on
                )
                item = self._add_item(CycleItem.create(obligation, template_item, steps))
                self._consolidations = max(self._consolidations, seed.occurrence)
            if item is None:
                workflow.logger.warning("resumed cycle: no item %r to restore", seed.key)
                continue
            item.restore(seed)

    @staticmethod
    def _dates_level(cycle: CycleInput) -> str | None:
        """The committee level whose dates the cycle keeps. Only a template that dates levels
        apart (`by_level`) asks, and only a cycle started under this patch takes them."""
        if any(item.by_level for item in cycle.template.items) and workflow.patched(
            PATCH_LEVEL_DATES
        ):
            return cycle.committee_level.value
        return None

    @workflow.run
    async def run(self, cycle: CycleInput) -> CycleResult:
        for item in self._items.values():
            self._start_item(item)
        await workflow.wait_condition(lambda: self._failure is not None or self._all_done())
        if self._failure is not None:
            if isinstance(self._failure, ActivityError):
                raise ApplicationError(
                    f"the backend refused a recording: {self._failure.cause or self._failure}",
                    type="RecordingRefused",
                    non_retryable=True,
                ) from self._failure
            raise self._failure
        self._closing = True
        result = self._result()
        await self._record(
            BackendActivities.close_cycle,
            CycleClosed(workflow_id=self._workflow_id, result=result, at=self._calendar_now()),
        )
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    # Items: added to a dict and started by key, so a signal can add one at runtime later.

    def _add_item(self, item: CycleItem) -> CycleItem:
        self._items[item.key] = item
        return item

    def _start_item(self, item: CycleItem, *, tracked_since: datetime | None = None) -> None:
        """Start an item's coroutine, once.

        An item whose open day is not before `tracked_since` (default: the calendar at the
        cycle's start) is opened as of that day; one whose day had passed, as of when it opens.
        """
        if item.key in self._coroutines:
            return
        since = tracked_since or self._clock.calendar_at(workflow.info().workflow_start_time)
        self._coroutines[item.key] = asyncio.create_task(self._run_item(item, since))

    def _all_done(self) -> bool:
        return all(item.closed for item in self._items.values()) and all(
            task.done() for task in self._coroutines.values()
        )

    async def _run_item(self, item: CycleItem, since: datetime) -> None:
        try:
            # A resumed cycle's task opened by an earlier run climbs on from where it stood.
            if item.opened_at is not None or await self._open(item, since):
                await self._climb(item)
        except Exception as error:  # surfaced by run(): an item must not fail silently
            self._failure = error

    async def _open(self, item: CycleItem, since: datetime) -> bool:
        """Wait for the open day and the prerequisites, then open the task; False if waived."""
        on_schedule = item.open_instant >= since
        if not await self._wait_until(item.open_instant, lambda: item.closed):
            return False
        opened_at: datetime | None = item.open_instant if on_schedule else None
        if not self._prerequisites_done(item):
            await workflow.wait_condition(lambda: item.closed or self._prerequisites_done(item))
            opened_at = None  # opens the moment its last prerequisite is done
        await workflow.wait_condition(lambda: item.change_in_flight is None)
        if item.closed:
            return False
        opened_at = opened_at or self._calendar_now()
        item.opening = True
        try:
            await self._record(BackendActivities.open_task, self._task_opened(item, opened_at))
        finally:
            item.opening = False
        item.mark_opened(opened_at)
        return True

    async def _climb(self, item: CycleItem) -> None:
        """Fire each rung at its instant until the task closes; a moved due date re-plans."""
        while not item.closed:
            version = item.plan_version

            def interrupted(version: int = version) -> bool:
                return item.closed or item.change_in_flight is not None or (
                    item.plan_version != version
                )

            if item.change_in_flight is not None:
                await workflow.wait_condition(lambda: item.change_in_flight is None)
                continue
            step = item.next_rung()
            if step is None:
                await workflow.wait_condition(interrupted)
                continue
            rung, instant = step
            if not await self._wait_until(instant, interrupted):
                continue
            assert item.opened_at is not None
            # `at` is when the rung fell due for this task, not when the backend heard of it.
            item.recording_rung = True
            try:
                recorded = await self._record(
                    BackendActivities.record_ladder_step,
                    LadderStepRecorded(
                        workflow_id=self._workflow_id, key=item.key, rung=rung,
                        due_on=item.due_on, at=max(instant, item.opened_at),
                    ),
                )
            finally:
                item.recording_rung = False
            item.rung_recorded(rung, plan_version=version, calendar_now=self._calendar_now())
            # Only a backend that says so asks the patch: older histories never carry it.
            if recorded.also_reached and workflow.patched(PATCH_SKIP_REACHED_BODY):
                item.skip(recorded.also_reached, reached_by=rung)

    async def _wait_until(self, instant: datetime, condition: Callable[[], bool]) -> bool:
        """Wait until the calendar reaches `instant` (True) or `condition` holds first (False)."""
        while not condition():
            remaining = self._clock.real_wait(instant, real_now=workflow.now())
            if remaining <= timedelta(0):
                return True
            try:
                await workflow.wait_condition(condition, timeout=remaining)
            except TimeoutError:
                continue
        return False

    def _prerequisites_done(self, item: CycleItem) -> bool:
        return all(self._items[key].closed for key in item.obligation.prerequisites)

    # Updates: validators reject before anything is written. Handlers check again and claim
    # the item before their first await: two updates can pass validators in one activation.

    @workflow.update(name=UPDATE_COMPLETE)
    async def complete_task(self, command: CompleteTask) -> ItemStatus:
        item = check_changeable(self._items, command.key, must_be_open=True, or_opening=True)
        if item.opening:  # its row exists; the activity result that opens it comes next
            await workflow.wait_condition(lambda: not item.opening)
            item = check_changeable(self._items, command.key, must_be_open=True)
        evidence = check_evidence(item, command.evidence)
        item.change_in_flight = "completing"
        completed_at = self._calendar_now()
        late = completed_at >= due_instant(item.due_on)
        event = CompletionRecorded(
            workflow_id=self._workflow_id, key=item.key, actor=command.actor,
            evidence=evidence.model_dump(mode="json"), submission_ref=command.submission_ref,
            completed_at=completed_at, late=late,
            # The task accepting the update; its UpdateAccepted event follows shortly after.
            event_id=workflow.info().get_current_history_length(),
        )
        await self._record_change(
                item, self._step(BackendActivities.record_completion, event)
            )
        item.complete(at=completed_at, actor=command.actor, late=late)
        if item.template_item.evidence is EvidenceKind.ROSTER:
            # Its validator held the team to the rules, so any open consolidation is done too.
            self._restore_roster(actor=command.actor, how={"by_task": item.key})
        return item.status()

    @complete_task.validator
    def _validate_complete(self, command: CompleteTask) -> None:
        item = check_changeable(self._items, command.key, must_be_open=True, or_opening=True)
        evidence = check_evidence(item, command.evidence)
        # Only here, not in the handler: validators do not run on replay, so a conference
        # accepted before this rule still replays.
        check_held_in_quarter(item, evidence, year=self._input.year)
        check_roster_rule(
            item, evidence, level=self._input.committee_level, template=self._input.template,
            team=command.team,
        )

    @workflow.update(name=UPDATE_EXTEND)
    async def extend_deadline(self, command: ExtendDeadline) -> ItemStatus:
        item = check_changeable(self._items, command.key, must_be_open=False)
        check_extension(item, command.new_due_on, cycle_year=self._input.year)
        item.change_in_flight = "extending"
        await workflow.wait_condition(lambda: not item.opening)
        if not workflow.patched(PATCH_WITHDRAW_RUNGS):
            event = self._extended(item, command, at=self._calendar_now())
            await self._record_change(
                item, self._step(BackendActivities.record_task_change, event)
            )
            item.extend(
                command.new_due_on, calendar_now=self._calendar_now(), reason=command.reason
            )
            return item.status()
        if workflow.patched(PATCH_WITHDRAWALS_AFTER_RUNG):
            # A rung being recorded is reached before the withdrawals are decided: the backend
            # raised it, so it is withdrawn like the others (the backend decides nothing).
            await workflow.wait_condition(lambda: not item.recording_rung)
        at = self._calendar_now()
        event = self._extended(item, command, at=at)
        if item.opened_at is None and workflow.patched(PATCH_DESCRIBE_UNOPENED):
            # The backend keeps a row for every task a person acted on, opened or not: this
            # one's stays pending until the task opens.
            event = event.model_copy(update={"task": self._task_described(item)})
        # Whoever an escalation reached hears that it is withdrawn, and the history says so.
        steps = [self._step(BackendActivities.record_task_change, event)]
        steps += [
            self._step(BackendActivities.withdraw_ladder_step, LadderStepWithdrawn(
                workflow_id=self._workflow_id, key=item.key, rung=rung, due_on=item.due_on,
                new_due_on=command.new_due_on, at=at, actor=command.actor, reason=command.reason,
            ))
            for rung in item.withdrawn_by(command.new_due_on, calendar_now=at)
        ]
        await self._record_change(item, *steps)
        item.extend(command.new_due_on, calendar_now=at, reason=command.reason)
        return item.status()

    def _extended(self, item: CycleItem, command: ExtendDeadline, *, at: datetime) -> TaskChanged:
        return TaskChanged(
            workflow_id=self._workflow_id, key=item.key, change="extended", actor=command.actor,
            reason=command.reason, at=at,
            new_due_on=command.new_due_on, previous_due_on=item.due_on,
        )

    @extend_deadline.validator
    def _validate_extend(self, command: ExtendDeadline) -> None:
        item = check_changeable(self._items, command.key, must_be_open=False)
        check_extension(item, command.new_due_on, cycle_year=self._input.year)

    @workflow.update(name=UPDATE_WAIVE)
    async def waive_task(self, command: WaiveTask) -> ItemStatus:
        item = check_changeable(self._items, command.key, must_be_open=False)
        item.change_in_flight = "waiving"
        await workflow.wait_condition(lambda: not item.opening)
        at = self._calendar_now()
        event = TaskChanged(
            workflow_id=self._workflow_id, key=item.key, change="waived", actor=command.actor,
            reason=command.reason, at=at,
        )
        steps = [self._step(BackendActivities.record_task_change, event)]
        if item.opened_at is None:
            # The backend keeps a row for every task a person acted on, opened or not.
            steps.insert(0, self._step(BackendActivities.open_task, self._task_opened(item, at)))
        await self._record_change(item, *steps)
        if item.opened_at is None:
            item.mark_opened(at)
        item.waive(at=at, actor=command.actor, reason=command.reason)
        return item.status()

    @waive_task.validator
    def _validate_waive(self, command: WaiveTask) -> None:
        check_changeable(self._items, command.key, must_be_open=False)

    async def _record_change(self, item: CycleItem, *steps: Step) -> None:
        """Record a claimed change, step by step; release the claim whatever happens."""
        try:
            if workflow.patched(PATCH_RUNG_BEFORE_CHANGE):
                await workflow.wait_condition(lambda: not item.recording_rung)
            for step in steps:
                await step()
        except ActivityError as error:
            cause = error.cause
            raise ApplicationError(
                f"the backend did not record the change to {item.key!r}: {cause or error}",
                type=cause.type if isinstance(cause, ApplicationError) else "RecordingFailed",
                non_retryable=True,
            ) from error
        finally:
            item.change_in_flight = None

    # The roster as a living rule: a reporter leaving can open a task; the rule holding closes it.

    @workflow.signal(name=SIGNAL_ROSTER_CHANGED)
    def roster_changed(self, change: RosterChanged) -> None:
        """Open a consolidation when the team breaks the rules; close it once they hold."""
        if self._closing:
            workflow.logger.warning("cycle is closing; roster change ignored: %s", change)
            return
        cycle = self._input
        if check_tally(cycle.committee_level, change.team, cycle.template):
            if not self._open_consolidations():
                self._open_consolidation()
            return
        self._restore_roster(
            actor=change.actor,
            how={"change": change.change, "reporter": change.reporter,
                 "reporters_active": change.team.total,
                 "committee_members": change.team.committee_members},
        )

    def _open_consolidations(self) -> list[CycleItem]:
        return [
            item for item in self._items.values()
            if item.obligation.item_key == CONSOLIDATE_ITEM_KEY and not item.closed
        ]

    def _open_consolidation(self) -> None:
        self._consolidations += 1
        now = self._calendar_now()
        obligation, template_item, steps = consolidation(
            self._input.template, number=self._consolidations, opens_on=now.date()
        )
        item = self._add_item(CycleItem.create(obligation, template_item, steps))
        self._start_item(item, tracked_since=now)

    def _restore_roster(self, *, actor: str, how: dict[str, object]) -> None:
        """Close every open consolidation, each in its own coroutine."""
        for item in self._open_consolidations():
            key = f"restore/{item.key}"
            if key not in self._coroutines:
                self._coroutines[key] = asyncio.create_task(self._restore(item, actor, how))

    async def _restore(self, item: CycleItem, actor: str, how: dict[str, object]) -> None:
        """Complete a consolidation once nothing else is changing it; the rule holds again."""
        try:
            await workflow.wait_condition(
                lambda: item.closed or (
                    item.is_open and item.change_in_flight is None and not item.opening
                )
            )
            if item.closed:
                return
            item.change_in_flight = "completing"
            completed_at = self._calendar_now()
            late = completed_at >= due_instant(item.due_on)
            event = CompletionRecorded(
                workflow_id=self._workflow_id, key=item.key, actor=actor,
                evidence={"kind": "roster-restored", **how},
                submission_ref=f"roster-restored/{workflow.uuid4()}",
                completed_at=completed_at, late=late,
                event_id=workflow.info().get_current_history_length(),
            )
            await self._record_change(
                item, self._step(BackendActivities.record_completion, event)
            )
            item.complete(at=completed_at, actor=actor, late=late)
        except Exception as error:  # surfaced by run(), like an item's own failure
            self._failure = error

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> CycleStatus:
        cycle = self._input
        return CycleStatus(
            committee=cycle.committee, year=cycle.year,
            template_code=cycle.template.code, template_version=cycle.template.version,
            calendar_now=self._calendar_now(), finished=self._finished,
            items=[item.status() for item in self._items.values()],
        )

    # Helpers.

    @property
    def _workflow_id(self) -> str:
        return workflow.info().workflow_id

    def _calendar_now(self) -> datetime:
        return self._clock.calendar_at(workflow.now())

    def _step(
        self, activity: Callable[[BackendActivities, Event], Awaitable[Recorded]], event: Event
    ) -> Step:
        return lambda: self._record(activity, event)

    async def _record(
        self, activity: Callable[[BackendActivities, Event], Awaitable[Recorded]], event: Event
    ) -> Recorded:
        """Record an event; an activity that fails for good is scheduled again after a wait,
        loudly, so that the cycle waits for whoever fixes the backend instead of failing."""
        failures = 0
        while True:
            try:
                return await workflow.execute_activity_method(
                    activity, event,
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY,
                )
            except ActivityError as error:
                if not workflow.patched(PATCH_ACTIVITY_FAILURES_WAIT):
                    raise
                wait = FAILED_ACTIVITY_WAITS[min(failures, len(FAILED_ACTIVITY_WAITS) - 1)]
                failures += 1
                workflow.logger.error(
                    "cycle %s: %s failed (%s); trying again in %s",
                    self._workflow_id, getattr(activity, "__name__", activity),
                    error.cause or error, wait,
                )
                await workflow.sleep(wait)

    def _task_opened(self, item: CycleItem, opened_at: datetime) -> TaskOpened:
        return TaskOpened(**dict(self._task_described(item)), opened_at=opened_at)

    def _task_described(self, item: CycleItem) -> TaskDescribed:
        template_item = item.template_item
        return TaskDescribed(
            workflow_id=self._workflow_id, committee=self._input.committee,
            year=self._input.year, key=item.key, item_key=item.obligation.item_key,
            occurrence=item.obligation.occurrence, stage=template_item.stage,
            evidence=template_item.evidence, title_vi=item.obligation.title_vi,
            title_en=item.obligation.title_en, opens_on=item.obligation.opens_on,
            due_on=item.due_on, template_code=self._input.template.code,
            template_version=self._input.template.version,
        )

    def _result(self) -> CycleResult:
        return summarise(
            committee=self._input.committee, year=self._input.year,
            items=[item.status() for item in self._items.values()],
        )
