"""Registers as records: entries created, listed, corrected and withdrawn, each change audited.

Staff keep their own committee's registers; whoever can see a committee can read them. An
entry's body is checked against its kind's model and the committee's reporters before anything
is written; a correction or withdrawal names the version it changes, so of two writers at once
the second gets 409 instead of overwriting the first.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import lock_for_writing
from api.models import (
    Committee,
    RegisterEntry,
    RegisterEntryReporter,
    RegisterEntryVersion,
    Reporter,
    utcnow,
)
from api.problems import Conflict, NotFound, Unprocessable
from api.schemas_registers import EntryDetail, EntryPage, EntryPublic, EntryVersionPublic
from api.services import committees
from api.services.access import Action, Principal, authorize
from api.services.audit import append_audit
from domain.registers import (
    COUNTED_STATUSES,
    DAY_FIELDS,
    REGISTER_MODELS,
    ActivityForm,
    EntryStatus,
    RegisterBody,
    RegisterKind,
    ServingSpan,
    check_day,
    check_reporter_served,
    day_of_entry,
    reporters_named,
)

PATHS = {RegisterKind.ACTIVITY: "activities"}


def _problem(detail: str, field: str) -> Unprocessable:
    return Unprocessable(
        detail,
        errors=[{"location": "body", "field": field, "pointer": "/" + field.replace(".", "/"),
                 "detail": detail, "type": "value_error"}],
    )


def _subject(code: str, kind: RegisterKind, entry_id: int) -> str:
    return f"committee/{code}/registers/{PATHS[kind]}/{entry_id}"


def to_public(entry: RegisterEntry, code: str) -> EntryPublic:
    return EntryPublic(
        id=entry.id, committee=code, kind=entry.kind, day=entry.day,
        status=EntryStatus(entry.status), version=entry.version, body=entry.body,
        created_at=entry.created_at, created_by=entry.created_by,
        changed_at=entry.changed_at, changed_by=entry.changed_by,
    )


async def _committee_for(
    *, session: AsyncSession, principal: Principal, code: str, action: Action
) -> Committee:
    committee = await committees.get_by_code(session=session, code=code)
    missing = f"committee {code!r} not found"
    if committee is None:
        raise NotFound(missing)
    await authorize(session=session, principal=principal, action=action,
                    committee_id=committee.id, missing=missing)
    return committee


async def _check_body(
    *, session: AsyncSession, committee: Committee, kind: RegisterKind, body: RegisterBody,
    today: date, prefix: str,
) -> date:
    """The entry's day, once its day and the reporters it names are checked (422 if not)."""
    day = day_of_entry(kind, body)
    refused = check_day(day, today=today)
    if refused:
        raise _problem(refused, f"{prefix}{DAY_FIELDS[kind]}")
    named = reporters_named(body)
    found = {
        r.id: r for r in (await session.scalars(
            select(Reporter).where(Reporter.id.in_(named))
        )).all()
    }
    for i, reporter_id in enumerate(named):
        field = f"{prefix}reporters.{i}"
        reporter = found.get(reporter_id)
        if reporter is None or reporter.committee_id != committee.id:
            raise _problem(f"reporter {reporter_id} is not one of {committee.code}'s reporters",
                           field)
        refused = check_reporter_served(
            ServingSpan(reporter.id, reporter.term_start, reporter.left_on), day
        )
        if refused:
            raise _problem(refused, field)
    return day


async def _name_reporters(*, session: AsyncSession, entry_id: int, body: RegisterBody) -> None:
    """The link rows the reporter filter reads: those the entry's current version names."""
    existing = (await session.scalars(
        select(RegisterEntryReporter).where(RegisterEntryReporter.entry_id == entry_id)
    )).all()
    for link in existing:
        await session.delete(link)
    await session.flush()
    session.add_all(RegisterEntryReporter(entry_id=entry_id, reporter_id=reporter_id)
                    for reporter_id in reporters_named(body))


