"""Cycle templates: versioned rows; the default template is seeded as version 1 on first use."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import TemplateRow
from api.problems import NotFound
from domain.template import DEFAULT_TEMPLATE, Template


async def current_template(
    *, session: AsyncSession, code: str = DEFAULT_TEMPLATE.code
) -> TemplateRow:
    """The latest version of a template; seeds the default template if it is missing."""
    row = await session.scalar(
        select(TemplateRow).where(TemplateRow.code == code).order_by(TemplateRow.version.desc())
    )
    if row is not None:
        return row
    if code != DEFAULT_TEMPLATE.code:
        raise NotFound(f"template {code!r} not found")
    row = TemplateRow(
        code=DEFAULT_TEMPLATE.code,
        version=DEFAULT_TEMPLATE.version,
        body=DEFAULT_TEMPLATE.model_dump(mode="json"),
    )
    session.add(row)
    await session.flush()
    return row


def template_of(row: TemplateRow) -> Template:
    """The domain template a row stores."""
    return Template.model_validate(row.body)
