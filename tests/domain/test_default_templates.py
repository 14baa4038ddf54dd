"""The default calendar of 1751-CV/ĐUK: its dated versions, and the rules every year keeps."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.calendar import obligations
from domain.calendar_rules import LEVELS, faults
from domain.default_templates import DEFAULT_VERSIONS, FIRST_YEAR, STANDING
from domain.periods import quarter_days, report_period
from domain.template import (
    DEFAULT_TEMPLATE,
    LevelDates,
    MonthDay,
    Source,
    Template,
    in_force,
    in_force_for_year,
)

versions = st.sampled_from(DEFAULT_VERSIONS)
years = st.integers(min_value=2024, max_value=2027)
levels = st.sampled_from(LEVELS)


@given(template=versions, year=years, level=levels)
def test_no_obligation_falls_due_before_a_prerequisite(
    template: Template, year: int, level: str
) -> None:
    owed = {o.key: o for o in obligations(template, year, level)}
    for o in owed.values():
        for key in o.prerequisites:
            assert owed[key].due_on <= o.due_on, (o.key, key)


@given(template=versions, year=years, level=levels)
def test_every_report_opens_and_falls_due_after_its_period(
    template: Template, year: int, level: str
) -> None:
    for o in obligations(template, year, level):
        period = template.item(o.item_key).period
        if period is not None:
            _, last = report_period(period, year)
            assert last < o.opens_on <= o.due_on, o.key


@given(template=versions, year=years)
def test_grassroots_reports_fall_due_before_their_upper_committees(
    template: Template, year: int
) -> None:
    upper = {o.key: o for o in obligations(template, year, "upper")}
    reports = [
        o for o in obligations(template, year, "grassroots")
        if template.item(o.item_key).period is not None
    ]
    assert len(reports) == (2 if in_force_for_year(DEFAULT_VERSIONS, year) is template else 0)
    for o in reports:
        assert o.due_on < upper[o.key].due_on


@given(template=versions, year=years, level=levels)
def test_conferences_sit_in_their_quarter_and_wait_for_nothing(
    template: Template, year: int, level: str
) -> None:
    for o in obligations(template, year, level):
        if o.item_key == "conference":
            first, last = quarter_days(year, o.occurrence)
            assert first <= o.opens_on <= o.due_on <= last
            assert o.prerequisites == ()
        if o.item_key == "roster":
            assert o.prerequisites == ()  # the roster does not wait for the plan


@given(template=versions, year=years)
def test_the_rule_checker_finds_nothing_in_the_default_versions(
    template: Template, year: int
) -> None:
    assert faults(template, year) == []


def test_the_rule_checker_finds_what_the_superseded_template_got_wrong() -> None:
    found = faults(DEFAULT_TEMPLATE, 2026)
    assert any("conference-q1 is due 2026-03-31 before its prerequisite roster" in f
               for f in found)
    # It names no report periods; given the old report dates, the checker finds them wrong.
    old_h1 = STANDING.item("report-h1").model_copy(
        update={"opens": MonthDay(month=6, day=1), "due": MonthDay(month=6, day=15),
                "by_level": ()}
    )
    old = STANDING.model_copy(
        update={"items": tuple(old_h1 if i.key == "report-h1" else i for i in STANDING.items)}
    )
    found = faults(old, 2026)
    assert any("grassroots report-h1" in f and "not before the upper" in f for f in found)
    assert any("report-h1 opens 2026-06-01, due 2026-06-15, not after" in f for f in found)


def test_a_cycle_takes_the_version_in_force() -> None:
    assert in_force_for_year(DEFAULT_VERSIONS, 2023) is None
    assert in_force_for_year(DEFAULT_VERSIONS, 2024) is FIRST_YEAR
    for year in (2025, 2026, 2027, 2040):
        assert in_force_for_year(DEFAULT_VERSIONS, year) is STANDING
    assert in_force(DEFAULT_VERSIONS, date(2024, 4, 21)) is None
    assert in_force(DEFAULT_VERSIONS, date(2024, 4, 22)) is FIRST_YEAR
    assert in_force(DEFAULT_VERSIONS, date(2024, 12, 31)) is FIRST_YEAR
    assert in_force(DEFAULT_VERSIONS, date(2025, 1, 1)) is STANDING


@given(day=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_at_most_one_default_version_is_in_force_on_any_day(day: date) -> None:
    found = [t for t in DEFAULT_VERSIONS if t.in_force_on(day)]
    assert len(found) <= 1
    assert in_force(DEFAULT_VERSIONS, day) is (found[0] if found else None)


def test_the_2024_roster_is_a_one_off_due_before_november_2024() -> None:
    owed = {o.key: o for o in obligations(FIRST_YEAR, 2024, "grassroots")}
    assert owed["roster"].due_on == date(2024, 10, 31)
    assert owed["roster"].opens_on == date(2024, 4, 22)  # the day of the document
    assert "trước tháng 11/2024" in owed["roster"].title_vi
    assert FIRST_YEAR.item("roster").due_source is Source.DOC
    for year in (2025, 2026, 2027):
        assert "roster" not in {o.item_key for o in obligations(STANDING, year)}
    # Nothing of the first year is owed in another year, nor before the document.
    assert obligations(FIRST_YEAR, 2025) == []
    assert obligations(STANDING, 2024) == []
    assert min(o.opens_on for o in owed.values()) == date(2024, 4, 22)
    # The first quarter ended before the document: its conference is not owed.
    assert [o.key for o in owed.values() if o.item_key == "conference"] == [
        "conference-q2", "conference-q3", "conference-q4",
    ]


def test_standing_dates_per_level_for_2026() -> None:
    def dates(level: str) -> dict[str, tuple[date, date]]:
        return {o.key: (o.opens_on, o.due_on) for o in obligations(STANDING, 2026, level)}

    grassroots, upper = dates("grassroots"), dates("upper")
    assert grassroots["report-h1"] == (date(2026, 6, 15), date(2026, 6, 20))
    assert upper["report-h1"] == (date(2026, 6, 15), date(2026, 6, 25))
    assert grassroots["report-year"] == (date(2026, 12, 15), date(2026, 12, 20))
    assert upper["report-year"] == (date(2026, 12, 15), date(2026, 12, 25))
    assert grassroots["plan"] == upper["plan"] == (date(2026, 1, 1), date(2026, 1, 31))
    assert grassroots["conference-q3"] == (date(2026, 7, 1), date(2026, 9, 30))
    # A level the template does not date separately takes the item's own dates.
    assert dates("root") == upper


def test_titles_are_worded_as_the_document_words_them() -> None:
    owed = {o.key: o for o in obligations(STANDING, 2026, "grassroots")}
    assert owed["plan"].title_vi == (
        "Xây dựng chương trình, kế hoạch công tác tuyên truyền miệng và hoạt động báo cáo viên "
        "năm 2026"
    )
    assert owed["report-h1"].title_vi == (
        "Báo cáo kết quả hoạt động của đội ngũ báo cáo viên 6 tháng đầu năm 2026"
    )
    assert owed["report-year"].title_vi == (
        "Báo cáo kết quả hoạt động của đội ngũ báo cáo viên năm 2026"
    )
    assert owed["conference-q2"].title_vi.endswith("quý II năm 2026")
    assert owed["conference-q2"].title_en.endswith("Q2 2026")
    assert all("{" not in o.title_vi + o.title_en for o in owed.values())


def test_every_version_and_item_names_its_basis_and_days_in_force() -> None:
    for template in DEFAULT_VERSIONS:
        assert template.in_force_from is not None
        assert any(b.number == "1751-CV/ĐUK" and b.issued_on == date(2024, 4, 22)
                   for b in template.basis)
        for item in template.items:
            assert item.basis, item.key
            assert all(b.document and b.number and b.clause for b in item.basis), item.key
            assert item.due_source is not None, item.key
    h1 = STANDING.item("report-h1")
    assert {b.number for b in h1.basis} == {"1751-CV/ĐUK", "09/2019/NĐ-CP"}


def test_versions_round_trip_and_ignore_fields_a_newer_release_added() -> None:
    for template in DEFAULT_VERSIONS:
        assert Template.model_validate_json(template.model_dump_json()) == template
        body = template.model_dump(mode="json")
        body["items"][0]["basis"][0]["url"] = "https://example.org"
        body["items"][-1]["by_level"][0]["note"] = "x"
        body["successor"] = "cv-1751 v3"
        assert Template.model_validate(body) == template


def test_dated_rules_refuse_an_end_before_the_start_and_a_level_dated_twice() -> None:
    with pytest.raises(ValidationError, match="in_force_until cannot be before"):
        STANDING.model_validate(
            {**STANDING.model_dump(), "in_force_until": date(2024, 12, 31)}
        )
    twice = (LevelDates(level="grassroots", due=MonthDay(month=6, day=20)),) * 2
    with pytest.raises(ValidationError, match="dates a committee level twice"):
        STANDING.item("report-h1").model_validate(
            {**STANDING.item("report-h1").model_dump(), "by_level": twice}
        )


@given(
    year=years,
    start=st.dates(min_value=date(2023, 6, 1), max_value=date(2028, 6, 1)),
    length=st.integers(min_value=0, max_value=500),
    level=levels,
)
def test_an_obligation_is_owed_only_inside_the_days_in_force(
    year: int, start: date, length: int, level: str
) -> None:
    end = start + timedelta(days=length)
    template = STANDING.model_copy(update={"in_force_from": start, "in_force_until": end})
    owed = obligations(template, year, level)
    keys = {o.key for o in owed}
    for o in owed:
        assert start <= o.opens_on <= o.due_on <= end
        assert set(o.prerequisites) <= keys
    open_ended = STANDING.model_copy(update={"in_force_from": None})
    assert keys == {
        o.key for o in obligations(open_ended, year, level) if start <= o.due_on <= end
    }
