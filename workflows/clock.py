"""The cycle's calendar: real workflow time, or a time-scaled rehearsal of it.

Pure arithmetic on datetimes, so the workflow and the tests share one definition of
"calendar now" and of how long to wait, in real time, for a calendar instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from domain.calendar import HCM, cycle_start

SECONDS_PER_DAY = 86_400
END_OF_CALENDAR = datetime(9999, 12, 30, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True)
class CalendarClock:
    """Maps real (workflow) instants to calendar instants and back.

    Unscaled (`seconds_per_day` None): the calendar is real time in the template's zone.
    Scaled: at real instant `started` the calendar reads `origin`, and each real
    `seconds_per_day` seconds is one calendar day.
    """

    started: datetime
    origin: datetime
    seconds_per_day: float | None = None
    tz: tzinfo = HCM

    @classmethod
    def for_cycle(
        cls,
        *,
        year: int,
        started: datetime,
        seconds_per_day: float | None,
        calendar_origin: datetime | None = None,
    ) -> CalendarClock:
        """The clock of one cycle; a scaled cycle starts on its year's first instant by default."""
        if seconds_per_day is None:
            return cls(started=started, origin=started)
        if seconds_per_day <= 0:
            raise ValueError("seconds_per_day must be positive")
        origin = calendar_origin if calendar_origin is not None else cycle_start(year)
        if origin.tzinfo is None:
            raise ValueError("calendar_origin must be timezone-aware")
        return cls(started=started, origin=origin, seconds_per_day=seconds_per_day)

    @property
    def scaled(self) -> bool:
        return self.seconds_per_day is not None

    def calendar_at(self, real: datetime) -> datetime:
        """The calendar instant at a real instant."""
        if self.seconds_per_day is None:
            return real.astimezone(self.tz)
        factor = SECONDS_PER_DAY / self.seconds_per_day
        try:
            return (self.origin + (real - self.started) * factor).astimezone(self.tz)
        except OverflowError:
            # A scaled cycle left running long enough (a year at 0.1 s a day, weeks on end)
            # would pass datetime's last year and fail every workflow task from then on; its
            # calendar stops at the end of time instead, past every due date.
            return END_OF_CALENDAR.astimezone(self.tz)

    def real_at(self, calendar: datetime) -> datetime:
        """The real instant at which the calendar reads `calendar`."""
        if self.seconds_per_day is None:
            return calendar
        factor = SECONDS_PER_DAY / self.seconds_per_day
        return self.started + (calendar - self.origin) / factor

    def real_wait(self, calendar: datetime, *, real_now: datetime) -> timedelta:
        """How long to wait from `real_now` until the calendar reads `calendar`.

        Zero when it already has. Rounded up to whole milliseconds, so that a timer of this
        length never wakes a hair before the instant.
        """
        remaining = self.real_at(calendar) - real_now
        if remaining <= timedelta(0):
            return timedelta(0)
        return -(-remaining // _MILLISECOND) * _MILLISECOND
