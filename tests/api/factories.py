"""Test data: committees, users with tokens, and the events the worker would record."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase

from api.db import Sessions
from api.models import AuditEvent, Base, Committee, Role
from api.services.users import create_user
from domain.calendar import HCM, obligations, start_of_day
from domain.contracts import (
    CompletionRecorded,
    CycleClosed,
    CycleResult,
    LadderStepRecorded,
    TaskChanged,
    TaskOpened,
    cycle_workflow_id,
)
from domain.template import DEFAULT_TEMPLATE, Rung

SERVICE_TOKEN = "test-service-token-0123456789abcdef"
YEAR = 2025

# The tree most tests use: BLOC at the root, two upper committees, three grassroots ones.
TREE: tuple[tuple[str, str, str | None], ...] = (
    ("BLOC", "root", None),
    ("UP", "upper", "BLOC"),
    ("UP2", "upper", "BLOC"),
    ("GR", "grassroots", "UP"),
    ("GR2", "grassroots", "UP"),
    ("GR3", "grassroots", "UP2"),
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


SERVICE = bearer(SERVICE_TOKEN)


class Factory:
    """Arranges rows straight through the services and the ORM, and counts them afterwards."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self._users = 0

    async def committee(
        self, code: str, *, level: str = "grassroots", parent: str | None = None,
        active: bool = True,
    ) -> Committee:
        async with self.sessions() as session:
            parent_id = None
            if parent is not None:
                parent_id = await session.scalar(
                    select(Committee.id).where(Committee.code == parent)
                )
            committee = Committee(
                code=code, name=f"Đảng ủy {code}", level=level, parent_id=parent_id, active=active
            )
            session.add(committee)
            await session.commit()
            return committee

    async def tree(self) -> None:
        for code, level, parent in TREE:
            await self.committee(code, level=level, parent=parent)

    async def token(
        self, role: str, committee: str | None = None, *, name: str | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        self._users += 1
        async with self.sessions() as session:
            _, token = await create_user(
                session=session, name=name or f"{role}-{committee or 'all'}-{self._users}",
                role=Role(role), committee_code=committee, expires_at=expires_at, actor="test",
            )
            await session.commit()
        return token

    async def count(self, model: type[DeclarativeBase]) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def refusals(self) -> list[AuditEvent]:
        """The refused attempts the audit log holds, oldest first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "request.refused")
                .order_by(AuditEvent.seq)
            )
            return list(rows.all())

    async def counts(self) -> dict[str, int]:
        """Rows in every table: compared before and after a request that must write nothing."""
        async with self.sessions() as session:
            return {
                table.name: int(
                    await session.scalar(select(func.count()).select_from(table)) or 0
                )
                for table in Base.metadata.sorted_tables
            }


def obligation(key: str, year: int = YEAR) -> Any:
    return next(o for o in obligations(DEFAULT_TEMPLATE, year) if o.key == key)


def opened(committee: str = "GR", key: str = "plan", *, year: int = YEAR) -> TaskOpened:
    """The TaskOpened the workflow would send for one of the default template's obligations."""
    o = obligation(key, year)
    item = DEFAULT_TEMPLATE.item(o.item_key)
    return TaskOpened(
        workflow_id=cycle_workflow_id(committee, year), committee=committee, year=year,
        key=o.key, item_key=o.item_key, occurrence=o.occurrence, stage=item.stage,
        evidence=item.evidence, title_vi=item.title_vi, title_en=item.title_en,
        opens_on=o.opens_on, due_on=o.due_on, opened_at=start_of_day(o.opens_on),
    )


def ladder(
    committee: str = "GR", key: str = "plan", rung: Rung = Rung.REMINDER, *,
    due_on: date | None = None, year: int = YEAR,
) -> LadderStepRecorded:
    due = due_on or obligation(key, year).due_on
    offsets = {Rung.REMINDER: -7, Rung.OVERDUE: 0, Rung.PARENT: 7, Rung.BOARD: 14}
    at = start_of_day(due + timedelta(days=1 + offsets[rung]))
    return LadderStepRecorded(
        workflow_id=cycle_workflow_id(committee, year), key=key, rung=rung, due_on=due, at=at
    )


PLAN_EVIDENCE = {
    "document_number": "12-KH/ĐU", "document_date": "2025-01-20",
    "summary": "Kế hoạch tuyên truyền miệng năm 2025", "attachments": ["ke-hoach.pdf"],
}


def completion(
    committee: str = "GR", key: str = "plan", *, ref: str = "ref-1", late: bool = False,
    at: datetime | None = None, year: int = YEAR,
) -> CompletionRecorded:
    return CompletionRecorded(
        workflow_id=cycle_workflow_id(committee, year), key=key, actor="staff-GR",
        evidence={"kind": "plan", **PLAN_EVIDENCE}, submission_ref=ref,
        completed_at=at or datetime(year, 1, 20, 9, tzinfo=HCM), late=late, event_id=42,
    )


def extended(
    committee: str = "GR", key: str = "plan", *, new_due_on: date, at: datetime,
    year: int = YEAR,
) -> TaskChanged:
    return TaskChanged(
        workflow_id=cycle_workflow_id(committee, year), key=key, change="extended",
        actor="supervisor-UP", reason="Đơn vị đang kiện toàn", at=at, new_due_on=new_due_on,
        previous_due_on=obligation(key, year).due_on,
    )


def waived(
    committee: str = "GR", key: str = "plan", *, at: datetime, year: int = YEAR
) -> TaskChanged:
    return TaskChanged(
        workflow_id=cycle_workflow_id(committee, year), key=key, change="waived",
        actor="supervisor-UP", reason="Đơn vị sáp nhập", at=at,
    )


def closed(committee: str = "GR", *, year: int = YEAR) -> CycleClosed:
    result = CycleResult(committee=committee, year=year, total=0, on_time=0, late=0, waived=0,
                         items=[])
    return CycleClosed(
        workflow_id=cycle_workflow_id(committee, year), result=result,
        at=datetime(year, 12, 20, tzinfo=HCM),
    )


async def record(
    client: httpx.AsyncClient, path: str, event: BaseModel, *, key: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST an event to an internal route as the worker would."""
    sent = {**SERVICE, "Content-Type": "application/json", **(headers or {})}
    if key is not None:
        sent["Idempotency-Key"] = key
    return await client.post(f"/internal/{path}", content=event.model_dump_json(), headers=sent)
