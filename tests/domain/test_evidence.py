"""Evidence parsing: each kind's form, and the errors that name what is wrong."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from domain.evidence import (
    ConferenceEvidence,
    PlanEvidence,
    ReportEvidence,
    evidence_adapter,
    parse_evidence,
)
from domain.template import EvidenceKind
from tests.domain.samples import EVIDENCE


def problems(kind: EvidenceKind, payload: object) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        parse_evidence(kind, payload)
    return {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}


@pytest.mark.parametrize("kind", list(EvidenceKind))
def test_every_kind_parses_its_sample(kind: EvidenceKind) -> None:
    parsed = parse_evidence(kind, EVIDENCE[kind])
    assert parsed.model_dump()["kind"] == kind.value
    assert evidence_adapter.validate_python(parsed.model_dump()) == parsed


def test_dates_may_come_as_text_and_defaults_fill_in() -> None:
    plan = parse_evidence(EvidenceKind.PLAN, EVIDENCE[EvidenceKind.PLAN])
    assert isinstance(plan, PlanEvidence)
    assert plan.document_date == date(2027, 1, 10) and plan.attachments == []
    report = parse_evidence(EvidenceKind.REPORT, EVIDENCE[EvidenceKind.REPORT])
    assert isinstance(report, ReportEvidence) and report.figures.conferences_held == 0


DATED = [
    (kind, name) for kind in EvidenceKind for name, value in EVIDENCE[kind].items()
    if isinstance(value, str) and len(value) == 10 and value[4] == "-"
]


@pytest.mark.parametrize(("kind", "name"), DATED, ids=[f"{k.value}.{n}" for k, n in DATED])
@pytest.mark.parametrize("stamp", [946684800, "946684800", 946684800.0, "2000-1-1"])
def test_dates_are_iso_days_never_timestamps(kind: EvidenceKind, name: str, stamp: object) -> None:
    """Every date a person gives in evidence is YYYY-MM-DD: 946684800 is not 2000-01-01."""
    with pytest.raises(ValidationError, match="a day is written YYYY-MM-DD"):
        parse_evidence(kind, {**EVIDENCE[kind], name: stamp})


def test_missing_empty_and_unknown_fields_are_named() -> None:
    bad = {"document_number": "", "summary": "x", "colour": "red"}
    assert problems(EvidenceKind.PLAN, bad) == {"document_number", "document_date", "colour"}


def test_numbers_are_not_coerced_from_text() -> None:
    payload: dict[str, Any] = {**EVIDENCE[EvidenceKind.CONFERENCE], "attendees": "40"}
    assert problems(EvidenceKind.CONFERENCE, payload) == {"attendees"}
    ok = parse_evidence(EvidenceKind.CONFERENCE, EVIDENCE[EvidenceKind.CONFERENCE])
    assert isinstance(ok, ConferenceEvidence) and ok.attendees == 40


def test_cross_field_and_list_rules() -> None:
    too_many = {"cells_reached": 13, "cells_total": 12, "completed_on": "2027-03-01"}
    with pytest.raises(ValidationError, match="cells_reached cannot exceed cells_total"):
        parse_evidence(EvidenceKind.DISSEMINATION, too_many)
    no_reporters = {**EVIDENCE[EvidenceKind.ROSTER], "reporters": []}
    assert problems(EvidenceKind.ROSTER, no_reporters) == {"reporters"}
    bad_level = {
        **EVIDENCE[EvidenceKind.ROSTER],
        "reporters": [{"name": "A", "position": "B", "committee_member": True, "level": "x"}],
    }
    assert problems(EvidenceKind.ROSTER, bad_level) == {"reporters.0.level"}
    bad_figures = {"period": "h1", "figures": {"reporters_total": -1}}
    assert problems(EvidenceKind.REPORT, bad_figures) == {"figures.reporters_total"}


def test_evidence_of_another_kind_is_refused() -> None:
    review = {**EVIDENCE[EvidenceKind.REVIEW], "kind": "review"}
    assert "kind" in problems(EvidenceKind.PLAN, review)
    assert problems(EvidenceKind.REVIEW, EVIDENCE[EvidenceKind.PLAN]) >= {"findings"}
    with pytest.raises(ValidationError):
        parse_evidence(EvidenceKind.REVIEW, ["not", "a", "dict"])
