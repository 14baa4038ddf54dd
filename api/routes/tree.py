"""The committee tree over time: moving a committee under another parent from a date."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import CurrentUser, IdempotencyDep, SessionDep
from api.problems import NotFound, problem_responses
from api.schemas_rosters import MoveCreate, ParentHistory
from api.services import committees, tree
from api.services.access import Action, read_scope, require

router = APIRouter(tags=["committees"])


@router.post(
    "/committees/{code}/moves",
    status_code=status.HTTP_201_CREATED,
    response_model=ParentHistory,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def move_committee(
    code: str, data: MoveCreate, session: SessionDep, user: CurrentUser, idem: IdempotencyDep,
    response: Response,
) -> ParentHistory:
    """Move a committee under another parent from a date (admin). Its history, tasks and
    reports stay with it; escalations from that date on go to the new parent."""
    require(user, Action.MANAGE_COMMITTEES)
    moved = await tree.move(session=session, code=code, data=data, actor=user.name)
    response.headers["Location"] = f"/committees/{code}/parents"
    await idem.remember(
        status=status.HTTP_201_CREATED, body=moved, session=session,
        headers={"Location": response.headers["Location"]},
    )
    await session.commit()
    return moved


@router.get(
    "/committees/{code}/parents",
    response_model=ParentHistory,
    responses=problem_responses(401, 404, 422),
)
async def parent_history(code: str, session: SessionDep, user: CurrentUser) -> ParentHistory:
    """Every parent the committee has had, with the days each link held."""
    scope = await read_scope(session=session, principal=user)
    committee = await committees.get_by_code(session=session, code=code)
    if committee is None or not scope.allows(committee.id):
        raise NotFound(f"committee {code!r} not found")
    return await tree.history(session=session, committee=committee)
