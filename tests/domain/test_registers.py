"""Register rules: the day an entry may name, who may be named on it, what a period counts."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.registers import (
    ActivityBody,
    ServingSpan,
    activity_figures,
    check_day,
    check_reporter_served,
)


def held(day: str, form: str = "in_person", audience: int = 10) -> ActivityBody:
    return ActivityBody.model_validate({
        "held_on": day, "reporters": [1], "place": "Chi bộ 1", "topic": "Chỉ thị 30",
        "form": form, "audience": audience,
    })


def test_a_period_counts_its_first_and_last_day_and_nothing_outside() -> None:
    activities = [held("2024-12-14", audience=1), held("2024-12-15", "online", 20),
                  held("2025-03-01", "both", 30), held("2025-06-14", audience=40),
                  held("2025-06-15", "online", 1000)]
    figures = activity_figures(activities, date(2024, 12, 15), date(2025, 6, 14))
    assert (figures.sessions, figures.audience, figures.online) == (3, 90, 2)
    assert figures.online_share == pytest.approx(2 / 3, abs=1e-4)
    empty = activity_figures([], date(2025, 1, 1), date(2025, 1, 2))
    assert (empty.sessions, empty.online_share) == (0, None)


def test_a_register_records_work_done_since_2000() -> None:
    today = date(2025, 5, 1)
    assert check_day(today, today=today) is None
    assert "after today" in (check_day(date(2025, 5, 2), today=today) or "")
    assert "before 2000-01-01" in (check_day(date(1999, 12, 31), today=today) or "")


def test_a_reporter_is_named_from_the_term_start_to_the_day_they_left() -> None:
    span = ServingSpan(7, term_start=date(2025, 2, 1), left_on=date(2025, 4, 30))
    assert check_reporter_served(span, date(2025, 2, 1)) is None
    assert check_reporter_served(span, date(2025, 4, 30)) is None
    assert "recognised from 2025-02-01" in (check_reporter_served(span, date(2025, 1, 31)) or "")
    assert "left on 2025-04-30" in (check_reporter_served(span, date(2025, 5, 1)) or "")


def test_a_body_lists_each_reporter_once_and_takes_only_known_forms() -> None:
    with pytest.raises(ValidationError, match="more than once"):
        ActivityBody.model_validate({**held("2025-01-01").model_dump(), "reporters": [3, 3]})
    with pytest.raises(ValidationError, match="form"):
        ActivityBody.model_validate({**held("2025-01-01").model_dump(), "form": "radio"})
