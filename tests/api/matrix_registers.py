"""The permission matrix's requests for the registers: reporter activities recorded, listed,
read, corrected and withdrawn. Each write cell that must succeed gets an entry of its own."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from api.models import Committee, Reporter, Role
from api.services import registers
from api.services.access import Principal
from domain.registers import ActivityBody, RegisterKind
from tests.api.matrix import COMMITTEE, Builder, Call, World

ARRANGER = Principal(name="matrix-arranger", role=Role.ADMIN)


async def _reporter(world: World, place: str) -> int:
    """A committee member reporter of the place's committee, so its roster rule holds."""
    cached = world.shared.get(f"reporter-{place}")
    if cached is not None:
        return int(cached["id"])
    async with world.sessions() as session:
        committee_id = await session.scalar(
            select(Committee.id).where(Committee.code == COMMITTEE[place])
        )
        assert committee_id is not None
        reporter = Reporter(committee_id=committee_id, name=f"Báo cáo viên sổ {place}",
                            position="Chuyên viên", committee_member=True, level="central",
                            decision_number="15-QĐ/ĐU", decision_date=date(2025, 2, 1),
                            term_start=date(2025, 2, 1), status="active", created_by="matrix")
        session.add(reporter)
        await session.commit()
    world.shared[f"reporter-{place}"] = {"id": reporter.id}
    return reporter.id


def _activity(reporter: int, n: int) -> dict[str, Any]:
    return {"held_on": "2025-03-12", "reporters": [reporter], "place": "Chi bộ Văn phòng",
            "topic": f"Chuyên đề {n}", "form": "online", "audience": 30}


async def _entry(world: World, place: str) -> int:
    """A fresh activity of the place's committee, at version 1."""
    body = ActivityBody.model_validate(
        _activity(await _reporter(world, place), next(world.serial)), strict=False
    )
    async with world.sessions() as session:
        entry = await registers.record_entry(
            session=session, principal=ARRANGER, code=COMMITTEE[place],
            kind=RegisterKind.ACTIVITY, body=body, today=date.today(),
        )
        await session.commit()
    return entry.id


def _path(place: str) -> str:
    return f"/committees/{COMMITTEE[place]}/registers/activities"


async def _record(world: World, role: str, place: str, succeeds: bool) -> Call:
    body = _activity(await _reporter(world, place), next(world.serial))
    return Call("POST", _path(place), body)


async def _list(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("GET", _path(place) + "?form=online&from=2025-01-01")


async def _read(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("GET", f"{_path(place)}/{await _entry(world, place)}")


async def _correct(world: World, role: str, place: str, succeeds: bool) -> Call:
    entry = await _entry(world, place)
    body = {"version": 1, "reason": "Ghi nhầm số người dự",
            "entry": {**_activity(await _reporter(world, place), entry), "audience": 31}}
    return Call("POST", f"{_path(place)}/{entry}/correct", body)


async def _withdraw(world: World, role: str, place: str, succeeds: bool) -> Call:
    entry = await _entry(world, place)
    return Call("POST", f"{_path(place)}/{entry}/withdraw", {"version": 1, "reason": "Ghi trùng"})


REGISTER_BUILDERS: dict[str, Builder] = {
    "POST /committees/{code}/registers/activities": _record,
    "GET /committees/{code}/registers/activities": _list,
    "GET /committees/{code}/registers/activities/{entry_id}": _read,
    "POST /committees/{code}/registers/activities/{entry_id}/correct": _correct,
    "POST /committees/{code}/registers/activities/{entry_id}/withdraw": _withdraw,
}
