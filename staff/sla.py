"""How long each work queue may keep a person waiting (issue 17: a night shift works oldest first
and sees at a glance what is overdue). One place per queue; the dashboard and the lists read it.

The figures are the support team's service levels, not the SPEC's: a customer waiting for a call
is the most urgent, a high-priority report (an order the customer did not place) next.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from backoffice.timeutil import now

SLA: dict[str, timedelta] = {
    "callbacks": timedelta(hours=2),
    "reports_high": timedelta(hours=4),
    "reports_normal": timedelta(hours=24),
    "on_hold": timedelta(hours=12),
    "failed_refunds": timedelta(hours=24),
    "pickups_locked": timedelta(hours=24),
    "seller_closures": timedelta(days=3),
    "transfers_ready": timedelta(days=1),
}


def report_queue(priority: int) -> str:
    return "reports_high" if priority >= 2 else "reports_normal"


def overdue_before(queue: str, at: datetime | None = None) -> datetime:
    """Items of ``queue`` waiting since before this moment are overdue."""
    return (at or now()) - SLA[queue]


def is_overdue(queue: str, since: datetime | None, at: datetime | None = None) -> bool:
    return bool(since) and queue in SLA and since < overdue_before(queue, at)


def age_words(since: datetime | None, at: datetime | None = None) -> str:
    """3日4時間 / 2時間15分 / 8分: how long something has waited, in the active language."""
    if not since:
        return "—"
    seconds = max(0, int(((at or now()) - since).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return _("%(d)s日%(h)s時間") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s時間%(m)s分") % {"h": hours, "m": minutes}
    return _("%(m)s分") % {"m": minutes}


def sla_words(queue: str) -> str:
    hours = int(SLA[queue].total_seconds() // 3600)
    return _("目安 %(h)s時間以内") % {"h": hours}
