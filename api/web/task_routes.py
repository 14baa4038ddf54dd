"""A task's page and its forms: the evidence that completes it (staff), and extending or
waiving it with a reason (supervisors, the board, admins). Each form posts to the service the
API route uses, with the task's version from the page as If-Match; a stale version shows what
changed since the page was read."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response
from temporalio.client import Client

from api.channels.texts import RUNGS
from api.db import Sessions
from api.deps import SessionDep, SessionsDep, SettingsDep, get_temporal
from api.problems import Forbidden, PreconditionFailed, ProblemError, Unprocessable
from api.refusals import record_refusal
from api.schemas import ExtendRequest, TaskPublic, WaiveRequest
from api.services import actions, idempotency, signin, task_history, tasks
from api.services.access import Action
from api.services.idempotency import Replay
from api.web.evidence_forms import DATE_FORMAT, FORMS, field_messages, parse_form
from api.web.pages import RUNG_LABELS, STATE_LABELS, render, vn_date
from api.web.session import CSRF_FIELD, CheckedForm, PageRoute, SignedDep
from domain.contracts import UPDATE_EXTEND, UPDATE_WAIVE, ExtendDeadline, WaiveTask
from domain.task_states import OPEN_STATES

router = APIRouter(prefix="/web", route_class=PageRoute, include_in_schema=False)
TemporalClient = Annotated[Client, Depends(get_temporal)]
TOLD_LABELS = RUNGS["vi"]
DONE_NOTICES = {
    "complete": "Đã hoàn thành công việc.", "extend": "Đã gia hạn công việc.",
    "waive": "Đã miễn thực hiện công việc.",
}


async def _allowed(session: AsyncSession, signed: signin.Signed, task_id: int,
                   action: Action) -> bool:
    """Whether the service's own rule lets the user take `action` on the task."""
    try:
        await tasks.get_public(session=session, principal=signed.principal, task_id=task_id,
                               action=action)
    except Forbidden:
        return False
    return True


def _seen(task: TaskPublic) -> dict[str, str]:
    """What the page showed of the task, carried by its forms to say what changed."""
    return {"seen_due_on": vn_date(task.due_on), "seen_state": STATE_LABELS[task.state.value],
            "seen_rung": RUNG_LABELS[task.rung.value] if task.rung else "Chưa"}


def _changes(before: FormData | dict[str, str], task: TaskPublic) -> list[tuple[str, str, str]]:
    now = _seen(task)
    labels = {"seen_due_on": "Hạn", "seen_state": "Trạng thái", "seen_rung": "Mức nhắc đã đến"}
    return [(labels[key], str(before.get(key, "")), value) for key, value in now.items()
            if str(before.get(key, "")) != value]


async def _task_page(
    request: Request, *, signed: signin.Signed, session: AsyncSession, task_id: int,
    status: int = 200, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, other_errors: list[str] | None = None,
    changed: list[tuple[str, str, str]] | None = None, stale: bool = False,
) -> Response:
    task = await tasks.get_public(session=session, principal=signed.principal, task_id=task_id)
    is_open = task.state in OPEN_STATES
    may = {action: is_open and await _allowed(session, signed, task_id, action)
           for action in (Action.COMPLETE, Action.EXTEND, Action.WAIVE)}
    done = request.query_params.get("done", "")
    events = await task_history.task_events(session=session, task_id=task_id)
    return render(
        request, "task.html", status=status, signed=signed, task=task,
        fields=FORMS.get(task.evidence_kind) if may[Action.COMPLETE] else None,
        may_complete=may[Action.COMPLETE], may_extend=may[Action.EXTEND],
        may_waive=may[Action.WAIVE], values=values or {}, errors=errors or {},
        other_errors=other_errors or [], submission=secrets.token_urlsafe(16),
        seen=_seen(task), changed=changed or [], stale=stale, notice=DONE_NOTICES.get(done),
        events=events, told=TOLD_LABELS,
    )


@router.get("/tasks/{task_id}")
async def task_page(
    request: Request, task_id: int, signed: SignedDep, session: SessionDep
) -> Response:
    return await _task_page(request, signed=signed, session=session, task_id=task_id)


