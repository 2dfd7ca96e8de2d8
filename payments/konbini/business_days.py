"""Japanese business days (営業日): not a Saturday, a Sunday or a public holiday (祝日・振替休日,
from the maintained ``holidays`` package) — the chains settle on business days (issue 14)."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays


@functools.cache
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Japan(years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_business_days(day: date, count: int) -> date:
    """The ``count``-th business day after ``day`` (2026-11-20, a Friday, + 3 → 2026-11-26: the
    weekend and 勤労感謝の日 on Monday 11-23 do not count)."""
    current = day
    while count > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            count -= 1
    return current


def latest_overdue_day(today: date, count: int) -> date:
    """The last sales day whose ``count`` business days have all passed before ``today``: a
    preliminary of that day or earlier without its final report is overdue."""
    day = today - timedelta(days=1)
    while add_business_days(day, count) >= today:
        day -= timedelta(days=1)
    return day
