"""Evidence forms: a form's fields as the evidence the service checks, and the service's field
problems as Vietnamese messages beside their fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.problems import FieldProblem
from domain.dates import evidence_window
from domain.evidence import PlanEvidence
from domain.template import EvidenceKind


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    widget: str = "text"  # text | date | textarea | lines
    required: bool = True
    hint: str = ""


PLAN_FIELDS = (
    Field("document_number", "Số văn bản", hint="Ví dụ: 12-KH/ĐU"),
    Field("document_date", "Ngày ban hành", widget="date", hint="Dạng dd/mm/yyyy"),
    Field("summary", "Tóm tắt nội dung", widget="textarea"),
    Field("attachments", "Tệp đính kèm", widget="lines", required=False,
          hint="Mỗi dòng một tên tệp; có thể để trống"),
)
FORMS: dict[EvidenceKind, tuple[Field, ...]] = {EvidenceKind.PLAN: PLAN_FIELDS}
DATE_FORMAT = "%d/%m/%Y"


def parse_form(
    kind: EvidenceKind, form: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The evidence a form states, and the fields it could not even read (a date not written
    dd/mm/yyyy). Everything else is for the service to judge."""
    evidence: dict[str, Any] = {"kind": kind.value}
    errors: dict[str, str] = {}
    for field in FORMS[kind]:
        raw = str(form.get(field.name, "")).strip()
        if field.widget == "lines":
            evidence[field.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif field.widget == "date":
            if not raw:
                errors[field.name] = "Cần điền mục này."
                continue
            try:
                evidence[field.name] = datetime.strptime(raw, DATE_FORMAT).date().isoformat()
            except ValueError:
                errors[field.name] = "Nhập ngày theo dạng dd/mm/yyyy, ví dụ 15/01/2030."
        else:
            evidence[field.name] = raw
    return evidence, errors


def _message(problem: FieldProblem, *, year: int) -> str:
    if problem.type in ("missing", "string_too_short"):
        return "Cần điền mục này."
    if problem.type == "string_too_long":
        return "Nội dung quá dài."
    if problem.type == "too_long":
        return "Quá nhiều dòng."
    if problem.type == "date_out_of_range":
        first, last = evidence_window(year)
        return (f"Ngày phải nằm trong khoảng {first.strftime(DATE_FORMAT)} – "
                f"{last.strftime(DATE_FORMAT)} của chu kỳ năm {year}.")
    return f"Giá trị chưa hợp lệ ({problem.detail})."


def field_messages(
    problems: Iterable[FieldProblem | Mapping[str, Any]], *, year: int
) -> tuple[dict[str, str], list[str]]:
    """The service's problems as a message per form field, and those no field shows."""
    by_field: dict[str, str] = {}
    other: list[str] = []
    for item in problems:
        problem = item if isinstance(item, FieldProblem) else FieldProblem.model_validate(item)
        name = problem.field.removeprefix("evidence.").split(".")[0]
        if name in PlanEvidence.model_fields and name != "kind":
            by_field.setdefault(name, _message(problem, year=year))
        else:
            other.append(problem.detail)
    return by_field, other