@router.post("/tasks/{task_id}/complete")
async def complete_task(
    request: Request, task_id: int, signed: SignedDep, form: CheckedForm, session: SessionDep,
    sessions: SessionsDep, settings: SettingsDep, client: TemporalClient,
) -> Response:
    """The evidence form, completed through the same service as POST /tasks/{id}/complete."""
    task = await tasks.get_public(
        session=session, principal=signed.principal, task_id=task_id, action=Action.COMPLETE
    )
    values = {key: str(value) for key, value in form.items() if key != CSRF_FIELD}
    if task.evidence_kind not in FORMS:
        raise Unprocessable(f"{task.evidence_kind.value} evidence has no web form yet")
    evidence, errors = parse_form(task.evidence_kind, form)
    if errors:
        return await _task_page(request, signed=signed, session=session, task_id=task_id,
                                status=422, values=values, errors=errors)

    async def act(idem: idempotency.Idempotency) -> None:
        await actions.complete(
            session=session, settings=settings, client=client, user=signed.principal,
            idem=idem, task_id=task_id, evidence=evidence,
            if_match=f'"{form.get("version", "")}"',
        )

    def messages(exc: Unprocessable) -> tuple[dict[str, str], list[str]]:
        return field_messages(exc.extra.get("errors", []), kind=task.evidence_kind,
                              year=task.year)

    return await _act(request, signed=signed, session=session, sessions=sessions,
                      settings=settings, task_id=task_id, form=form, name="complete",
                      body={"evidence": evidence}, act=act, messages=messages)


def _reason_errors(error: ValidationError, prefix: str) -> dict[str, str]:
    """The request schema's refusals as messages beside the page's fields."""
    found: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "reason"
        text = ("Cần nêu lý do." if name == "reason" and item["type"] == "string_too_short"
                else "Lý do quá dài." if item["type"] == "string_too_long"
                else f"Giá trị chưa hợp lệ ({item['msg']}).")
        found.setdefault(f"{prefix}-{name}", text)
    return found


@router.post("/tasks/{task_id}/extend")
async def extend_task(
    request: Request, task_id: int, signed: SignedDep, form: CheckedForm, session: SessionDep,
    sessions: SessionsDep, settings: SettingsDep, client: TemporalClient,
) -> Response:
    """Move the due date later with a reason, through the service of POST /tasks/{id}/extend."""
    task = await tasks.get_public(
        session=session, principal=signed.principal, task_id=task_id, action=Action.EXTEND
    )
    raw_day = str(form.get("new_due_on", "")).strip()
    errors: dict[str, str] = {}
    try:
        day = datetime.strptime(raw_day, DATE_FORMAT).date().isoformat()
    except ValueError:
        day = ""
        errors["extend-new_due_on"] = "Nhập ngày theo dạng dd/mm/yyyy, ví dụ 15/03/2030."
    body = {"new_due_on": day, "reason": str(form.get("reason", "")).strip()}
    data: ExtendRequest | None = None
    try:
        data = ExtendRequest.model_validate(body) if not errors else None
    except ValidationError as exc:
        errors.update(_reason_errors(exc, "extend"))
    if data is None or errors:
        if not body["reason"]:
            errors.setdefault("extend-reason", "Cần nêu lý do.")
        return await _task_page(request, signed=signed, session=session, task_id=task_id,
                                status=422, values=_values(form, "extend"), errors=errors)
    checked = data

    def command(key: str) -> BaseModel:
        return ExtendDeadline(key=key, actor=signed.principal.name,
                              new_due_on=checked.new_due_on, reason=checked.reason)

    def messages(exc: Unprocessable) -> tuple[dict[str, str], list[str]]:
        return ({"extend-new_due_on": "Hạn mới chưa hợp lệ: phải sau hạn hiện tại "
                 f"{vn_date(task.due_on)} và không quá cuối năm sau năm của chu kỳ."}, [])

    return await _supervise(request, signed=signed, session=session, sessions=sessions,
                            settings=settings, client=client, task_id=task_id, form=form,
                            name="extend", action=Action.EXTEND, update=UPDATE_EXTEND,
                            body=body, command=command, messages=messages)


@router.post("/tasks/{task_id}/waive")
async def waive_task(
    request: Request, task_id: int, signed: SignedDep, form: CheckedForm, session: SessionDep,
    sessions: SessionsDep, settings: SettingsDep, client: TemporalClient,
) -> Response:
    """Waive the task with a reason, through the service of POST /tasks/{id}/waive."""
    await tasks.get_public(
        session=session, principal=signed.principal, task_id=task_id, action=Action.WAIVE
    )
    body = {"reason": str(form.get("reason", "")).strip()}
    try:
        data = WaiveRequest.model_validate(body)
    except ValidationError as exc:
        return await _task_page(request, signed=signed, session=session, task_id=task_id,
                                status=422, values=_values(form, "waive"),
                                errors=_reason_errors(exc, "waive"))

    def command(key: str) -> BaseModel:
        return WaiveTask(key=key, actor=signed.principal.name, reason=data.reason)

    def messages(exc: Unprocessable) -> tuple[dict[str, str], list[str]]:
        return {}, [exc.detail]

    return await _supervise(request, signed=signed, session=session, sessions=sessions,
                            settings=settings, client=client, task_id=task_id, form=form,
                            name="waive", action=Action.WAIVE, update=UPDATE_WAIVE,
                            body=body, command=command, messages=messages)