async def record_entry(
    *, session: AsyncSession, principal: Principal, code: str, kind: RegisterKind,
    body: RegisterBody, today: date,
) -> EntryPublic:
    """Record a new entry in a committee's register (its staff, admin)."""
    committee = await _committee_for(session=session, principal=principal, code=code,
                                     action=Action.KEEP_REGISTERS)
    day = await _check_body(session=session, committee=committee, kind=kind, body=body,
                            today=today, prefix="")
    now, stored = utcnow(), body.model_dump(mode="json")
    entry = RegisterEntry(
        committee_id=committee.id, kind=kind.value, day=day, body=stored,
        status=EntryStatus.RECORDED.value, version=1, created_at=now,
        created_by=principal.name, changed_at=now, changed_by=principal.name,
    )
    session.add(entry)
    await session.flush()
    session.add(RegisterEntryVersion(entry_id=entry.id, version=1, status=entry.status,
                                     day=day, body=stored, reason=None, at=now,
                                     by=principal.name))
    await _name_reporters(session=session, entry_id=entry.id, body=body)
    await append_audit(session=session, actor=principal.name,
                       action=f"register.{kind.value}.recorded",
                       subject=_subject(committee.code, kind, entry.id),
                       payload={"version": 1, "body": stored}, at=now)
    await session.flush()
    return to_public(entry, committee.code)


async def _entry_of(
    *, session: AsyncSession, committee: Committee, kind: RegisterKind, entry_id: int
) -> RegisterEntry:
    entry = await session.get(RegisterEntry, entry_id)
    if entry is None or entry.committee_id != committee.id or entry.kind != kind.value:
        raise NotFound(f"{committee.code} has no {kind.value} entry {entry_id}")
    return entry


