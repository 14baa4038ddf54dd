"""Calendar rules: open and due dates, quarterly expansion, leap years, ladders."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.calendar import (
    HCM,
    cycle_start,
    due_instant,
    expand_keys,
    ladder_for,
    ladder_instants,
    obligations,
    resolve_day,
    shift_months,
    withdrawn_by_extension,
)
from domain.template import (
    DEFAULT_TEMPLATE,
    EvidenceKind,
    LadderStep,
    MonthDay,
    Rung,
    Stage,
    Template,
    TemplateItem,
)


def md(month: int, day: int, year_offset: int = 0) -> MonthDay:
    return MonthDay(month=month, day=day, year_offset=year_offset)


def item(key: str, due: MonthDay, **kwargs: object) -> TemplateItem:
    return TemplateItem(
        key=key, stage=Stage.REPORT, evidence=EvidenceKind.REPORT,
        title_vi=key, title_en=key, due=due, **kwargs,  # type: ignore[arg-type]
    )


def test_default_template_dates_for_2027() -> None:
    found = {
        o.key: (o.opens_on, o.due_on, o.prerequisites)
        for o in obligations(DEFAULT_TEMPLATE, 2027)
    }
    quarters = ("conference-q1", "conference-q2", "conference-q3", "conference-q4")
    assert found == {
        "plan": (date(2027, 1, 1), date(2027, 1, 31), ()),
        "disseminate": (date(2027, 1, 1), date(2027, 6, 30), ()),
        "roster": (date(2027, 1, 1), date(2027, 10, 31), ("plan",)),
        "conference-q1": (date(2027, 1, 1), date(2027, 3, 31), ("roster",)),
        "conference-q2": (date(2027, 4, 1), date(2027, 6, 30), ("roster",)),
        "conference-q3": (date(2027, 7, 1), date(2027, 9, 30), ("roster",)),
        "conference-q4": (date(2027, 10, 1), date(2027, 12, 31), ("roster",)),
        "review": (date(2027, 1, 1), date(2027, 11, 30), ()),
        "report-h1": (date(2027, 6, 1), date(2027, 6, 15), ()),
        "report-year": (date(2027, 12, 1), date(2027, 12, 15), ("review",)),
    }
    assert list(found)[2:7] == ["roster", *quarters]  # template order, occurrences in place
    assert expand_keys(DEFAULT_TEMPLATE)["conference"] == list(quarters)


def test_default_ladder_instants_in_hanoi() -> None:
    steps = ladder_for(DEFAULT_TEMPLATE, "plan")
    assert ladder_instants(steps, date(2027, 1, 31)) == [
        (Rung.REMINDER, datetime(2027, 1, 25, tzinfo=HCM)),
        (Rung.OVERDUE, datetime(2027, 2, 1, tzinfo=HCM)),
        (Rung.PARENT, datetime(2027, 2, 8, tzinfo=HCM)),
        (Rung.BOARD, datetime(2027, 2, 15, tzinfo=HCM)),
    ]
    assert due_instant(date(2027, 12, 31)) == datetime(2028, 1, 1, tzinfo=HCM)
    assert cycle_start(2027) == datetime(2027, 1, 1, tzinfo=HCM)
    assert cycle_start(2027).utcoffset() is not None


def test_an_extension_withdraws_the_reached_rungs_whose_new_instant_is_ahead() -> None:
    steps = ladder_for(DEFAULT_TEMPLATE, "plan")
    reached = {Rung.REMINDER, Rung.OVERDUE, Rung.PARENT}
    # Due 31 Jan moved to 10 Feb on 9 Feb noon: reminder (4 Feb) stays; overdue (11 Feb) and
    # parent (18 Feb) go, lowest first; board was never reached.
    at = datetime(2027, 2, 9, 12, tzinfo=HCM)
    assert withdrawn_by_extension(steps, reached, date(2027, 2, 10), at) == [
        Rung.OVERDUE, Rung.PARENT,
    ]
    # Overdue's new instant (8 Feb, 00:00) is exactly now: it has come, so the rung stands.
    now = datetime(2027, 2, 8, tzinfo=HCM)
    assert withdrawn_by_extension(steps, reached, date(2027, 2, 7), now) == [
        Rung.PARENT,
    ]
    assert withdrawn_by_extension(steps, set(), date(2027, 12, 1), at) == []


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2027, date(2027, 2, 28)), (2028, date(2028, 2, 29)),
     (2100, date(2100, 2, 28)), (2000, date(2000, 2, 29))],
)
def test_a_day_past_the_month_end_clamps_to_its_last_day(year: int, expected: date) -> None:
    assert resolve_day(md(2, 31), year) == expected
    template = Template(items=(item("leap", md(2, 31)),))
    [obligation] = obligations(template, year)
    assert obligation.due_on == expected


def test_year_offsets_and_month_shifts() -> None:
    assert resolve_day(md(1, 15, year_offset=1), 2027) == date(2028, 1, 15)
    assert shift_months(md(11, 30), 3) == md(2, 30, year_offset=1)
    assert resolve_day(shift_months(md(11, 30), 3), 2027) == date(2028, 2, 29)


def test_quarterly_items_expand_into_four_occurrences() -> None:
    template = Template(
        items=(
            item("base", md(1, 10)),
            item(
                "check", md(2, 28), opens=md(2, 1), recurrence="quarterly",
                prerequisites=("base",),
            ),
            item("after", md(12, 20), prerequisites=("check",)),
        )
    )
    found = {o.key: o for o in obligations(template, 2027)}
    checks = [o for o in found.values() if o.item_key == "check"]
    assert [(o.occurrence, o.opens_on, o.due_on) for o in checks] == [
        (1, date(2027, 2, 1), date(2027, 2, 28)),
        (2, date(2027, 5, 1), date(2027, 5, 28)),
        (3, date(2027, 8, 1), date(2027, 8, 28)),
        (4, date(2027, 11, 1), date(2027, 11, 28)),
    ]
    assert found["check-q3"].prerequisites == ("base",)
    # A prerequisite on a recurring item means all of its occurrences.
    assert found["after"].prerequisites == ("check-q1", "check-q2", "check-q3", "check-q4")


def test_an_open_day_after_the_due_day_opens_on_the_due_day() -> None:
    template = Template(items=(item("odd", md(3, 1), opens=md(5, 1)),))
    [obligation] = obligations(template, 2027)
    assert obligation.opens_on == obligation.due_on == date(2027, 3, 1)


def test_an_item_ladder_overrides_the_template_ladder_and_is_sorted() -> None:
    own = (
        LadderStep(rung=Rung.BOARD, offset_days=30),
        LadderStep(rung=Rung.REMINDER, offset_days=-3),
        LadderStep(rung=Rung.OVERDUE, offset_days=0),
    )
    template = Template(items=(item("custom", md(4, 30), ladder=own), item("plain", md(4, 30))))
    assert [s.rung for s in ladder_for(template, "custom")] == [
        Rung.REMINDER, Rung.OVERDUE, Rung.BOARD,
    ]
    assert ladder_for(template, "plain") == template.ladder
    assert ladder_instants(ladder_for(template, "custom"), date(2027, 4, 30))[0] == (
        Rung.REMINDER, datetime(2027, 4, 28, tzinfo=HCM),
    )
