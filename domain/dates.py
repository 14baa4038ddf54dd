"""How far from its cycle year a date may lie: deadlines moved by supervisors, dates in evidence.

A cycle of year Y concerns Y. A deadline may move no later than the end of Y+1. A date inside
evidence (a decision, a conference, a document) may be a little later than Y, since a task
extended into Y+1 may still be done late after that, but not further: 2301 for 2031 is a typing
mistake. It may be much older than Y, since a roster's recognition decision stands for a term
of office, but not older than 2000, the first cycle year the system takes: 0001-01-01 and
1900-01-01 are refused.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

EARLIEST_EVIDENCE_DAY = date(2000, 1, 1)
EVIDENCE_YEARS_AFTER = 2
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise ValueError("a day is written YYYY-MM-DD")


# A day as a caller writes it: YYYY-MM-DD (or a date object), never a number that pydantic's lax
# mode would read as a Unix timestamp (0 -> 1970-01-01).
IsoDate = Annotated[date, BeforeValidator(_iso_day), Field(strict=False)]


def last_due_day(cycle_year: int) -> date:
    """The latest a deadline of the cycle year may be moved to."""
    return date(cycle_year + 1, 12, 31)


def evidence_window(cycle_year: int) -> tuple[date, date]:
    """The first and last day a date inside a cycle year's evidence may name."""
    return EARLIEST_EVIDENCE_DAY, date(cycle_year + EVIDENCE_YEARS_AFTER, 12, 31)


def dates_outside_window(evidence: BaseModel, *, cycle_year: int) -> list[tuple[str, date]]:
    """Every calendar date in parsed evidence (as a dotted path) that lies outside the window.

    Only dates a person gives: datetimes (instants the system stamps) are left alone.
    """
    first, last = evidence_window(cycle_year)
    found: list[tuple[str, date]] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name), f"{path}.{name}" if path else name)
        elif isinstance(value, list | tuple):
            for index, element in enumerate(value):
                walk(element, f"{path}.{index}")
        elif isinstance(value, dict):
            for key, element in value.items():
                walk(element, f"{path}.{key}")
        elif type(value) is date and not first <= value <= last:
            found.append((path, value))

    walk(evidence, "")
    return found
