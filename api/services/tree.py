"""The committee tree over time: dated parent links, moves, and the tree as of a day.

`committees.parent_id` is the latest link, which scopes reading and acting today. The links
say who the parent was on any day, so an escalation goes to the parent of its own day and a
roll-up as of a past date sees the tree of that date. A committee without links has had its
parent_id all along; its first move records that original link, from EARLIEST.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Committee, CommitteeParent
from api.problems import Conflict, NotFound, Unprocessable
from api.schemas_rosters import MoveCreate, ParentHistory, ParentLink
from api.services import committees
from api.services.audit import append_audit
from domain.calendar import HCM
from domain.contracts import CommitteeLevel

EARLIEST = date(1900, 1, 1)
Parents = dict[int, int | None]  # committee id -> parent id, on one day


def day_of(instant: datetime) -> date:
    """The calendar day of an instant in Asia/Ho_Chi_Minh."""
    return instant.astimezone(HCM).date()


async def _links(
    session: AsyncSession, committee_id: int | None = None
) -> dict[int, list[CommitteeParent]]:
    query = select(CommitteeParent).order_by(CommitteeParent.valid_from)
    if committee_id is not None:
        query = query.where(CommitteeParent.committee_id == committee_id)
    found: dict[int, list[CommitteeParent]] = defaultdict(list)
    for link in (await session.scalars(query)).all():
        found[link.committee_id].append(link)
    return found


def parent_on(committee: Committee, links: list[CommitteeParent], day: date) -> int | None:
    """The parent on `day`: the latest link from that day or before; without links, parent_id."""
    if not links:
        return committee.parent_id
    current = links[0].parent_id
    for link in links:
        if link.valid_from > day:
            break
        current = link.parent_id
    return current


async def parents_on(*, session: AsyncSession, day: date) -> tuple[Parents, dict[int, Committee]]:
    """Every committee's parent on `day`, and the committees by id."""
    rows = {c.id: c for c in (await session.scalars(select(Committee))).all()}
    links = await _links(session)
    return {cid: parent_on(c, links.get(cid, []), day) for cid, c in rows.items()}, rows


def children_of(parents: Parents, committee_id: int) -> list[int]:
    return sorted(cid for cid, parent in parents.items() if parent == committee_id)


def subtree_of(parents: Parents, committee_id: int) -> set[int]:
    """A committee and everything below it in one day's tree."""
    found, frontier = {committee_id}, [committee_id]
    while frontier:
        below = [c for c in children_of(parents, frontier.pop()) if c not in found]
        found.update(below)
        frontier.extend(below)
    return found


async def parent_as_of(
    *, session: AsyncSession, committee: Committee, day: date
) -> Committee | None:
    """The committee's parent on `day`."""
    links = (await _links(session, committee.id)).get(committee.id, [])
    parent_id = parent_on(committee, links, day)
    return await session.get(Committee, parent_id) if parent_id is not None else None


async def root_as_of(*, session: AsyncSession, committee: Committee, day: date) -> Committee:
    """The top of the committee's tree on `day` (the committee itself if it has no parent)."""
    current = committee
    for _ in range(committees.MAX_DEPTH):
        parent = await parent_as_of(session=session, committee=current, day=day)
        if parent is None:
            return current
        current = parent
    return current


async def move(
    *, session: AsyncSession, code: str, data: MoveCreate, actor: str
) -> ParentHistory:
    """Put a committee under another parent from `effective_on`; its records stay its own."""
    committee = await committees.get_by_code(session=session, code=code)
    if committee is None:
        raise NotFound(f"committee {code!r} not found")
    if committee.level == CommitteeLevel.ROOT:
        raise _field("parent", f"{code!r} is a root committee: it has no parent to change")
    parent = await committees.get_by_code(session=session, code=data.parent)
    if parent is None:
        raise _field("parent", f"no committee has the code {data.parent!r}")
    if parent.level == CommitteeLevel.GRASSROOTS:
        raise _field("parent", "a grassroots committee cannot have committees below it")
    parents, _ = await parents_on(session=session, day=data.effective_on)
    if parent.id in subtree_of(parents, committee.id):
        raise _field("parent", f"{data.parent!r} is {code!r} or below it: the tree would loop")
    links = (await _links(session, committee.id)).get(committee.id, [])
    if links and data.effective_on <= links[-1].valid_from:
        raise Conflict(
            f"{code!r} last moved on {links[-1].valid_from}; a move must come after it "
            "(the tree's history is not rewritten)"
        )
    if parents[committee.id] == parent.id:
        raise Conflict(f"{code!r} is already under {data.parent!r} on {data.effective_on}")
    if not links and committee.parent_id is not None:
        session.add(CommitteeParent(
            committee_id=committee.id, parent_id=committee.parent_id, valid_from=EARLIEST,
            reason="the parent it was created under", created_by=actor,
        ))
    session.add(CommitteeParent(
        committee_id=committee.id, parent_id=parent.id, valid_from=data.effective_on,
        reason=data.reason, created_by=actor,
    ))
    previous = committee.parent_id
    committee.parent_id = parent.id
    await session.flush()
    await append_audit(
        session=session, actor=actor, action="committee.moved", subject=f"committee/{code}",
        payload={**data.model_dump(mode="json"), "previous_parent_id": previous},
    )
    return await history(session=session, committee=committee)


async def history(*, session: AsyncSession, committee: Committee) -> ParentHistory:
    """Every parent the committee has had, oldest first."""
    links = (await _links(session, committee.id)).get(committee.id, [])
    codes = {c.id: c.code for c in (await session.scalars(select(Committee))).all()}
    shown = [
        ParentLink(
            parent=codes[link.parent_id], valid_from=link.valid_from,
            valid_until=links[i + 1].valid_from - timedelta(days=1) if i + 1 < len(links) else None,
            reason=link.reason, created_at=link.created_at, created_by=link.created_by,
        )
        for i, link in enumerate(links)
    ]
    if not shown and committee.parent_id is not None:
        shown = [ParentLink(
            parent=codes[committee.parent_id], valid_from=EARLIEST, valid_until=None,
            reason="the parent it was created under", created_at=committee.created_at,
            created_by="",
        )]
    return ParentHistory(
        committee=committee.code, name=committee.name,
        parent=codes.get(committee.parent_id) if committee.parent_id else None, links=shown,
    )


def _field(field: str, detail: str) -> Unprocessable:
    return Unprocessable(
        detail,
        errors=[{"location": "body", "field": field, "pointer": f"/{field}", "detail": detail,
                 "type": "value_error"}],
    )
