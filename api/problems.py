"""RFC 9457 problem details for every error the API returns, validation errors included."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/problems/"


class FieldProblem(BaseModel):
    """One invalid field: where it is (a JSON pointer and a dotted path) and what is wrong."""

    location: str
    field: str
    pointer: str
    detail: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem; extension members vary by type."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class ProblemError(Exception):
    """Raised anywhere to answer with a problem; `extra` becomes extension members."""

    status = 500
    slug = "internal-error"
    title = "Internal error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class Unprocessable(ProblemError):
    status, slug, title = 422, "unprocessable", "Unprocessable request"


class Unavailable(ProblemError):
    status, slug, title = 503, "unavailable", "Service unavailable"


class TimedOut(ProblemError):
    status, slug, title = 504, "timeout", "Timed out"


def field_problems(
    errors: Iterable[Mapping[str, Any]], *, prefix: Sequence[str | int] = ()
) -> list[FieldProblem]:
    """Pydantic errors as field problems; `prefix` places them inside a larger request."""
    problems = []
    for error in errors:
        loc = [*prefix, *error.get("loc", ())]
        location = str(loc[0]) if loc and loc[0] in ("body", "query", "path", "header") else "body"
        path = loc[1:] if loc and loc[0] == location else loc
        parts = [str(p) for p in path]
        problems.append(
            FieldProblem(
                location=location,
                field=".".join(parts) or location,
                pointer="/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts),
                detail=str(error.get("msg", "invalid")),
                type=str(error.get("type", "invalid")),
            )
        )
    return problems


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    slug: str | None = None,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail is not None:
        body["detail"] = detail
    for key, value in extra.items():
        if isinstance(value, list):
            value = [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
        body[key] = value
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route may return."""
    descriptions = {
        401: "Missing, unknown, expired or revoked token",
        403: "The caller's role may not do this",
        404: "Not found, or outside the caller's reach",
        409: "Conflicts with the current state",
        412: "If-Match does not match the current version",
        413: "Request body too large",
        422: "Invalid request; `errors` lists the fields",
        502: "The workflow failed to carry out the action",
        503: "The database or Temporal is unreachable",
        504: "The workflow did not answer in time",
    }
    return {
        status: {
            "model": Problem,
            "description": descriptions.get(status, "Problem"),
            "content": {PROBLEM_JSON: {}},
        }
        for status in statuses
    }


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request, status=exc.status, title=exc.title, slug=exc.slug, detail=exc.detail,
        headers=exc.headers, **exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = field_problems(exc.errors())
    fields = ", ".join(sorted({e.field for e in errors}))
    return problem_response(
        request, status=422, title="Invalid request", slug="validation",
        detail=f"invalid fields: {fields}", errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}
    return problem_response(
        request, status=exc.status_code, title=titles.get(exc.status_code, "HTTP error"),
        detail=str(exc.detail) if exc.detail else None, headers=dict(exc.headers or {}),
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.info("integrity error: %r", exc)
    return problem_response(
        request, status=409, title="Conflict", slug="conflict",
        detail="the request conflicts with data written meanwhile; read again and retry",
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %r", exc)
    return problem_response(
        request, status=503, title="Database unavailable", slug="database-unavailable",
        detail="the database did not answer; try again", headers={"Retry-After": "1"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if is_database_down(exc):
        return await _database_error(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(request, status=500, title="Internal error", slug="internal-error")


def is_database_down(exc: BaseException) -> bool:
    """A connection-level database failure, as opposed to a bad statement."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, ConnectionError | OSError | TimeoutError)


def install(app: FastAPI) -> None:
    """Answer every error with problem+json."""
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(InterfaceError, _database_error)
    app.add_exception_handler(OSError, _database_error)  # a refused or dropped DB connection
    app.add_exception_handler(Exception, _unexpected)
