"""The rules a year's calendar must keep, checked over a template's obligations.

- No obligation falls due before one of its prerequisites (it would open late and climb).
- A report opens and falls due after the last day of the period it counts (domain.periods).
- A grassroots committee's report falls due before its upper committee's, which compiles it.
- A quarterly occurrence opens and falls due inside its own quarter.
"""

from __future__ import annotations

from typing import get_args

from domain.calendar import Obligation, obligations
from domain.periods import quarter_days, report_period
from domain.template import Level, Template

LEVELS: tuple[Level, ...] = get_args(Level)


def _by_key(found: list[Obligation]) -> dict[str, Obligation]:
    return {o.key: o for o in found}


def faults(template: Template, year: int) -> list[str]:
    """Every rule the template's obligations of `year` break, at every committee level."""
    found: list[str] = []
    owed = {level: _by_key(obligations(template, year, level)) for level in LEVELS}
    for level, table in owed.items():
        for o in table.values():
            item = template.item(o.item_key)
            for key in o.prerequisites:
                if table[key].due_on > o.due_on:
                    found.append(
                        f"{level} {year}: {o.key} is due {o.due_on} before its prerequisite "
                        f"{key} ({table[key].due_on})"
                    )
            if item.period is not None:
                _, cut_off = report_period(item.period, year)
                if o.opens_on <= cut_off or o.due_on <= cut_off:
                    found.append(
                        f"{level} {year}: {o.key} opens {o.opens_on}, due {o.due_on}, not after "
                        f"its period's last day {cut_off}"
                    )
            if item.recurrence == "quarterly":
                first, last = quarter_days(year, o.occurrence)
                if not (first <= o.opens_on and o.due_on <= last):
                    found.append(
                        f"{level} {year}: {o.key} ({o.opens_on} to {o.due_on}) is not inside "
                        f"quarter {o.occurrence} ({first} to {last})"
                    )
    grassroots, upper = owed["grassroots"], owed["upper"]
    for key, o in grassroots.items():
        if template.item(o.item_key).period is not None and key in upper:
            if o.due_on >= upper[key].due_on:
                found.append(
                    f"{year}: grassroots {key} due {o.due_on} is not before the upper "
                    f"committee's ({upper[key].due_on}), which compiles it"
                )
    return found
