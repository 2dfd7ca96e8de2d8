"""The maintenance calendar of the payment-instructions page (SPEC §3, seed 003).

Seed 003: 「お支払い方法について」のページは定期メンテナンスなどにより、1月や3月など奇数月の
第3木曜日午前3時から午前5時はアクセスすることが出来ない場合があります。Only that page/endpoint
is closed; the chains' confirmations keep working.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from backoffice.errors import DomainError
from backoffice.timeutil import JST, local

# seed 003: odd months (1月や3月など奇数月), the 3rd Thursday, 03:00–05:00 JST.
MAINTENANCE_MONTHS = frozenset({1, 3, 5, 7, 9, 11})
MAINTENANCE_WEEKDAY = 3  # Thursday (Monday = 0)
MAINTENANCE_NTH_WEEKDAY = 3
MAINTENANCE_START = time(3, 0)
MAINTENANCE_END = time(5, 0)


@dataclass(frozen=True)
class MaintenanceWindow:
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def seconds_left(self, moment: datetime) -> int:
        """Seconds from ``moment`` until the page opens again (for ``Retry-After``)."""
        return max(1, math.ceil((self.end - moment).total_seconds()))

    @property
    def label(self) -> str:
        """「2026年11月19日（木）3:00〜5:00」 for the staff pages and the notice."""
        s = local(self.start)
        return f"{s.year}年{s.month}月{s.day}日（木）{s:%-H:%M}〜{local(self.end):%-H:%M}"


def window_in_month(year: int, month: int) -> MaintenanceWindow | None:
    """The month's window, or None in an even month."""
    if month not in MAINTENANCE_MONTHS:
        return None
    first = date(year, month, 1)
    offset = (MAINTENANCE_WEEKDAY - first.weekday()) % 7
    day = first + timedelta(days=offset + 7 * (MAINTENANCE_NTH_WEEKDAY - 1))
    return MaintenanceWindow(datetime.combine(day, MAINTENANCE_START, tzinfo=JST),
                             datetime.combine(day, MAINTENANCE_END, tzinfo=JST))


def current_window(moment: datetime) -> MaintenanceWindow | None:
    jst = local(moment)
    window = window_in_month(jst.year, jst.month)
    return window if window is not None and window.contains(moment) else None


def next_maintenance_window(moment: datetime) -> MaintenanceWindow:
    """The window in progress at ``moment``, else the next one (for the staff pages)."""
    jst = local(moment)
    year, month = jst.year, jst.month
    for _ in range(3):  # an odd month is at most two months away
        window = window_in_month(year, month)
        if window is not None and moment < window.end:
            return window
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: an odd month always comes within three months")  # pragma: no cover


def ensure_instructions_available(moment: datetime) -> None:
    """503 ``maintenance`` with ``Retry-After`` while the payment-instructions page is closed."""
    window = current_window(moment)
    if window is None:
        return
    raise DomainError(
        "ただいま定期メンテナンス中のため、お支払い方法のページをご利用いただけません"
        "（%(window)s）。午前%(hour)s時以降に再度お試しください。"
        "すでに発行済みのお支払い番号は、メンテナンス中もコンビニでお支払いいただけます。",
        params={"window": window.label, "hour": local(window.end).hour},
        code="maintenance", status=503, headers={"Retry-After": str(window.seconds_left(moment))},
    )