async def _change(
    *, session: AsyncSession, principal: Principal, committee: Committee, kind: RegisterKind,
    entry: RegisterEntry, version: int, status: EntryStatus, day: date, body: dict[str, Any],
    reason: str,
) -> EntryPublic:
    """Move an entry from `version` to the next, keeping the version it leaves."""
    if entry.status == EntryStatus.WITHDRAWN:
        raise Conflict(f"{kind.value} entry {entry.id} was withdrawn; record a new entry")
    if entry.version != version:
        raise Conflict(f"{kind.value} entry {entry.id} is at version {entry.version}, not "
                       f"{version}: read it again and change the version you see")
    now = utcnow()
    changed = await session.execute(
        update(RegisterEntry)
        .where(RegisterEntry.id == entry.id, RegisterEntry.version == version)
        .values(version=version + 1, status=status.value, day=day, body=body,
                changed_at=now, changed_by=principal.name)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{kind.value} entry {entry.id} changed meanwhile: read it again")
    session.add(RegisterEntryVersion(entry_id=entry.id, version=version + 1,
                                     status=status.value, day=day, body=body, reason=reason,
                                     at=now, by=principal.name))
    await append_audit(session=session, actor=principal.name,
                       action=f"register.{kind.value}.{status.value}",
                       subject=_subject(committee.code, kind, entry.id),
                       payload={"version": version + 1, "reason": reason, "body": body}, at=now)
    await session.flush()
    await session.refresh(entry)
    return to_public(entry, committee.code)


async def correct_entry(
    *, session: AsyncSession, principal: Principal, code: str, kind: RegisterKind,
    entry_id: int, version: int, reason: str, body: RegisterBody, today: date,
) -> EntryPublic:
    """Replace an entry's body, with a reason; the previous version is kept."""
    committee = await _committee_for(session=session, principal=principal, code=code,
                                     action=Action.KEEP_REGISTERS)
    await lock_for_writing(session)  # SQLite: what is read next is the latest, and stays so
    entry = await _entry_of(session=session, committee=committee, kind=kind, entry_id=entry_id)
    day = await _check_body(session=session, committee=committee, kind=kind, body=body,
                            today=today, prefix="entry.")
    public = await _change(session=session, principal=principal, committee=committee,
                           kind=kind, entry=entry, version=version,
                           status=EntryStatus.CORRECTED, day=day,
                           body=body.model_dump(mode="json"), reason=reason)
    await _name_reporters(session=session, entry_id=entry.id, body=body)
    await session.flush()
    return public


async def withdraw_entry(
    *, session: AsyncSession, principal: Principal, code: str, kind: RegisterKind,
    entry_id: int, version: int, reason: str,
) -> EntryPublic:
    """Withdraw an entry, with a reason: it stays, marked, and no report counts it."""
    committee = await _committee_for(session=session, principal=principal, code=code,
                                     action=Action.KEEP_REGISTERS)
    await lock_for_writing(session)
    entry = await _entry_of(session=session, committee=committee, kind=kind, entry_id=entry_id)
    return await _change(session=session, principal=principal, committee=committee, kind=kind,
                         entry=entry, version=version, status=EntryStatus.WITHDRAWN,
                         day=entry.day, body=entry.body, reason=reason)


async def get_entry(
    *, session: AsyncSession, principal: Principal, code: str, kind: RegisterKind, entry_id: int
) -> EntryDetail:
    """One entry and every version of it, oldest first."""
    committee = await _committee_for(session=session, principal=principal, code=code,
                                     action=Action.READ)
    entry = await _entry_of(session=session, committee=committee, kind=kind, entry_id=entry_id)
    versions = (await session.scalars(
        select(RegisterEntryVersion).where(RegisterEntryVersion.entry_id == entry.id)
        .order_by(RegisterEntryVersion.version)
    )).all()
    return EntryDetail(
        **to_public(entry, committee.code).model_dump(),
        versions=[EntryVersionPublic(version=v.version, status=EntryStatus(v.status), day=v.day,
                                     body=v.body, reason=v.reason, at=v.at, by=v.by)
                  for v in versions],
    )


async def list_entries(
    *, session: AsyncSession, principal: Principal, code: str, kind: RegisterKind,
    start: date | None, end: date | None, reporter: int | None, form: ActivityForm | None,
    status: Literal["current", "withdrawn", "all"], limit: int, offset: int,
) -> EntryPage:
    """A committee's entries of a kind, by day then id, filtered: the current ones (recorded
    or corrected) unless `status` asks for the withdrawn ones or all."""
    committee = await _committee_for(session=session, principal=principal, code=code,
                                     action=Action.READ)
    if start is not None and end is not None and end < start:
        raise Unprocessable("the range ends ('to') before it starts ('from')")
    query = select(RegisterEntry).where(RegisterEntry.committee_id == committee.id,
                                        RegisterEntry.kind == kind.value)
    if start is not None:
        query = query.where(RegisterEntry.day >= start)
    if end is not None:
        query = query.where(RegisterEntry.day <= end)
    if reporter is not None:
        query = query.where(RegisterEntry.id.in_(
            select(RegisterEntryReporter.entry_id)
            .where(RegisterEntryReporter.reporter_id == reporter)
        ))
    if form is not None:
        query = query.where(RegisterEntry.body["form"].as_string() == form.value)
    if status == "current":
        query = query.where(RegisterEntry.status.in_([s.value for s in COUNTED_STATUSES]))
    elif status == "withdrawn":
        query = query.where(RegisterEntry.status == EntryStatus.WITHDRAWN.value)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    found = (await session.scalars(
        query.order_by(RegisterEntry.day, RegisterEntry.id).limit(limit).offset(offset)
    )).all()
    return EntryPage(items=[to_public(e, committee.code) for e in found], total=total or 0,
                     limit=limit, offset=offset)


async def counted_bodies(
    *, session: AsyncSession, committee_id: int, kind: RegisterKind, start: date, end: date
) -> list[RegisterBody]:
    """The bodies of a committee's entries of a kind that a period from `start` to `end` (both
    counted) counts: recorded or corrected, never withdrawn."""
    rows = (await session.scalars(
        select(RegisterEntry.body).where(
            RegisterEntry.committee_id == committee_id, RegisterEntry.kind == kind.value,
            RegisterEntry.day >= start, RegisterEntry.day <= end,
            RegisterEntry.status.in_([s.value for s in COUNTED_STATUSES]),
        ).order_by(RegisterEntry.day, RegisterEntry.id)
    )).all()
    model = REGISTER_MODELS[kind]
    return [model.model_validate(body, strict=False) for body in rows]


async def check_activities_held(
    *, session: AsyncSession, committee_code: str, entry_ids: list[int], day: date, field: str
) -> None:
    """422 naming the first of `entry_ids` that is not a current reporter activity of the
    committee held on `day`: what a conference's evidence may name."""
    committee = await committees.get_by_code(session=session, code=committee_code)
    assert committee is not None
    found = {
        e.id: e for e in (await session.scalars(
            select(RegisterEntry).where(RegisterEntry.id.in_(entry_ids))
        )).all()
    }
    for i, entry_id in enumerate(entry_ids):
        entry = found.get(entry_id)
        where = f"{field}.{i}"
        if (entry is None or entry.committee_id != committee.id
                or entry.kind != RegisterKind.ACTIVITY.value):
            raise _problem(f"{committee_code} has no reporter activity {entry_id}", where)
        if entry.status == EntryStatus.WITHDRAWN.value:
            raise _problem(f"reporter activity {entry_id} was withdrawn", where)
        if entry.day != day:
            raise _problem(f"reporter activity {entry_id} was held on {entry.day.isoformat()}, "
                           f"not on the conference's day ({day.isoformat()})", where)
