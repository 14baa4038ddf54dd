"""Watches answers to /internal/*: a refused call marks its cycle stuck, a success clears it.

The worker names its cycle in X-Yearwheel-Cycle on every internal call. Every refusal counts,
whichever part of the API gave it (authentication, validation, a route's own problem), so it
is read off the answer rather than raised from one place. A 401 or 403 comes from a caller
the API could not identify as the worker: its header only ever marks a cycle the API has.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db import Sessions, run_unit_of_work
from api.models import utcnow
from api.services import stuck

log = logging.getLogger(__name__)

CYCLE_HEADER = b"x-yearwheel-cycle"
MAX_BODY = 16_384


class StuckWatch:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/internal/"):
            await self.app(scope, receive, send)
            return
        named = dict(scope["headers"]).get(CYCLE_HEADER, b"").decode("latin-1").strip()
        if not named:
            await self.app(scope, receive, send)
            return
        status = 0
        body = bytearray()

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status in stuck.REFUSALS:
                body.extend(message.get("body", b"")[: MAX_BODY - len(body)])
            await send(message)

        await self.app(scope, receive, watching)
        workflow_id = named[: stuck.MAX_WORKFLOW_ID]
        sessions: Sessions = scope["app"].state.sessions
        try:
            if status in stuck.REFUSALS:
                refusal = stuck.Refusal(
                    workflow_id=workflow_id, status=status, method=scope["method"],
                    path=scope["path"], detail=_detail(bytes(body)),
                )
                log.warning(
                    "cycle %s is stuck: %s %s answered %d: %s", workflow_id, refusal.method,
                    refusal.path, status, refusal.detail,
                )
                await _note(sessions, refusal, known_only=status in (401, 403))
            elif 200 <= status < 300:
                await _clear(sessions, workflow_id)
        except Exception:  # the answer is out; the log says what the record missed
            log.exception("could not record the state of cycle %s after %d", workflow_id, status)


def _detail(body: bytes) -> str:
    """The problem's detail (with its field errors for a 422), else the raw answer."""
    try:
        problem = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
    if not isinstance(problem, dict):
        return str(problem)
    detail = str(problem.get("detail") or problem.get("title") or "")
    errors = problem.get("errors")
    return f"{detail} {json.dumps(errors, ensure_ascii=False)}" if errors else detail


async def _note(sessions: Sessions, refusal: stuck.Refusal, *, known_only: bool) -> None:
    async def work(session: AsyncSession) -> bool:
        return await stuck.note(
            session=session, refusal=refusal, at=utcnow(), known_only=known_only
        )

    await run_unit_of_work(sessions, work)


async def _clear(sessions: Sessions, workflow_id: str) -> None:
    async with sessions() as session:  # a read first: a recording that was never stuck
        if not await stuck.is_stuck(session=session, workflow_id=workflow_id):  # writes nothing
            return

    async def work(session: AsyncSession) -> None:
        await stuck.clear(session=session, workflow_id=workflow_id)

    await run_unit_of_work(sessions, work)
