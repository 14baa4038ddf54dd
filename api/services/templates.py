"""Cycle templates: versioned rows. The templates the code knows (the legacy `default` v1 and
the dated versions of `cv-1751`) are seeded on first use; a cycle takes the version of its
template code in force for its year."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import TemplateRow
from api.problems import Conflict, NotFound, Unprocessable
from api.schemas_rosters import TemplatePublic, TemplateSummary
from api.services.audit import append_audit
from domain.default_templates import DEFAULT_VERSIONS
from domain.template import DEFAULT_TEMPLATE, Template, in_force_for_year

KNOWN: dict[str, tuple[Template, ...]] = {
    DEFAULT_TEMPLATE.code: (DEFAULT_TEMPLATE,),
    DEFAULT_VERSIONS[0].code: DEFAULT_VERSIONS,
}
"""The versions the code ships, by template code: seeded as rows when a code has none."""


async def seed_known(*, session: AsyncSession, code: str) -> None:
    """Store the versions the code ships for `code`, if the code has no row yet; audited."""
    versions = KNOWN.get(code, ())
    if not versions or await session.scalar(
        select(TemplateRow.id).where(TemplateRow.code == code).limit(1)
    ) is not None:
        return
    for template in versions:
        row = TemplateRow(
            code=template.code, version=template.version, body=template.model_dump(mode="json")
        )
        session.add(row)
        await session.flush()
        await append_audit(  # the template cycles are measured against
            session=session, actor="system", action="template.created",
            subject=f"template/{row.code}/{row.version}", payload=row.body,
        )


async def template_for_cycle(*, session: AsyncSession, code: str, year: int) -> TemplateRow:
    """The version of `code` a cycle of `year` takes (`domain.template.in_force_for_year`):
    of the versions in force on 1 January, the latest; else the first to come into force
    during the year. 404 if the code is unknown, 422 if no version is in force that year."""
    await seed_known(session=session, code=code)
    rows = (await session.scalars(
        select(TemplateRow).where(TemplateRow.code == code).order_by(TemplateRow.version)
    )).all()
    if not rows:
        raise NotFound(f"template {code!r} not found")
    by_version = {row.version: row for row in rows}
    chosen = in_force_for_year([template_of(row) for row in rows], year)
    if chosen is None:
        raise Unprocessable(
            f"no version of template {code!r} is in force in {year}: "
            + "; ".join(f"v{row.version} {_days_in_force(template_of(row))}" for row in rows)
        )
    return by_version[chosen.version]


def _days_in_force(template: Template) -> str:
    first = template.in_force_from.strftime("%d/%m/%Y") if template.in_force_from else "…"
    last = template.in_force_until.strftime("%d/%m/%Y") if template.in_force_until else "…"
    return f"{first} – {last}"


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
    await append_audit(  # the template every cycle without another one is measured against
        session=session, actor="system", action="template.created",
        subject=f"template/{row.code}/{row.version}", payload=row.body,
    )
    return row


def template_of(row: TemplateRow) -> Template:
    """The domain template a row stores."""
    return Template.model_validate(row.body)


def to_summary(row: TemplateRow) -> TemplateSummary:
    return TemplateSummary(
        code=row.code, version=row.version, items=len(row.body.get("items", [])),
        created_at=row.created_at,
    )


def to_public(row: TemplateRow) -> TemplatePublic:
    return TemplatePublic(**to_summary(row).model_dump(), body=row.body)


async def create_version(
    *, session: AsyncSession, template: Template, version_given: bool, actor: str
) -> TemplatePublic:
    """Store the next version of a template; cycles started from now on use it, running ones
    keep the version they started with. A given version must be the next one (else 409)."""
    await seed_known(session=session, code=template.code)  # the shipped versions come first
    latest = await session.scalar(
        select(func.max(TemplateRow.version)).where(TemplateRow.code == template.code)
    )
    version = (latest or 0) + 1
    if version_given and template.version != version:
        raise Conflict(
            f"template {template.code!r} is at version {latest or 0}: the new version is "
            f"{version}, not {template.version} (omit version to take the next one)"
        )
    body = template.model_copy(update={"version": version}).model_dump(mode="json")
    row = TemplateRow(code=template.code, version=version, body=body)
    session.add(row)
    await session.flush()
    await append_audit(
        session=session, actor=actor, action="template.created",
        subject=f"template/{template.code}/{version}", payload=body,
    )
    return to_public(row)


async def list_versions(*, session: AsyncSession) -> list[TemplateSummary]:
    """Every version of every template (the default seeded if missing), newest first."""
    await current_template(session=session)
    rows = await session.scalars(
        select(TemplateRow).order_by(TemplateRow.code, TemplateRow.version.desc())
    )
    return [to_summary(row) for row in rows.all()]


async def get_version(*, session: AsyncSession, code: str, version: int) -> TemplatePublic:
    """One version of a template, or 404."""
    if code == DEFAULT_TEMPLATE.code:
        await current_template(session=session)
    row = await session.scalar(
        select(TemplateRow).where(TemplateRow.code == code, TemplateRow.version == version)
    )
    if row is None:
        raise NotFound(f"template {code!r} has no version {version}")
    return to_public(row)
