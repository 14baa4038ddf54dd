"""Activities that ask the backend to record what the workflow decided.

Each call carries an `Idempotency-Key` of the workflow run id and the activity id, so a retry
after a timeout or a worker crash records nothing twice. A 4xx answer is the backend refusing
the request: retrying cannot help, so it fails the activity for good. A 5xx answer, a 409
saying an earlier attempt with the same key is still running, or a connection error is a fault
that passes: the activity's retry policy tries again with backoff.
"""

from __future__ import annotations

from collections.abc import Callable
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


def idempotency_key() -> str:
    info = activity.info()
    return f"{info.workflow_run_id}/{info.activity_id}"


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

    def __init__(self, *, api_url: str, service_token: str, timeout: float = 20.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"Bearer {service_token}"},
            timeout=timeout,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, body: BaseModel | None) -> bytes:
        try:
            response = await self._client.post(
                path,
                content=body.model_dump_json() if body is not None else b"{}",
                headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key()},
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
            raise ApplicationError(
                f"backend refused {path}: {response.status_code} {response.text[:500]}",
                type="BackendRefused",
                non_retryable=True,
            )
        return response.content

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
