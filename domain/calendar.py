"""Pure calendar rules: when each obligation opens, falls due, and climbs its ladder."""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from domain.template import LadderStep, MonthDay, Rung, Template, TemplateItem

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


class Obligation(BaseModel):
    """One concrete task of one cycle: an item, or one occurrence of a recurring item."""

    model_config = ConfigDict(frozen=True)

    key: str
    item_key: str
    occurrence: int
    opens_on: date
    due_on: date
    prerequisites: tuple[str, ...]


def resolve_day(rule: MonthDay, year: int) -> date:
    """The date a rule names in a cycle year; days past the month's end clamp to its last day."""
    y = year + rule.year_offset
    last = _calendar.monthrange(y, rule.month)[1]
    return date(y, rule.month, min(rule.day, last))


def shift_months(rule: MonthDay, months: int) -> MonthDay:
    index = rule.month - 1 + months
    return MonthDay(
        month=index % 12 + 1, day=rule.day, year_offset=rule.year_offset + index // 12
    )


def start_of_day(day: date, tz: ZoneInfo = HCM) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def due_instant(due_on: date, tz: ZoneInfo = HCM) -> datetime:
    """A task due on day D is late from the first instant of D+1 in the template's zone."""
    return start_of_day(due_on + timedelta(days=1), tz)


def cycle_start(year: int, tz: ZoneInfo = HCM) -> datetime:
    return start_of_day(date(year, 1, 1), tz)


def _occurrences(item: TemplateItem) -> list[tuple[int, str, MonthDay | None, MonthDay]]:
    if item.recurrence == "once":
        return [(1, item.key, item.opens, item.due)]
    return [
        (
            q,
            f"{item.key}-q{q}",
            shift_months(item.opens, 3 * (q - 1)) if item.opens else None,
            shift_months(item.due, 3 * (q - 1)),
        )
        for q in range(1, 5)
    ]


def expand_keys(template: Template) -> dict[str, list[str]]:
    """Every item key mapped to the obligation keys it expands into."""
    return {item.key: [key for _, key, _, _ in _occurrences(item)] for item in template.items}


def obligations(template: Template, year: int) -> list[Obligation]:
    """Every obligation of a cycle year, in template order.

    A prerequisite on a recurring item means every one of its occurrences.
    A recurring item without its own open rule opens each occurrence at the end of the previous one.
    """
    expanded = expand_keys(template)
    result: list[Obligation] = []
    for item in template.items:
        previous_due: date | None = None
        prerequisites = tuple(k for pre in item.prerequisites for k in expanded[pre])
        for occurrence, key, opens_rule, due_rule in _occurrences(item):
            due_on = resolve_day(due_rule, year)
            if opens_rule is not None:
                opens_on = resolve_day(opens_rule, year)
            elif previous_due is not None:
                opens_on = previous_due + timedelta(days=1)
            else:
                opens_on = date(year, 1, 1)
            opens_on = min(opens_on, due_on)
            result.append(
                Obligation(
                    key=key, item_key=item.key, occurrence=occurrence,
                    opens_on=opens_on, due_on=due_on, prerequisites=prerequisites,
                )
            )
            previous_due = due_on
    return result


def ladder_for(template: Template, item_key: str) -> tuple[LadderStep, ...]:
    item = template.item(item_key)
    steps = item.ladder if item.ladder is not None else template.ladder
    return tuple(sorted(steps, key=lambda s: s.offset_days))


def ladder_instants(
    steps: tuple[LadderStep, ...], due_on: date, tz: ZoneInfo = HCM
) -> list[tuple[Rung, datetime]]:
    """The instant of every rung for a task due on `due_on`, earliest first."""
    deadline = due_instant(due_on, tz)
    return [(s.rung, deadline + timedelta(days=s.offset_days)) for s in steps]
