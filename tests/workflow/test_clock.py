"""The cycle's calendar clock: unscaled and time-scaled arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import HCM
from workflows.clock import CalendarClock

STARTED = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def test_unscaled_calendar_is_real_time_in_hanoi() -> None:
    clock = CalendarClock.for_cycle(year=2027, started=STARTED, seconds_per_day=None)
    assert not clock.scaled
    now = STARTED + timedelta(days=40)
    assert clock.calendar_at(now) == now
    assert clock.calendar_at(now).tzinfo is HCM
    target = datetime(2027, 1, 1, tzinfo=HCM)
    assert clock.real_wait(target, real_now=STARTED) == target - STARTED
    assert clock.real_wait(target, real_now=target + timedelta(seconds=1)) == timedelta(0)


def test_scaled_calendar_starts_at_the_cycle_year_and_runs_one_day_per_period() -> None:
    clock = CalendarClock.for_cycle(year=2027, started=STARTED, seconds_per_day=2.0)
    assert clock.calendar_at(STARTED) == datetime(2027, 1, 1, tzinfo=HCM)
    assert clock.calendar_at(STARTED + timedelta(seconds=3)) == datetime(2027, 1, 2, 12, tzinfo=HCM)
    due = datetime(2027, 2, 1, tzinfo=HCM)  # 31 days in
    assert clock.real_at(due) == STARTED + timedelta(seconds=62)
    assert clock.real_wait(due, real_now=STARTED + timedelta(seconds=2)) == timedelta(seconds=60)
    assert clock.calendar_at(clock.real_at(due)) == due


def test_scaled_calendar_honours_an_explicit_origin() -> None:
    origin = datetime(2027, 6, 1, 8, tzinfo=HCM)
    clock = CalendarClock.for_cycle(
        year=2027, started=STARTED, seconds_per_day=10.0, calendar_origin=origin
    )
    assert clock.calendar_at(STARTED + timedelta(seconds=5)) == origin + timedelta(hours=12)
    with pytest.raises(ValueError, match="timezone-aware"):
        CalendarClock.for_cycle(
            year=2027, started=STARTED, seconds_per_day=1.0,
            calendar_origin=datetime(2027, 1, 1),
        )


def test_waits_round_up_to_whole_milliseconds() -> None:
    clock = CalendarClock.for_cycle(year=2027, started=STARTED, seconds_per_day=0.3)
    target = datetime(2027, 1, 1, 0, 0, 1, tzinfo=HCM)  # 1/86400 day: 3.47 µs of real time
    wait = clock.real_wait(target, real_now=STARTED)
    assert wait == timedelta(milliseconds=1)
    assert clock.calendar_at(STARTED + wait) >= target


def test_a_scaled_calendar_left_running_stops_at_the_end_of_time_instead_of_failing() -> None:
    clock = CalendarClock.for_cycle(year=2027, started=STARTED, seconds_per_day=0.001)
    weeks_later = STARTED + timedelta(weeks=6)  # 3.6 billion calendar days at 0.001 s a day
    assert clock.calendar_at(weeks_later) == datetime(9999, 12, 30, tzinfo=UTC)
    assert clock.calendar_at(weeks_later).tzinfo is HCM
