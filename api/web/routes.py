"""The pages: sign-in and sign-out, setting a password from a one-time link, the committee's
inbox, and a task with its evidence form. Each is a client of the services the API uses."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response
from temporalio.client import Client

from api.db import run_unit_of_work
from api.deps import SessionDep, SessionsDep, SettingsDep, get_temporal
from api.models import Committee
from api.problems import Forbidden
from api.schemas import TaskPublic
from api.services import signin, summary, tasks
from api.services.access import Action, scope_for
from api.web.inbox import COMING_DAYS, by_urgency, committee_inbox, latest_year
from api.web.pages import render, today
from api.web.session import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SIGNIN_CSRF_COOKIE,
    CheckedForm,
    PageRoute,
    SignedDep,
    safe_next,
    set_cookie,
)
from domain.contracts import ItemState

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)
TemporalClient = Annotated[Client, Depends(get_temporal)]


@router.get("")
async def home() -> Response:
    return RedirectResponse("/web/inbox", status_code=303)


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = Query(default=None)) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", csrf=token, next=safe_next(next), name="",
                      error=None)
    set_cookie(request, response, SIGNIN_CSRF_COOKIE, token)
    return response


@router.post("/sign-in")
async def sign_in(request: Request, sessions: SessionsDep) -> Response:
    form = await request.form()
    sent, expected = form.get(CSRF_FIELD), request.cookies.get(SIGNIN_CSRF_COOKIE)
    if not (isinstance(sent, str) and expected and secrets.compare_digest(sent, expected)):
        raise Forbidden("the sign-in form's CSRF token is missing or wrong; reload the page")
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    wanted = safe_next(str(form.get("next", "")))
    client = request.client.host if request.client else None
    outcome = await signin.sign_in(sessions=sessions, name=name, password=password,
                                   client=client)
    if outcome.token is None:
        seconds = max(1, int(outcome.wait.total_seconds() + 0.999)) if outcome.wait else 0
        error = "Tên đăng nhập hoặc mật khẩu không đúng."
        if seconds:
            error += f" Vui lòng chờ {seconds} giây rồi thử lại."
        response = render(request, "sign_in.html", status=429 if outcome.refused == "blocked"
                          else 401, csrf=expected, next=wanted, name=name, error=error)
        if seconds:
            response.headers["Retry-After"] = str(seconds)
        return response
    signed_in = RedirectResponse(wanted, status_code=303)
    set_cookie(request, signed_in, SESSION_COOKIE, outcome.token)
    signed_in.delete_cookie(SIGNIN_CSRF_COOKIE, path="/web")
    return signed_in


@router.post("/sign-out")
async def sign_out(signed: SignedDep, form: CheckedForm, sessions: SessionsDep) -> Response:
    async def work(session: AsyncSession) -> None:
        await signin.sign_out(session=session, session_id=signed.session_id,
                              actor=signed.principal.name)

    await run_unit_of_work(sessions, work)
    response = RedirectResponse("/web/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/web")
    return response


@router.get("/password/{token}")
async def password_page(request: Request, token: str, session: SessionDep) -> Response:
    user = await signin.link_user(session=session, token=token)
    csrf = secrets.token_urlsafe(32)
    response = render(request, "password.html", status=200 if user else 404,
                      user_name=user.name if user else None, csrf=csrf, error=None)
    set_cookie(request, response, SIGNIN_CSRF_COOKIE, csrf)
    return response


@router.post("/password/{token}")
async def set_password(request: Request, token: str, sessions: SessionsDep) -> Response:
    form = await request.form()
    sent, expected = form.get(CSRF_FIELD), request.cookies.get(SIGNIN_CSRF_COOKIE)
    if not (isinstance(sent, str) and expected and secrets.compare_digest(sent, expected)):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page")
    password, repeat = str(form.get("password", "")), str(form.get("repeat", ""))
    error = None
    if len(password) < signin.MIN_PASSWORD:
        error = f"Mật khẩu cần ít nhất {signin.MIN_PASSWORD} ký tự."
    elif password != repeat:
        error = "Hai lần nhập mật khẩu không khớp."
    if error is None:
        async def work(session: AsyncSession) -> None:
            await signin.set_password(session=session, token=token, password=password)

        await run_unit_of_work(sessions, work)
        return RedirectResponse("/web/sign-in?password=set", status_code=303)
    async with sessions() as session:
        user = await signin.link_user(session=session, token=token)
    return render(request, "password.html", status=422, user_name=user.name if user else None,
                  csrf=expected, error=error)


@router.get("/inbox")
async def inbox(
    request: Request, signed: SignedDep, session: SessionDep, settings: SettingsDep
) -> Response:
    principal = signed.principal
    committee = (
        await session.get(Committee, principal.committee_id) if principal.committee_id else None
    )
    box = None
    if committee is not None:
        box = await committee_inbox(
            session=session, client=getattr(request.app.state, "temporal", None),
            committee=committee, query_wait=settings.query_timeout_seconds,
        )
    below: list[TaskPublic] = []
    supervised = await scope_for(session=session, principal=principal, action=Action.EXTEND)
    if supervised is not None:  # escalated first, then overdue, then the rest still open
        for state in (ItemState.ESCALATED, ItemState.OVERDUE, ItemState.OPEN):
            found, _ = await tasks.list_public(
                session=session, scope=supervised, state=state, limit=200
            )
            below += [t for t in found if committee is None or t.committee != committee.code]
    progress = None
    if supervised is not None and committee is not None:
        year = await latest_year(session=session, scope=supervised)
        if year is not None:
            progress = await summary.summarise(
                session=session, principal=principal, code=committee.code, year=year,
                as_of=None,
            )
            progress.rows = by_urgency(progress.rows)
    return render(request, "inbox.html", signed=signed, committee=committee, box=box,
                  below=below, supervises=supervised is not None, progress=progress,
                  today=box.day if box else today(), real_today=today(),
                  coming_days=COMING_DAYS)
