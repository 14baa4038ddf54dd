"""Refused attempts in the audit log: who tried to change what, and why they were refused.

A 403 on a write, and a task action the rules refused (the workflow's update validator, or the
API's same check before it: a problem carrying `rejection`), become a `request.refused` event.
It is appended in its own transaction once the request's session has rolled back, so the
refused request itself still writes nothing.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Sessions, run_unit_of_work
from api.problems import ProblemError, problem_response
from api.services.access import Principal
from api.services.audit import append_audit

log = logging.getLogger(__name__)

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ACTION = "request.refused"


def is_refusal(method: str, exc: ProblemError) -> bool:
    """A write the caller's role may not make, or an action the rules refused."""
    return method in WRITES and (exc.status == 403 or "rejection" in exc.extra)


async def record_refusal(
    *, sessions: Sessions, principal: Principal | None, method: str, path: str, route: str,
    exc: ProblemError,
) -> None:
    """Append one `request.refused` event: who, what (method and path) and why."""
    payload = {
        "method": method, "path": path, "route": route, "status": exc.status,
        "problem": exc.slug, "detail": exc.detail,
        "rejection": exc.extra.get("rejection"),
        "role": principal.role.value if principal else None,
        "user_id": principal.user_id if principal else None,
    }

    async def work(session: AsyncSession) -> None:
        await append_audit(
            session=session, actor=principal.name if principal else "anonymous", action=ACTION,
            subject=path, payload=payload,
        )

    await run_unit_of_work(sessions, work)


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    if is_refusal(request.method, exc):
        route = request.scope.get("route")
        try:
            await record_refusal(
                sessions=request.app.state.sessions,
                principal=getattr(request.state, "principal", None),
                method=request.method, path=request.url.path,
                route=getattr(route, "path", request.url.path), exc=exc,
            )
        except Exception:  # the answer still goes out; the log says what the audit missed
            log.exception("could not audit a refused %s %s", request.method, request.url.path)
    return problem_response(
        request, status=exc.status, title=exc.title, slug=exc.slug, detail=exc.detail,
        headers=exc.headers, **exc.extra,
    )


def install(app: FastAPI) -> None:
    """Answer problems as problems.install does, auditing refusals on the way."""
    app.add_exception_handler(ProblemError, _problem)
