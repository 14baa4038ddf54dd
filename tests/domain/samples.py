"""Valid evidence for each kind, shared by the domain and workflow tests."""

from __future__ import annotations

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
