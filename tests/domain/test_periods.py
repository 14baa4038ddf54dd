"""Report periods follow the Decree 09/2019 cut-off and end inside the cycle year."""

from __future__ import annotations

from datetime import date

import pytest

from domain.periods import report_period


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_periods_start_on_the_previous_15_december(year: int) -> None:
    assert report_period("h1", year) == (date(year - 1, 12, 15), date(year, 6, 14))
    assert report_period("year", year) == (date(year - 1, 12, 15), date(year, 12, 14))


def test_consecutive_annual_periods_touch_without_overlap() -> None:
    _, end_2025 = report_period("year", 2025)
    start_2026, _ = report_period("year", 2026)
    assert (start_2026 - end_2025).days == 1
