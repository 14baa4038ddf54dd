"""Who may do what, where: one table of role x action -> reach, and the scopes it yields.

Outside the caller's read reach a thing does not exist (404, so nothing leaks); inside it, an
action the role may not take is refused (403). Changing a permission is a change to PERMISSIONS.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from api.models import Committee, Role
from api.problems import Forbidden, NotFound


class Action(StrEnum):
    READ = "read"
    COMPLETE = "complete"
    EXTEND = "extend"
    WAIVE = "waive"
    START_CYCLES = "start_cycles"
    MANAGE_COMMITTEES = "manage_committees"
    MANAGE_USERS = "manage_users"
    READ_USERS = "read_users"
    RECORD = "record"
    MANAGE_ROSTER = "manage_roster"
    MANAGE_TEMPLATES = "manage_templates"
    # Export, timeline, state as of, replay, audit-log verification and cross-check: reads
    # (a replay changes nothing), for those who answer for the whole record.
    AUDIT = "audit"
    MANAGE_NOTIFICATIONS = "manage_notifications"  # delivery status, failures, resends
    KEEP_REGISTERS = "keep_registers"  # record, correct and withdraw register entries


class Reach(StrEnum):
    OWN = "own"  # the caller's own committee
    SUBTREE = "subtree"  # the caller's committee and every committee below it
    # A board's organisation: the subtree of the committee its user belongs to (the top-level
    # party organisation whose Ban Tuyên giáo và Dân vận it is); a board user of no committee
    # (a national board) reaches every committee.
    ORGANISATION = "organisation"
    ALL = "all"


PERMISSIONS: dict[Role, dict[Action, Reach]] = {
    Role.STAFF: {
        Action.READ: Reach.OWN, Action.COMPLETE: Reach.OWN, Action.MANAGE_ROSTER: Reach.OWN,
        Action.KEEP_REGISTERS: Reach.OWN,
    },
    Role.SUPERVISOR: {
        Action.READ: Reach.SUBTREE,
        Action.COMPLETE: Reach.OWN,
        Action.MANAGE_ROSTER: Reach.OWN,
        Action.KEEP_REGISTERS: Reach.OWN,
        Action.EXTEND: Reach.SUBTREE,
        Action.WAIVE: Reach.SUBTREE,
    },
    Role.BOARD: {
        Action.READ: Reach.ORGANISATION,
        Action.EXTEND: Reach.ORGANISATION,
        Action.WAIVE: Reach.ORGANISATION,
        Action.START_CYCLES: Reach.ORGANISATION,
        Action.READ_USERS: Reach.ORGANISATION,
        Action.AUDIT: Reach.ORGANISATION,
    },
    Role.AUDITOR: {Action.READ: Reach.ALL, Action.READ_USERS: Reach.ALL, Action.AUDIT: Reach.ALL},
    Role.ADMIN: {
        Action.READ: Reach.ALL,
        Action.EXTEND: Reach.ALL,
        Action.WAIVE: Reach.ALL,
        Action.START_CYCLES: Reach.ALL,
        Action.MANAGE_COMMITTEES: Reach.ALL,
        Action.MANAGE_USERS: Reach.ALL,
        Action.READ_USERS: Reach.ALL,
        Action.MANAGE_ROSTER: Reach.ALL,
        Action.MANAGE_TEMPLATES: Reach.ALL,
        Action.AUDIT: Reach.ALL,
        Action.MANAGE_NOTIFICATIONS: Reach.ALL,
        Action.KEEP_REGISTERS: Reach.ALL,
    },
    Role.SERVICE: {Action.RECORD: Reach.ALL, Action.START_CYCLES: Reach.ALL},
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    name: str
    role: Role
    committee_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Scope:
    """The committees an action reaches; `committee_ids` None means every committee."""

    committee_ids: frozenset[int] | None

    def allows(self, committee_id: int) -> bool:
        return self.committee_ids is None or committee_id in self.committee_ids

    def where(self, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
        """A WHERE clause restricting `column` (a committee id) to this scope."""
        if self.committee_ids is None:
            return true()
        return column.in_(sorted(self.committee_ids))


async def subtree_ids(*, session: AsyncSession, committee_id: int) -> frozenset[int]:
    """A committee's id and the ids of every committee below it."""
    tree = select(Committee.id).where(Committee.id == committee_id).cte("tree", recursive=True)
    tree = tree.union(select(Committee.id).where(Committee.parent_id == tree.c.id))
    return frozenset((await session.scalars(select(tree.c.id))).all())


async def scope_for(
    *, session: AsyncSession, principal: Principal, action: Action
) -> Scope | None:
    """The committees `principal` may take `action` on, or None if the role never may."""
    reach = PERMISSIONS.get(principal.role, {}).get(action)
    if reach is None:
        return None
    if reach is Reach.ALL or (reach is Reach.ORGANISATION and principal.committee_id is None):
        return Scope(None)
    if principal.committee_id is None:
        return Scope(frozenset())
    if reach is Reach.OWN:
        return Scope(frozenset({principal.committee_id}))
    return Scope(await subtree_ids(session=session, committee_id=principal.committee_id))


async def read_scope(*, session: AsyncSession, principal: Principal) -> Scope:
    """The committees `principal` can see."""
    scope = await scope_for(session=session, principal=principal, action=Action.READ)
    return scope or Scope(frozenset())


async def authorize(
    *,
    session: AsyncSession,
    principal: Principal,
    action: Action,
    committee_id: int,
    missing: str,
) -> None:
    """404 (`missing`) if the committee is out of sight, 403 if the action is not allowed."""
    if not (await read_scope(session=session, principal=principal)).allows(committee_id):
        raise NotFound(missing)
    if action is Action.READ:
        return
    scope = await scope_for(session=session, principal=principal, action=action)
    if scope is None or not scope.allows(committee_id):
        raise forbidden(principal, action)


def require(principal: Principal, action: Action) -> None:
    """403 unless the role may take `action` somewhere."""
    if action not in PERMISSIONS.get(principal.role, {}):
        raise forbidden(principal, action)


_WHERE = {Reach.OWN: "in its own committee",
          Reach.SUBTREE: "in its own committee and those below it",
          Reach.ORGANISATION: "in its own organisation"}


def forbidden(principal: Principal, action: Action) -> Forbidden:
    """A 403 that says what the role may do instead, or which roles may do this."""
    verb = action.value.replace("_", " ")
    reach = PERMISSIONS.get(principal.role, {}).get(action)
    if reach is not None and reach is not Reach.ALL:
        return Forbidden(f"the {principal.role} role may {verb} only {_WHERE[reach]}")
    allowed = [role.value for role, actions in PERMISSIONS.items()
               if action in actions and role is not Role.SERVICE]
    takes = f"; that takes the {' or '.join(allowed)} role" if allowed else ""
    return Forbidden(f"the {principal.role} role may not {verb}{takes}")
