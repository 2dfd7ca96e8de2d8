"""Display helpers for the console: JST dates, yen with separators, permission checks."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from backoffice.timeutil import local
from fraud import rules
from shop import events
from staff import permissions

register = template.Library()


@register.filter
def jst(value: datetime | None, fmt: str = "%Y/%m/%d %H:%M") -> str:
    """An aware datetime in Asia/Tokyo, whatever time zone is active."""
    if not value:
        return "—"
    return local(value).strftime(fmt)


@register.filter
def jst_date(value: datetime | None) -> str:
    return jst(value, "%m/%d")


@register.filter
def jst_time(value: datetime | None) -> str:
    return jst(value, "%H:%M")


@register.filter
def yen(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{intcomma(value)}円"


@register.filter
def risk_holds(score: int | None) -> bool:
    """The score puts an order on hold (``fraud.rules.RISK_HOLD_AT``): shown as high."""
    return score is not None and score >= rules.RISK_HOLD_AT


@register.simple_tag
def risk_max() -> int:
    return rules.RISK_MAX


@register.simple_tag(takes_context=True)
def can_view(context, page: str) -> bool:
    return permissions.can_view(context["request"].user, page)


@register.simple_tag(takes_context=True)
def can_run(context, action: str) -> bool:
    return permissions.can_run(context["request"].user, action)


# (page, url name, label) in menu order; only pages the user's group may open are shown.
NAV = [
    ("dashboard", "staff:dashboard", _("ダッシュボード")),
    ("callbacks", "staff:callbacks", _("折り返し電話")),
    ("review_queue", "staff:review_queue", _("審査キュー")),
    ("reports", "staff:reports", _("不正報告")),
    ("pickups", "staff:pickups", _("コンビニ受取")),
    ("failed_refunds", "staff:failed_refunds", _("失敗した返金")),
    ("transfer_batches", "staff:transfers", _("振込バッチ")),
    ("seller_closures", "staff:seller_closures", _("出品者の閉鎖依頼")),
    ("webhooks", "staff:webhooks", _("Webhook")),
]


@register.simple_tag(takes_context=True)
def staff_nav(context) -> list[dict]:
    user = context["request"].user
    current = getattr(context["request"], "staff_page", "")
    return [{"url": reverse(name), "label": label, "active": page == current}
            for page, name, label in NAV if permissions.can_view(user, page)]


@register.filter
def get(mapping: dict, key):
    return mapping.get(key, key) if mapping else key


@register.filter
def event_text(event) -> str:
    """An order event's details in the active language (``shop.events.describe``)."""
    return events.describe(event)


@register.filter
def phone(value: str | None) -> str:
    """+819012345678 (as stored, SPEC §2) → 090-1234-5678, as people read it."""
    if not value:
        return ""
    if not value.startswith("+81"):
        return value
    national = "0" + value[3:]
    if len(national) == 11:  # mobile and 050: 3-4-4
        return f"{national[:3]}-{national[3:7]}-{national[7:]}"
    if len(national) == 10:  # landline: 2-4-4 (Tokyo/Osaka style; area codes vary)
        return f"{national[:2]}-{national[2:6]}-{national[6:]}"
    return national
