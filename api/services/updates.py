"""Sending a human's action to the cycle's workflow as an Update, and mapping its refusals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import (
    Conflict,
    NotFound,
    ProblemError,
    TimedOut,
    Unavailable,
    Unprocessable,
)
from domain.contracts import ItemStatus, RejectionType

log = logging.getLogger(__name__)


class BadGateway(ProblemError):
    status, slug, title = 502, "workflow-failed", "The workflow could not complete the action"


def _evidence_errors(details: Sequence[Any]) -> list[dict[str, str]]:
    """The workflow's evidence problems, as field problems located in the request body."""
    problems = details[0] if details and isinstance(details[0], list) else []
    errors = []
    for problem in problems:
        if not isinstance(problem, dict):
            continue
        field = f"evidence.{problem.get('field', '')}".rstrip(".")
        errors.append({
            "location": "body", "field": field, "pointer": "/" + field.replace(".", "/"),
            "detail": str(problem.get("problem", "invalid")), "type": "value_error",
        })
    return errors


def _refusal(cause: ApplicationError) -> ProblemError:
    kind = cause.type
    if kind == RejectionType.TASK_NOT_OPEN:
        return Conflict(cause.message, rejection=kind)
    if kind == RejectionType.TASK_NOT_FOUND:
        return NotFound(cause.message, rejection=kind)
    if kind == RejectionType.INVALID_EVIDENCE:
        return Unprocessable(cause.message, rejection=kind, errors=_evidence_errors(cause.details))
    if kind == RejectionType.ROSTER_RULE_BROKEN:
        details = cause.details
        violations = details[0] if details and isinstance(details[0], list) else []
        first = violations[0] if violations and isinstance(violations[0], dict) else {}
        rule = first.get("rule")
        return Unprocessable(
            cause.message, rejection=kind, rule=rule, violations=violations,
            errors=[{"location": "body", "field": "evidence.reporters",
                     "pointer": "/evidence/reporters", "detail": cause.message,
                     "type": "value_error"}],
        )
    if kind == RejectionType.INVALID_EXTENSION:
        return Unprocessable(
            cause.message, rejection=kind,
            errors=[{"location": "body", "field": "new_due_on", "pointer": "/new_due_on",
                     "detail": cause.message, "type": "value_error"}],
        )
    return BadGateway(cause.message, rejection=kind)


async def send_update(
    *,
    client: Client,
    workflow_id: str,
    update: str,
    command: BaseModel,
    update_id: str,
    wait_seconds: float,
) -> ItemStatus:
    """Execute an update and return the item's new status; refusals become problems."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(wait_seconds):
            result: ItemStatus = await handle.execute_update(
                update, command, id=update_id, result_type=ItemStatus
            )
            return result
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            raise _refusal(cause) from exc
        raise BadGateway(str(cause or exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(
                f"the cycle {workflow_id} is not running; its tasks can no longer change"
            ) from exc
        log.warning("update %s to %s failed: %r", update, workflow_id, exc)
        raise Unavailable(f"Temporal did not take the update: {exc.message}") from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise TimedOut(
            f"the workflow did not answer within {wait_seconds:g} s; the action may still apply",
            update_id=update_id,
        ) from exc
    except RuntimeError as exc:  # a lazy client that cannot connect
        raise Unavailable(f"Temporal is unreachable: {exc}") from exc
