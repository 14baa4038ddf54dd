"""Evidence forms, built from the evidence models in domain.evidence: a field per model field
(its widget from its type, its label in Vietnamese), the form read back as the evidence the
service checks, and the service's field problems as Vietnamese messages beside their fields.
A kind whose model holds nested records (roster, report) has no form yet."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic.fields import FieldInfo

from api.problems import FieldProblem
from domain.dates import evidence_window
from domain.evidence import EVIDENCE_MODELS
from domain.template import EvidenceKind

DATE_FORMAT = "%d/%m/%Y"
LABELS: dict[str, tuple[str, str]] = {  # field name: (label, hint)
    "document_number": ("Số văn bản", "Ví dụ: 12-KH/ĐU"),
    "document_date": ("Ngày ban hành", "Dạng dd/mm/yyyy"),
    "summary": ("Tóm tắt nội dung", ""),
    "attachments": ("Tệp đính kèm", "Mỗi dòng một tên tệp"),
    "cells_reached": ("Số chi bộ đã phổ biến", ""),
    "cells_total": ("Tổng số chi bộ", ""),
    "completed_on": ("Ngày hoàn thành", "Dạng dd/mm/yyyy"),
    "held_on": ("Ngày tổ chức", "Dạng dd/mm/yyyy"),
    "attendees": ("Số báo cáo viên dự", ""),
    "topics": ("Chủ đề", "Mỗi dòng một chủ đề"),
    "listeners": ("Số người nghe", ""),
    "online": ("Tổ chức trực tuyến", ""),
    "activities": ("Số hiệu hoạt động trong sổ theo dõi", "Mỗi dòng một số"),
    "findings": ("Kết quả kiểm tra, đánh giá", ""),
    "commendations": ("Khen thưởng", "Mỗi dòng một nội dung"),
    "follow_ups": ("Việc cần làm tiếp", "Mỗi dòng một việc"),
}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    widget: str = "text"  # text | textarea | date | number | checkbox | lines | numbers
    required: bool = True
    hint: str = ""


def _widget(info: FieldInfo) -> str | None:
    """The widget for a model field's type, or None when a form cannot hold it."""
    annotation = info.annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return None
    if origin is list:
        (inner,) = typing.get_args(annotation)
        inner = typing.get_args(inner)[0] if typing.get_origin(inner) is typing.Annotated else inner
        return {str: "lines", int: "numbers"}.get(inner)
    if annotation is date:
        return "date"
    if annotation is bool:
        return "checkbox"
    if annotation is int:
        return "number"
    if annotation is str:
        longest = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), 0)
        return "textarea" if (longest or 0) > 200 else "text"
    return None


def _form(kind: EvidenceKind) -> tuple[Field, ...] | None:
    fields = []
    for name, info in EVIDENCE_MODELS[kind].model_fields.items():
        if name == "kind":
            continue
        widget = _widget(info)
        if widget is None:
            return None
        label, hint = LABELS.get(name, (name, ""))
        required = info.is_required() and widget != "checkbox"
        fields.append(Field(name, label, widget, required, hint))
    return tuple(fields)


FORMS: dict[EvidenceKind, tuple[Field, ...]] = {
    kind: form for kind in EvidenceKind if (form := _form(kind)) is not None
}


def parse_form(
    kind: EvidenceKind, form: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The evidence a form states, and the fields it could not even read (a date not written
    dd/mm/yyyy, a number that is not one). Everything else is for the service to judge."""
    evidence: dict[str, Any] = {"kind": kind.value}
    errors: dict[str, str] = {}
    for field in FORMS[kind]:
        raw = str(form.get(field.name, "")).strip()
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        if field.widget == "checkbox":
            evidence[field.name] = field.name in form
        elif field.widget == "lines":
            evidence[field.name] = lines
        elif field.widget == "numbers":
            if not all(line.isdigit() for line in lines):
                errors[field.name] = "Mỗi dòng một số nguyên dương."
            else:
                evidence[field.name] = [int(line) for line in lines]
        elif not raw and field.required:
            errors[field.name] = "Cần điền mục này."
        elif field.widget == "date":
            try:
                evidence[field.name] = datetime.strptime(raw, DATE_FORMAT).date().isoformat()
            except ValueError:
                errors[field.name] = "Nhập ngày theo dạng dd/mm/yyyy, ví dụ 15/01/2030."
        elif field.widget == "number":
            if not raw.isdigit():
                errors[field.name] = "Nhập một số nguyên không âm."
            else:
                evidence[field.name] = int(raw)
        elif raw:
            evidence[field.name] = raw
    return evidence, errors


def _message(problem: FieldProblem, *, year: int) -> str:
    if problem.type in ("missing", "string_too_short"):
        return "Cần điền mục này."
    if problem.type == "too_short":
        return "Cần ít nhất một dòng."
    if problem.type in ("string_too_long", "less_than_equal"):
        return "Giá trị quá lớn." if problem.type == "less_than_equal" else "Nội dung quá dài."
    if problem.type == "too_long":
        return "Quá nhiều dòng."
    if problem.type in ("greater_than_equal", "greater_than"):
        return "Giá trị quá nhỏ."
    if problem.type == "date_out_of_range":
        first, last = evidence_window(year)
        return (f"Ngày phải nằm trong khoảng {first.strftime(DATE_FORMAT)} – "
                f"{last.strftime(DATE_FORMAT)} của chu kỳ năm {year}.")
    return f"Giá trị chưa hợp lệ ({problem.detail})."


def field_messages(
    problems: Iterable[FieldProblem | Mapping[str, Any]], *, kind: EvidenceKind, year: int
) -> tuple[dict[str, str], list[str]]:
    """The service's problems as a message per form field, and those no field shows."""
    names = {field.name for field in FORMS.get(kind, ())}
    by_field: dict[str, str] = {}
    other: list[str] = []
    for item in problems:
        problem = item if isinstance(item, FieldProblem) else FieldProblem.model_validate(item)
        name = problem.field.removeprefix("evidence.").split(".")[0]
        if name in names:
            by_field.setdefault(name, _message(problem, year=year))
        else:
            other.append(f"Dữ liệu chưa hợp lệ: {problem.detail}")
    return by_field, other
