"""The committee tree: creating committees, finding them, and walking up to the root."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.models import Committee
from api.problems import Conflict, NotFound, Unprocessable
from api.schemas import CommitteeCreate, CommitteePublic
from api.services.access import Scope
from api.services.audit import append_audit
from domain.contracts import CommitteeLevel

MAX_DEPTH = 64
Parent = aliased(Committee)


def _public_query() -> Select[tuple[Committee, str]]:
    return select(Committee, Parent.code).outerjoin(Parent, Committee.parent_id == Parent.id)


def to_public(committee: Committee, parent_code: str | None) -> CommitteePublic:
    """A committee row as the API shows it."""
    return CommitteePublic(
        code=committee.code, name=committee.name, level=CommitteeLevel(committee.level),
        parent=parent_code, active=committee.active,
    )


async def get_by_code(*, session: AsyncSession, code: str) -> Committee | None:
    """The committee with this code, if any."""
    return await session.scalar(select(Committee).where(Committee.code == code))


async def create_committee(
    *, session: AsyncSession, data: CommitteeCreate, actor: str
) -> CommitteePublic:
    """Create a committee under its parent; the root alone has none."""
    if await get_by_code(session=session, code=data.code) is not None:
        raise Conflict(f"committee {data.code!r} already exists")
    parent: Committee | None = None
    if data.level is CommitteeLevel.ROOT:
        if data.parent is not None:
            raise _field_problem("parent", "a root committee has no parent")
    elif data.parent is None:
        raise _field_problem("parent", f"a {data.level} committee needs a parent")
    else:
        parent = await get_by_code(session=session, code=data.parent)
        if parent is None:
            raise _field_problem("parent", f"no committee has the code {data.parent!r}")
        if parent.level == CommitteeLevel.GRASSROOTS:
            raise _field_problem("parent", "a grassroots committee cannot have committees below it")
    committee = Committee(
        code=data.code, name=data.name, level=data.level.value,
        parent_id=parent.id if parent else None, active=True,
    )
    session.add(committee)
    await session.flush()
    await append_audit(
        session=session, actor=actor, action="committee.created",
        subject=f"committee/{committee.code}", payload=data.model_dump(mode="json"),
    )
    return to_public(committee, parent.code if parent else None)


def _field_problem(field: str, detail: str) -> Unprocessable:
    return Unprocessable(
        detail,
        errors=[{"location": "body", "field": field, "pointer": f"/{field}", "detail": detail,
                 "type": "value_error"}],
    )


async def get_public(*, session: AsyncSession, scope: Scope, code: str) -> CommitteePublic:
    """One committee within `scope`, or 404."""
    query = _public_query().where(Committee.code == code, scope.where(Committee.id))
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(f"committee {code!r} not found")
    return to_public(row[0], row[1])


async def list_public(
    *,
    session: AsyncSession,
    scope: Scope,
    parent: str | None = None,
    level: CommitteeLevel | None = None,
) -> list[CommitteePublic]:
    """Committees within `scope`, optionally those under one parent or at one level."""
    query = _public_query().where(scope.where(Committee.id)).order_by(Committee.code)
    if parent is not None:
        query = query.where(Parent.code == parent)
    if level is not None:
        query = query.where(Committee.level == level.value)
    return [to_public(c, p) for c, p in (await session.execute(query)).all()]


async def root_of(*, session: AsyncSession, committee: Committee) -> Committee:
    """The top of the committee's tree (the committee itself if it has no parent)."""
    current = committee
    for _ in range(MAX_DEPTH):
        if current.parent_id is None:
            return current
        parent = await session.get(Committee, current.parent_id)
        if parent is None:
            return current
        current = parent
    return current


async def active_non_root(*, session: AsyncSession, scope: Scope) -> list[Committee]:
    """Every active committee below a root, within `scope`: those that owe a yearly cycle."""
    query = (
        select(Committee)
        .where(Committee.active.is_(True), Committee.level != CommitteeLevel.ROOT.value)
        .where(scope.where(Committee.id))
        .order_by(Committee.code)
    )
    return list((await session.scalars(query)).all())
