"""Templates: versioned records of what a committee owes in a year."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.deps import CurrentUser, IdempotencyDep, SessionDep
from api.problems import problem_responses
from api.schemas_rosters import TemplateList, TemplatePublic
from api.services import templates
from api.services.access import Action, require
from domain.template import Template

router = APIRouter(tags=["templates"])


async def _refuse_unknown_fields(request: Request) -> None:
    """A template sent here names only known fields (the model itself ignores unknown ones,
    so that a cycle's input from a newer release replays on older code). Checked in the
    handler, after the caller's rights and the Idempotency-Key, like every other refusal."""
    try:
        Template.model_validate(await request.json(), extra="forbid")
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


@router.post(
    "/templates",
    status_code=status.HTTP_201_CREATED,
    response_model=TemplatePublic,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_template(
    data: Template, session: SessionDep, user: CurrentUser, idem: IdempotencyDep,
    request: Request, response: Response,
) -> TemplatePublic:
    """Create the next version of a template (admin); cycles started from now on use it."""
    require(user, Action.MANAGE_TEMPLATES)
    await _refuse_unknown_fields(request)
    created = await templates.create_version(
        session=session, template=data, version_given="version" in data.model_fields_set,
        actor=user.name,
    )
    response.headers["Location"] = f"/templates/{created.code}/versions/{created.version}"
    await idem.remember(
        status=status.HTTP_201_CREATED, body=created, session=session,
        headers={"Location": response.headers["Location"]},
    )
    await session.commit()
    return created


@router.get("/templates", response_model=TemplateList, responses=problem_responses(401))
async def list_templates(session: SessionDep, user: CurrentUser) -> TemplateList:
    """Every version of every template, newest version first."""
    return TemplateList(items=await templates.list_versions(session=session))


@router.get(
    "/templates/{code}/versions/{version}",
    response_model=TemplatePublic,
    responses=problem_responses(401, 404, 422),
)
async def get_template(
    code: str, version: Annotated[int, Path(ge=1)], session: SessionDep, user: CurrentUser
) -> TemplatePublic:
    """One version of a template: its items, dates, ladder and roster minimums."""
    return await templates.get_version(session=session, code=code, version=version)