def _values(form: FormData, prefix: str) -> dict[str, str]:
    return {f"{prefix}-{key}": str(value) for key, value in form.items() if key != CSRF_FIELD}


async def _supervise(
    request: Request, *, signed: signin.Signed, session: AsyncSession, sessions: Sessions,
    settings: SettingsDep, client: Client, task_id: int, form: FormData, name: str,
    action: Action, update: str, body: dict[str, Any], command: Callable[[str], BaseModel],
    messages: Callable[[Unprocessable], tuple[dict[str, str], list[str]]],
) -> Response:
    async def act(idem: idempotency.Idempotency) -> None:
        await actions.supervise(
            session=session, settings=settings, client=client, user=signed.principal,
            idem=idem, task_id=task_id, if_match=f'"{form.get("version", "")}"',
            action=action, update=update, command=command,
        )

    return await _act(request, signed=signed, session=session, sessions=sessions,
                      settings=settings, task_id=task_id, form=form, name=name, body=body,
                      act=act, messages=messages)


async def _act(
    request: Request, *, signed: signin.Signed, session: AsyncSession, sessions: Sessions,
    settings: SettingsDep, task_id: int, form: FormData, name: str, body: dict[str, Any],
    act: Callable[[idempotency.Idempotency], Any],
    messages: Callable[[Unprocessable], tuple[dict[str, str], list[str]]],
) -> Response:
    """Claim the form's submission id, act, and answer: the task page with its notice, the
    form again with the messages beside its fields, or what changed when the version is stale.
    A refusal by the rules is audited as the API audits it."""
    values = (_values(form, name) if name != "complete"
              else {k: str(v) for k, v in form.items() if k != CSRF_FIELD})
    idem = await _claim(sessions=sessions, settings=settings, signed=signed, task_id=task_id,
                        name=name, submission=str(form.get("submission", "")),
                        body={**body, "version": str(form.get("version", ""))})
    done = RedirectResponse(f"/web/tasks/{task_id}?done={name}", status_code=303)
    if idem is None:  # this very form was sent before and succeeded: show where it led
        return done
    try:
        await act(idem)
    except (Unprocessable, PreconditionFailed) as exc:
        await idem.release()
        if "rejection" in exc.extra:
            await record_refusal(
                sessions=sessions, principal=signed.principal, method="POST",
                path=request.url.path, route=f"/web/tasks/{{task_id}}/{name}", exc=exc,
            )
        if isinstance(exc, PreconditionFailed):
            task = await tasks.get_public(session=session, principal=signed.principal,
                                          task_id=task_id)
            return await _task_page(request, signed=signed, session=session, task_id=task_id,
                                    status=412, values=values, changed=_changes(form, task),
                                    stale=True)
        by_field, other = messages(exc)
        return await _task_page(request, signed=signed, session=session, task_id=task_id,
                                status=422, values=values, errors=by_field,
                                other_errors=other or ([] if by_field else [exc.detail]))
    except BaseException:
        await idem.release()
        raise
    return done


async def _claim(
    *, sessions: Sessions, settings: SettingsDep, signed: signin.Signed, task_id: int,
    name: str, submission: str, body: dict[str, Any],
) -> idempotency.Idempotency | None:
    """The form's submission id claimed as an Idempotency-Key (the page issues a fresh one
    each time it renders a form); None when this submission already succeeded."""
    shown = idempotency.check_key(f"web/{submission or secrets.token_hex(16)}")
    try:
        return await idempotency.claim_for(
            sessions=sessions, ttl=timedelta(hours=settings.idempotency_ttl_hours),
            lease=timedelta(seconds=settings.update_timeout_seconds) + idempotency.LEASE_MARGIN,
            key=idempotency.stored_key(principal=signed.principal, key=shown),
            fingerprint=idempotency.request_hash(
                path=f"POST /web/tasks/{task_id}/{name}", body=body
            ),
            shown=shown,
        )
    except Replay as replay:
        if 200 <= replay.status < 300:
            return None
        raise ProblemError("this form was already sent") from None
