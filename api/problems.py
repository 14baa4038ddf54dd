"""RFC 9457 problem details for every error the API returns, validation errors included."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

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


class MalformedHeader(ProblemError):
    status, slug, title = 400, "malformed-header", "Malformed header"


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


class PreconditionRequired(ProblemError):
    status, slug, title = 428, "precondition-required", "Precondition required"


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
        400: "Malformed request: the body is not valid JSON, or a header (If-Match) is not "
        "as the route documents it",
        401: "Missing, unknown, expired or revoked token",
        403: "The caller's role may not do this",
        404: "Not found, or outside the caller's reach",
        409: "Conflicts with the current state, or the same Idempotency-Key is in progress",
        412: "If-Match does not match the current version",
        413: "Request body too large",
        422: "Invalid request (`errors` lists the fields), or an Idempotency-Key reused",
        428: "If-Match is required: send the task's ETag",
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


def _json_position(document: object, position: int) -> tuple[int, int]:
    """Line and column (from 1) of a character position in the body, as json reports them."""
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    if not isinstance(text, str):
        return 1, position + 1
    line_start = text.rfind("\n", 0, position) + 1
    return text.count("\n", 0, position) + 1, position - line_start + 1


def _malformed_json(request: Request, exc: RequestValidationError) -> JSONResponse | None:
    """400 naming where the body stops being JSON, if that is what failed: FastAPI reports it
    as a validation error whose location is the character position."""
    for error in exc.errors():
        if error.get("type") != "json_invalid":
            continue
        loc = error.get("loc", ())
        position = loc[-1] if loc and isinstance(loc[-1], int) else 0
        line, column = _json_position(exc.body, position)
        reason = str((error.get("ctx") or {}).get("error", "not valid JSON"))
        return problem_response(
            request, status=400, title="Malformed JSON", slug="malformed-json",
            detail=f"the body is not valid JSON: {reason} at line {line}, column {column} "
            f"(character {position}); send one JSON object",
            line=line, column=column, position=position,
        )
    return None


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    malformed = _malformed_json(request, exc)
    if malformed is not None:
        return malformed
    errors = field_problems(exc.errors())
    fields = ", ".join(sorted({e.field for e in errors}))
    return problem_response(
        request, status=422, title="Invalid request", slug="validation",
        detail=f"invalid fields: {fields}", errors=errors,
    )


# What FastAPI says when a body fails to parse for a reason other than JSON syntax.
_UNPARSED_BODY = "There was an error parsing the body"


def _http_detail(request: Request, exc: StarletteHTTPException) -> str:
    """A detail a person can act on, where Starlette gives only the status phrase."""
    if exc.status_code == 404:
        return f"no route matches {request.method} {request.url.path}; the routes are at /docs"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}"
    if exc.status_code == 400 and exc.detail == _UNPARSED_BODY:
        return ("the body could not be read as JSON: it is not UTF-8 text, or it nests too "
                "deeply; send one JSON object encoded as UTF-8")
    return str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path: Starlette's 405 names the first route's."""
    allowed = [
        method for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
               for route in request.app.router.routes)
    ]
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        headers = {**(exc.headers or {}), "Allow": _allowed_methods(request)}
        exc = StarletteHTTPException(405, exc.detail, headers)
    titles = {400: "Malformed request", 404: "Not found", 405: "Method not allowed",
              413: "Request body too large"}
    unparsed = exc.status_code == 400 and exc.detail == _UNPARSED_BODY
    return problem_response(
        request, status=exc.status_code, title=titles.get(exc.status_code, "HTTP error"),
        slug="malformed-json" if unparsed else None,
        detail=_http_detail(request, exc), headers=dict(exc.headers or {}),
    )


def is_out_of_range(exc: BaseException) -> bool:
    """A value no column can hold (an id past 64 bits, a text past its column): SQLAlchemy's
    DataError, PostgreSQL's class 22 "data exception" as asyncpg reports it, or SQLite's
    driver refusing an integer."""
    if isinstance(exc, DataError | OverflowError):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, DBAPIError) and str(sqlstate or "").startswith("22")


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    log.info("value out of range on %s %s: %r", request.method, request.url.path, exc)
    return problem_response(
        request, status=422, title="Invalid request", slug="out-of-range",
        detail="a value in the request is out of the range the database holds "
        "(an id or a number too large, or a text too long)",
    )


async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    if is_out_of_range(exc):
        return await _out_of_range(request, exc)
    return await _unexpected(request, exc)


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
    return problem_response(
        request, status=500, title="Internal error", slug="internal-error",
        detail="the server failed unexpectedly and logged it; retry, and report the time of "
        "the request if it persists",
    )


def is_database_down(exc: BaseException) -> bool:
    """A connection-level database failure, as opposed to a bad statement."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    # PoolTimeout: every connection is stuck on a database that does not answer.
    return isinstance(exc, ConnectionError | OSError | TimeoutError | PoolTimeout)


# Problems any operation can answer with, whatever its route declares.
_AUTHENTICATED = {401: "Missing, unknown, expired or revoked token",
                  403: "The caller's role may not do this (the service token reaches only "
                  "/internal/*, a person's token never does)"}
_READS_A_BODY = {400: "The body is not valid JSON", 413: "Request body too large"}
_VALIDATED = {422: "Invalid request; `errors` lists the fields"}


def document_problems(app: FastAPI) -> None:
    """Declare in the OpenAPI document the problems every operation may answer with: 401 and
    403 where a token is needed, 400 and 413 where a body is read, 422 where anything is
    validated; each as application/problem+json (FastAPI's own 422 says application/json)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        problem = {"$ref": "#/components/schemas/Problem"}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                wanted: dict[int, str] = {}
                if operation.get("security"):
                    wanted |= _AUTHENTICATED
                if "requestBody" in operation:
                    wanted |= _READS_A_BODY | _VALIDATED
                if operation.get("parameters"):
                    wanted |= _VALIDATED
                responses = operation.setdefault("responses", {})
                for status, description in sorted(wanted.items()):
                    declared = responses.get(str(status), {})
                    if PROBLEM_JSON not in declared.get("content", {}):
                        responses[str(status)] = {
                            "description": declared.get("description", description),
                            "content": {PROBLEM_JSON: {"schema": problem}},
                        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    """Answer every error with problem+json, and say so in the OpenAPI document."""
    document_problems(app)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DBAPIError, _dbapi_error)  # out of range: 422, else as below
    app.add_exception_handler(OverflowError, _out_of_range)  # SQLite's driver raises it raw
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(InterfaceError, _database_error)
    app.add_exception_handler(OSError, _database_error)  # a refused or dropped DB connection
    app.add_exception_handler(Exception, _unexpected)
