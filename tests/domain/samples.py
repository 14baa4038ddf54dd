"""Valid evidence for each kind, shared by the domain and workflow tests."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from domain.template import EvidenceKind

EVIDENCE: dict[EvidenceKind, dict[str, Any]] = {
    EvidenceKind.PLAN: {
        "document_number": "01-KH/ĐU", "document_date": "2027-01-10", "summary": "Kế hoạch năm",
    },
    EvidenceKind.DISSEMINATION: {
        "cells_reached": 12, "cells_total": 12, "completed_on": "2027-03-01",
    },
    EvidenceKind.ROSTER: {
        "decision_number": "15-QĐ/ĐU", "decision_date": "2027-02-01",
        "reporters": [{"name": "Nguyễn Văn A", "position": "Phó Bí thư", "committee_member": True}],
    },
    EvidenceKind.CONFERENCE: {
        "held_on": "2027-03-20", "attendees": 40, "topics": ["Chỉ thị 30"], "listeners": 300,
    },
    EvidenceKind.REVIEW: {"findings": "Thực hiện tốt"},
    EvidenceKind.REPORT: {"period": "h1", "figures": {"reporters_total": 5}},
}


def evidence_for(kind: EvidenceKind, *, key: str, year: int) -> dict[str, Any]:
    """The sample evidence for a task: a quarterly conference held mid-way through its quarter."""
    sample = EVIDENCE[kind]
    quarter = re.fullmatch(r"[a-z][a-z0-9-]*-q([1-4])", key)
    if kind is EvidenceKind.CONFERENCE and quarter:
        held_on = date(year, 3 * int(quarter.group(1)) - 1, 15)
        return {**sample, "held_on": held_on.isoformat()}
    return sample
