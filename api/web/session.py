"""The browser's side of signing in: the session cookie, CSRF tokens on every form, and the
route class that turns a refusal into a page (or, signed out, a redirect to sign-in)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.problems import Forbidden, NotFound, ProblemError
from api.refusals import is_refusal, record_refusal
from api.services.signin import Signed, resume
from api.settings import Settings
from api.web.pages import STATUS_HINTS, STATUS_TITLES, render

log = logging.getLogger(__name__)

SESSION_COOKIE = "yw_session"
SIGNIN_CSRF_COOKIE = "yw_signin_csrf"  # double-submit token for the form used before a session
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/web"


class SignInRequired(Exception):  # control flow: answered with a redirect to the sign-in page
    def __init__(self, wanted: str) -> None:
        super().__init__(wanted)
        self.wanted = wanted


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a page of this workspace, never another site."""
    if value and value.startswith("/web/") and not value.startswith("//"):
        return value
    return "/web/inbox"


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """HttpOnly, SameSite=Lax, scoped to /web; Secure when the request came over TLS
    (uvicorn's proxy headers make that true behind a TLS-terminating proxy)."""
    response.set_cookie(
        name, value, httponly=True, samesite="lax", path=COOKIE_PATH,
        secure=request.url.scheme == "https",
    )


class PageRoute(APIRoute):
    """A page: a problem becomes an error page with its status (a refused write is audited
    as the API audits it); signed out, a redirect to sign-in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                return RedirectResponse(
                    f"/web/sign-in?next={quote(exc.wanted, safe='/')}", status_code=303
                )
            except RequestValidationError:  # a page address that names nothing: /tasks/abc
                return problem_page(request, NotFound(f"no page at {request.url.path}"))
            except ProblemError as exc:
                if is_refusal(request.method, exc):
                    try:
                        await record_refusal(
                            sessions=request.app.state.sessions,
                            principal=getattr(request.state, "principal", None),
                            method=request.method, path=request.url.path,
                            route=self.path, exc=exc,
                        )
                    except Exception:
                        log.exception("could not audit a refused %s %s", request.method,
                                      request.url.path)
                return problem_page(request, exc)

        return page


def problem_page(request: Request, exc: ProblemError) -> Response:
    signed = getattr(request.state, "signed", None)
    response = render(
        request, "problem.html", status=exc.status, signed=signed,
        title=STATUS_TITLES.get(exc.status, "Có lỗi"), hint=STATUS_HINTS.get(exc.status, ""),
        detail=exc.detail,
    )
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def signed_in(request: Request) -> Signed:
    """The signed-in user; otherwise off to the sign-in page, coming back here after."""
    settings: Settings = request.app.state.settings
    token = request.cookies.get(SESSION_COOKIE)
    signed = None
    if token:
        signed = await resume(
            sessions=request.app.state.sessions, token=token,
            idle=timedelta(minutes=settings.web_idle_minutes),
        )
    if signed is None:
        raise SignInRequired(request.url.path if request.method == "GET" else "/web/inbox")
    request.state.principal = signed.principal  # who a refusal is audited against
    request.state.signed = signed
    return signed


SignedDep = Annotated[Signed, Depends(signed_in)]


async def checked_form(request: Request, signed: SignedDep) -> FormData:
    """The posted form, once its CSRF token is the session's; else 403."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not secrets.compare_digest(sent, signed.csrf_token):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page and retry")
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
