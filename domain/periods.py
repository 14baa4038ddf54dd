"""Report periods: which days a 6-month or an annual report counts.

Yearwheel follows the reporting cut-off of Decree 09/2019/NĐ-CP, Art. 12, which state bodies
use and party committees commonly follow (../shared/DOMAIN.md): a 6-month report counts from
15 December of the previous year to 14 June, an annual report from 15 December of the previous
year to 14 December. Both periods end inside the cycle year, so a committee's year closes in
December, and every report falls due after the last day it counts.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

ReportPeriod = Literal["h1", "year"]

PERIOD_BASIS = "Nghị định 09/2019/NĐ-CP, Điều 12"


def quarter_days(year: int, quarter: int) -> tuple[date, date]:
    """The first and last day of a quarter (1-4) of `year`."""
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, date.fromordinal(after.toordinal() - 1)


def report_period(period: ReportPeriod, year: int) -> tuple[date, date]:
    """The first and last day (both counted) a report of `period` in cycle `year` covers."""
    start = date(year - 1, 12, 15)
    end = date(year, 6, 14) if period == "h1" else date(year, 12, 14)
    return start, end
