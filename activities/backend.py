"""Activities that ask the backend to record what the workflow decided.

Each call carries an `Idempotency-Key` of the workflow run id and the activity id, so a retry
after a timeout or a worker crash records nothing twice, and the cycle's workflow id in
`X-Yearwheel-Cycle`, so the backend can tell which cycle it refused.

No answer fails the activity for good. A 5xx answer, a 409 saying an earlier attempt with the
same key is still running, or a connection error is a fault that passes: the activity's retry
policy tries again with backoff. A 4xx answer is a refusal a person must fix (a rotated service
token, a backend bug, a release that renamed a field): the cycle must wait for the fix, not
fail, so it is retried too, with its own backoff up to `refusal_retry_cap`, and said loudly: a
warning naming the cycle, the path and the status on every attempt, and the counter
`yearwheel_backend_refusals` on the worker's metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.contracts import (
    ACTIVITY_CLOSE_CYCLE,
    ACTIVITY_OPEN_TASK,
    ACTIVITY_RECORD_COMPLETION,
    ACTIVITY_RECORD_LADDER_STEP,
    ACTIVITY_RECORD_TASK_CHANGE,
    ACTIVITY_START_YEAR,
    ACTIVITY_WITHDRAW_LADDER_STEP,
    CompletionRecorded,
    CycleClosed,
    LadderStepRecorded,
    LadderStepWithdrawn,
    Recorded,
    TaskChanged,
    TaskOpened,
    YearStarted,
)

CYCLE_HEADER = "X-Yearwheel-Cycle"
REFUSAL_RETRY_CAP = timedelta(minutes=5)
REFUSALS_METRIC = "yearwheel_backend_refusals"


def idempotency_key() -> str:
    info = activity.info()
    return f"{info.workflow_run_id}/{info.activity_id}"


def refusal_retry_delay(attempt: int, *, cap: timedelta) -> timedelta:
    """The wait before retrying a refused call: 1 s, doubling with each attempt, up to `cap`."""
    return min(timedelta(seconds=2 ** min(attempt - 1, 20)), cap)


def _still_in_flight(response: httpx.Response) -> bool:
    """409 because an earlier attempt with this key is still running: it passes, so retry."""
    if response.status_code != 409:
        return False
    try:
        kind = response.json().get("type", "")
    except ValueError:
        return False
    return isinstance(kind, str) and kind.endswith("/idempotency-key-in-flight")


class BackendActivities:
    """Activity implementations bound to one HTTP client pointed at the API."""

    def __init__(
        self,
        *,
        api_url: str,
        service_token: str,
        timeout: float = 20.0,
        refusal_retry_cap: timedelta = REFUSAL_RETRY_CAP,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"Bearer {service_token}"},
            timeout=timeout,
        )
        self._refusal_retry_cap = refusal_retry_cap

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, body: BaseModel | None) -> bytes:
        info = activity.info()
        try:
            response = await self._client.post(
                path,
                content=body.model_dump_json() if body is not None else b"{}",
                headers={
                    "Content-Type": "application/json",
                    "Idempotency-Key": idempotency_key(),
                    CYCLE_HEADER: info.workflow_id or "",
                },
            )
        except httpx.HTTPError as exc:
            raise ApplicationError(
                f"backend unreachable at {path}: {exc!r}", type="BackendUnavailable"
            ) from exc
        if response.status_code >= 500 or _still_in_flight(response):
            raise ApplicationError(
                f"backend failed at {path}: {response.status_code} {response.text[:500]}",
                type="BackendError",
            )
        if response.status_code >= 400:
            raise self._refused(path, response, attempt=info.attempt)
        return response.content

    def _refused(self, path: str, response: httpx.Response, *, attempt: int) -> ApplicationError:
        """A refusal, logged and counted, retried after its own backoff: it needs a person."""
        info = activity.info()
        delay = refusal_retry_delay(attempt, cap=self._refusal_retry_cap)
        activity.logger.warning(
            "backend refused cycle %s at %s: %s (attempt %d, next in %.0f s): %s",
            info.workflow_id, path, response.status_code, attempt, delay.total_seconds(),
            response.text[:300],
        )
        activity.metric_meter().create_counter(
            REFUSALS_METRIC, "Backend answers that refused a recording (4xx); each is retried",
        ).add(1, {"path": path, "status": str(response.status_code)})
        return ApplicationError(
            f"backend refused {path}: {response.status_code} {response.text[:500]}",
            type="BackendRefused",
            next_retry_delay=delay,
        )

    async def _record(self, path: str, body: BaseModel) -> Recorded:
        return Recorded.model_validate_json(await self._post(path, body))

    @activity.defn(name=ACTIVITY_OPEN_TASK)
    async def open_task(self, event: TaskOpened) -> Recorded:
        return await self._record("/internal/tasks/opened", event)

    @activity.defn(name=ACTIVITY_RECORD_COMPLETION)
    async def record_completion(self, event: CompletionRecorded) -> Recorded:
        return await self._record("/internal/tasks/completed", event)

    @activity.defn(name=ACTIVITY_RECORD_LADDER_STEP)
    async def record_ladder_step(self, event: LadderStepRecorded) -> Recorded:
        return await self._record("/internal/ladder", event)

    @activity.defn(name=ACTIVITY_RECORD_TASK_CHANGE)
    async def record_task_change(self, event: TaskChanged) -> Recorded:
        return await self._record("/internal/tasks/changed", event)

    @activity.defn(name=ACTIVITY_WITHDRAW_LADDER_STEP)
    async def withdraw_ladder_step(self, event: LadderStepWithdrawn) -> Recorded:
        return await self._record("/internal/ladder/withdrawn", event)

    @activity.defn(name=ACTIVITY_CLOSE_CYCLE)
    async def close_cycle(self, event: CycleClosed) -> Recorded:
        return await self._record("/internal/cycles/closed", event)

    @activity.defn(name=ACTIVITY_START_YEAR)
    async def start_year_cycles(self, year: int) -> YearStarted:
        return YearStarted.model_validate_json(
            await self._post(f"/internal/years/{year}/cycles", None)
        )

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.open_task,
            self.record_completion,
            self.record_ladder_step,
            self.record_task_change,
            self.withdraw_ladder_step,
            self.close_cycle,
            self.start_year_cycles,
        ]
