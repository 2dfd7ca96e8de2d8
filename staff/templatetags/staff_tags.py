"""Display helpers for the console: JST dates, yen with separators, permission checks."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backoffice.timeutil import local
from fraud import rules
from payments import gateway_errors
from shop import events
from staff import labels, permissions, sla

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
    if translation.get_language() == "en":
        return f"¥{intcomma(value)}"
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


# (page, url name, label, the key after "g" that opens it) in menu order; only pages the user's
# group may open are shown. The keys are read by staff/static/staff/shortcuts.js from the menu
# and listed in its help overlay (「?」), so a page a group cannot open has no shortcut either.
NAV = [
    ("dashboard", "staff:dashboard", _("ダッシュボード"), "d"),
    ("callbacks", "staff:callbacks", _("折り返し電話"), "c"),
    ("review_queue", "staff:review_queue", _("審査キュー"), "h"),
    ("reports", "staff:reports", _("不正報告"), "r"),
    ("pickups", "staff:pickups", _("コンビニ受取"), "p"),
    ("failed_refunds", "staff:failed_refunds", _("失敗した返金"), "f"),
    ("transfer_batches", "staff:transfers", _("振込バッチ"), "t"),
    ("settlement", "staff:settlement", _("入金照合"), "s"),
    ("seller_closures", "staff:seller_closures", _("出品者の閉鎖依頼"), "x"),
    ("addresses", "staff:addresses", _("代引き停止の住所"), "b"),
    ("activity", "staff:activity", _("操作履歴"), "a"),
    ("webhooks", "staff:webhooks", _("Webhook"), "w"),
]


@register.simple_tag(takes_context=True)
def staff_nav(context) -> list[dict]:
    user = context["request"].user
    current = getattr(context["request"], "staff_page", "")
    return [{"url": reverse(name), "label": label, "active": page == current, "key": key}
            for page, name, label, key in NAV if permissions.can_view(user, page)]


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


@register.filter
def age(since: datetime | None) -> str:
    """How long it has waited (``staff.sla.age_words``)."""
    return sla.age_words(since)


@register.filter
def overdue(since: datetime | None, queue: str) -> str:
    """``overdue`` (a CSS class) when ``since`` is past the queue's SLA (``staff.sla``)."""
    return "overdue" if sla.is_overdue(queue, since) else ""


@register.filter
def report_overdue(report) -> str:
    return "overdue" if report.is_open and sla.is_overdue(sla.report_queue(report.priority), report.created_at) else ""


@register.simple_tag
def sla_of(queue: str) -> str:
    return sla.sla_words(queue)


@register.filter
def get_list(mapping: dict, key) -> list:
    return mapping.get(key, []) if mapping else []


@register.filter
def translate_label(value) -> str:
    """A model's choice label (written in Japanese in the model) in the active language."""
    return gettext(str(value)) if value else ""


# What each console action is called in the activity log (keys of ``permissions.ACTIONS``).
ACTION_LABELS = {
    "cancel": _("キャンセル"), "refund": _("返品の返金"), "claim_callback": _("折り返し電話の担当"),
    "complete_callback": _("折り返し電話の完了"), "retry_refund": _("返金の再試行"),
    "download_batch": _("振込ファイルのダウンロード"), "mark_transferred": _("振込完了"),
    "resend_pickup_notice": _("受取案内の再送"), "unlock_pickup": _("受取ロックの解除"),
    "approve_hold": _("審査承認"), "reject_hold": _("審査却下"), "secure_account": _("アカウント保護"),
    "suspend_customer": _("利用停止"), "reinstate_customer": _("利用再開"), "report_check": _("チェック項目の完了"),
    "report_uncheck": _("チェック項目の取り消し"),
    "report_start": _("報告の対応開始"), "report_resolve": _("報告の解決"), "report_dismiss": _("報告の終了（対応不要）"),
    "close_customer": _("退会手続き"), "adjust_points": _("ポイント調整"), "seller_closure_check": _("閉鎖チェック"),
    "close_seller": _("出品者の閉鎖"), "issue_receipt": _("領収書の発行"), "add_note": _("社内メモ"),
    "block_address": _("代引き停止"), "lift_address_block": _("代引き停止の解除"),
}


@register.filter
def action_label(name: str) -> str:
    return str(ACTION_LABELS.get(name, name))


@register.simple_tag(takes_context=True)
def csv_url(context) -> str:
    """This list under its current filters, as CSV (``staff.exports``)."""
    params = context["request"].GET.copy()
    params.pop("page", None)
    params["format"] = "csv"
    return "?" + params.urlencode()


@register.filter
def report_event(kind: str) -> str:
    """A report timeline entry's kind in words (``staff.labels.REPORT_EVENT_KINDS``)."""
    return str(labels.REPORT_EVENT_KINDS.get(kind, kind))


@register.inclusion_tag("staff/_gateway_error.html")
def gateway_error(code: str, raw: str = "") -> dict:
    """A card-gateway failure in words (``payments.gateway_errors``), its code in small print and
    the gateway's own text on hover (or in small print when the code is not known)."""
    text = gateway_errors.describe(code)
    return {"text": text, "code": code, "raw": raw, "known": gateway_errors.has_own_words(code)}
