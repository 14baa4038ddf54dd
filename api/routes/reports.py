"""Reports and roll-ups: a report task's draft, a subtree's summary, and their exports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUser, SessionDep
from api.problems import problem_responses
from api.schemas_reports import DraftPublic, Summary
from api.services import exports, reports, summary
from api.services.exports import Format, Lang
from domain.dates import IsoDate

router = APIRouter(tags=["reports"])

FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The table as CSV (UTF-8) or XLSX",
        "content": {media: {} for media in exports.MEDIA_TYPES.values()},
    },
    **problem_responses(401, 404, 422),
}
FormatQuery = Query(default=Format.CSV, description="csv or xlsx.")
LangQuery = Query(default=Lang.VI, description="Column headers: vi (default) or en.")
YearQuery = Query(ge=2000, le=2200, description="The cycle year.")
AsOfQuery = Query(
    default=None,
    description="Answer as things stood at the end of this day (Asia/Ho_Chi_Minh); default now.",
)


def _file(content: bytes, fmt: Format, stem: str) -> Response:
    return Response(
        content=content, media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{exports.filename(stem, fmt)}"'},
    )


@router.get(
    "/tasks/{task_id}/draft",
    response_model=DraftPublic,
    responses=problem_responses(401, 404, 422),
)
async def report_draft(task_id: int, session: SessionDep, user: CurrentUser) -> DraftPublic:
    """A report task's figures computed from what the system holds for its period."""
    return await reports.draft_for_task(session=session, principal=user, task_id=task_id)


@router.get("/tasks/{task_id}/report/export", response_class=Response, responses=FILE_RESPONSES)
async def export_report(
    task_id: int, session: SessionDep, user: CurrentUser,
    format: Format = FormatQuery, lang: Lang = LangQuery,
) -> Response:
    """A submitted report as a table: each figure as drafted, as reported, and if corrected."""
    task, report = await reports.submitted_report(
        session=session, principal=user, task_id=task_id
    )
    table = exports.report_table(committee=task.committee, year=task.year, report=report,
                                 lang=lang)
    return _file(exports.render(table, format), format,
                 f"report-{task.committee}-{task.year}-{report.period}")


@router.get(
    "/committees/{code}/summary",
    response_model=Summary,
    responses=problem_responses(401, 404, 422),
)
async def committee_summary(
    code: str, session: SessionDep, user: CurrentUser, year: int = YearQuery,
    as_of: IsoDate | None = AsOfQuery,
) -> Summary:
    """A committee's subtree rolled up for a year: per child and in total, as of a date."""
    return await summary.summarise(
        session=session, principal=user, code=code, year=year, as_of=as_of
    )


@router.get(
    "/committees/{code}/summary/export", response_class=Response, responses=FILE_RESPONSES
)
async def export_summary(
    code: str, session: SessionDep, user: CurrentUser, year: int = YearQuery,
    as_of: IsoDate | None = AsOfQuery, format: Format = FormatQuery, lang: Lang = LangQuery,
) -> Response:
    """The summary as a table: a row per child (and the committee's own cycle), then the total."""
    rolled = await summary.summarise(
        session=session, principal=user, code=code, year=year, as_of=as_of
    )
    table = exports.summary_table(rolled, lang)
    return _file(exports.render(table, format), format,
                 f"summary-{rolled.committee}-{year}-{rolled.as_of.isoformat()}")
