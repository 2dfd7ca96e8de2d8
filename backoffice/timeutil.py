"""Time in Asia/Tokyo. "Day N" deadlines end at 23:59:59 JST of that calendar day (SPEC §1)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

JST = ZoneInfo("Asia/Tokyo")


def now() -> datetime:
    return timezone.now()


def local(dt: datetime) -> datetime:
    return dt.astimezone(JST)


def end_of_day_after(start: datetime, days: int) -> datetime:
    """23:59:59 JST on (the JST calendar date of ``start``) + ``days``."""
    day = local(start).date() + timedelta(days=days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=JST)


def stamp(dt: datetime | None) -> str:
    """``2026/12/01 09:30`` in JST (a record's name in the admin: ``__str__``); "—" when unset."""
    return local(dt).strftime("%Y/%m/%d %H:%M") if dt else "—"
