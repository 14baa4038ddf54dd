"""Pure calendar rules: when each obligation opens, falls due, and climbs its ladder."""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from domain.template import LadderStep, MonthDay, Rung, Template, TemplateItem

QUARTER_NUMERALS = ("I", "II", "III", "IV")

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
    title_vi: str
    title_en: str


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


def _occurrences(
    item: TemplateItem, level: str | None = None
) -> list[tuple[int, str, MonthDay | None, MonthDay]]:
    opens, due = item.dates_for(level)
    if item.recurrence == "once":
        return [(1, item.key, opens, due)]
    return [
        (
            q,
            f"{item.key}-q{q}",
            shift_months(opens, 3 * (q - 1)) if opens else None,
            shift_months(due, 3 * (q - 1)),
        )
        for q in range(1, 5)
    ]


def title(text: str, *, year: int, quarter: int | None = None) -> str:
    """A template title with its `{year}`, `{quarter}` and `{quarter_roman}` filled in."""
    text = text.replace("{year}", str(year))
    if quarter is not None:
        text = text.replace("{quarter_roman}", QUARTER_NUMERALS[quarter - 1])
        text = text.replace("{quarter}", str(quarter))
    return text


def _in_force_days(item: TemplateItem, template: Template) -> tuple[date | None, date | None]:
    return (
        item.in_force_from or template.in_force_from,
        item.in_force_until or template.in_force_until,
    )


def expand_keys(template: Template) -> dict[str, list[str]]:
    """Every item key mapped to the obligation keys it expands into."""
    return {item.key: [key for _, key, _, _ in _occurrences(item)] for item in template.items}


def obligations(template: Template, year: int, level: str | None = None) -> list[Obligation]:
    """Every obligation of a cycle year for a committee level, in template order.

    `level` picks an item's dates for that level (`TemplateItem.by_level`); None, or a level
    the item does not name, takes the item's own. An occurrence due outside the item's days in
    force is not owed; one that falls due in them opens no earlier than their first day.
    A prerequisite on a recurring item means every one of its owed occurrences.
    A recurring item without its own open rule opens each occurrence at the end of the previous one.
    """
    planned: list[tuple[TemplateItem, int, str, date, date]] = []
    for item in template.items:
        first, last = _in_force_days(item, template)
        previous_due: date | None = None
        for occurrence, key, opens_rule, due_rule in _occurrences(item, level):
            due_on = resolve_day(due_rule, year)
            if opens_rule is not None:
                opens_on = resolve_day(opens_rule, year)
            elif previous_due is not None:
                opens_on = previous_due + timedelta(days=1)
            else:
                opens_on = date(year, 1, 1)
            previous_due = due_on
            if (first is not None and due_on < first) or (last is not None and due_on > last):
                continue
            if first is not None:
                opens_on = max(opens_on, first)
            planned.append((item, occurrence, key, min(opens_on, due_on), due_on))
    owed: dict[str, list[str]] = {item.key: [] for item in template.items}
    for item, _, key, _, _ in planned:
        owed[item.key].append(key)
    result: list[Obligation] = []
    for item, occurrence, key, opens_on, due_on in planned:
        quarter = occurrence if item.recurrence == "quarterly" else None
        result.append(
            Obligation(
                key=key, item_key=item.key, occurrence=occurrence,
                opens_on=opens_on, due_on=due_on,
                prerequisites=tuple(k for pre in item.prerequisites for k in owed[pre]),
                title_vi=title(item.title_vi, year=year, quarter=quarter),
                title_en=title(item.title_en, year=year, quarter=quarter),
            )
        )
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


def withdrawn_by_extension(
    steps: tuple[LadderStep, ...], reached: Iterable[Rung], new_due_on: date, at: datetime,
    tz: ZoneInfo = HCM,
) -> list[Rung]:
    """The reached rungs that moving the due date to `new_due_on` at `at` takes back, lowest
    first: those whose instant under the new date is still ahead. A reached rung the ladder
    does not hold stays. The workflow decides with this; the backend applies what it sends.
    """
    held = set(reached)
    return [
        rung for rung, instant in ladder_instants(steps, new_due_on, tz)
        if rung in held and instant > at
    ]
